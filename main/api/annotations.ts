// Runs in main and the browser-mode server. The reader's per-label review of a case with its
// regions (boxes, polygons, points), signing, and every reader's latest review of a case.
import type { ModelRegistry } from '../inference/registry';
import type { ReviewStore } from '../store/reviews';
import type { Handlers } from './dispatch';
import { imageFor, type StudiesDeps } from './studies';

export interface AnnotationDeps extends StudiesDeps {
  reviews: ReviewStore;
  registry: ModelRegistry;
  activeModel: () => { id: string; version: string } | null;
}

/** The labels a review may use: those of the result it refers to, else of the active model. */
export async function labelsFor(deps: AnnotationDeps, resultId: number | null): Promise<string[]> {
  if (resultId !== null) {
    const result = deps.store.result(resultId);
    if (result) return result.findings.map((f) => f.labelId);
  }
  try {
    return (await deps.registry.active(deps.activeModel())).card.labels.map((l) => l.id);
  } catch {
    return [];
  }
}

/** Images indexed before the size columns existed are re-read once so regions can be checked. */
export async function ensureImageSize(deps: AnnotationDeps, imageId: string, reader: string): Promise<void> {
  if (deps.store.imageSize(imageId)) return;
  const filePath = deps.store.imagePath(imageId);
  if (!filePath) return;
  const image = await imageFor(deps, imageId);
  deps.store.recordImage(image.info, filePath, reader);
}

export function annotationHandlers(deps: AnnotationDeps): Pick<Handlers, 'review.save' | 'review.get' | 'review.all' | 'review.history'> {
  return {
    'review.save': async (input, ctx) => {
      await ensureImageSize(deps, input.imageId, ctx.reader);
      return deps.reviews.saveReview(input, ctx.reader, await labelsFor(deps, input.resultId));
    },
    'review.get': async ({ imageId }, ctx) => deps.reviews.latestReview(imageId, ctx.reader),
    'review.all': async ({ imageId }) => deps.reviews.latestReviews(imageId),
    'review.history': async ({ imageId }, ctx) => deps.reviews.history(imageId, ctx.reader),
  };
}
