// Runs in main and the browser-mode server. Handlers for the reader's feedback. A save is
// acknowledged only after its transaction (row + audit row) has committed.
import type { Store } from '../store/repositories';
import type { Handlers } from './dispatch';

export function feedbackHandlers(store: Store): Pick<Handlers, 'feedback.save' | 'feedback.latest'> {
  return {
    'feedback.save': async (input, ctx) => store.saveFeedback(input, ctx.reader),
    'feedback.latest': async ({ imageId }, ctx) => store.latestFeedback(imageId, ctx.reader),
  };
}
