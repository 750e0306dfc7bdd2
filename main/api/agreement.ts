// Runs in main and the browser-mode server. Agreement between readers and with the model, the
// adjudication queue, and how the model's CAM matches the regions readers drew (researcher view).
import type { ReviewStore } from '../store/reviews';
import type { Handlers } from './dispatch';

export function agreementHandlers(reviews: ReviewStore): Pick<Handlers, 'agreement.summary' | 'adjudication.queue' | 'adjudication.decide' | 'research.camOverlap'> {
  return {
    'agreement.summary': async () => reviews.agreement(),
    'adjudication.queue': async () => reviews.adjudicationQueue(),
    'adjudication.decide': async (input, ctx) => reviews.decide(input, ctx.reader),
    'research.camOverlap': async () => reviews.camOverlap(),
  };
}
