// Runs in main and the browser-mode server. The worklist: cases (images opened or added from the
// samples) with the current reader's status, filters and progress.
import path from 'node:path';
import { loadImage } from '../imaging/load';
import type { Handlers } from './dispatch';
import type { AnnotationDeps } from './annotations';
import { imageFor, previewOnOpen, listSamples } from './studies';

export function worklistHandlers(deps: AnnotationDeps): Pick<Handlers, 'worklist.list' | 'worklist.addSamples' | 'worklist.open' | 'worklist.setFlag'> {
  return {
    'worklist.list': async (filter, ctx) => deps.reviews.worklist(filter, ctx.reader),
    'worklist.addSamples': async (_input, ctx) => {
      let added = 0;
      for (const sample of await listSamples(deps.samplesDir)) {
        const filePath = path.join(deps.samplesDir, sample.name);
        if (deps.store.hasImageAt(filePath)) continue;
        const image = await loadImage(filePath);
        deps.store.recordImage(image.info, filePath, ctx.reader);
        added++;
      }
      return { added };
    },
    'worklist.open': async ({ imageId, view }, ctx) => {
      const known = deps.store.imagePath(imageId);
      const preview = view && !deps.cache.get(imageId) && known ? await previewOnOpen(known, view) : undefined;
      if (preview && preview.frame.info.imageId === imageId) {
        deps.store.recordImage(preview.frame.info, known!, ctx.reader);
        return { ...preview.frame.info, firstFrame: preview.target };
      }
      const image = await imageFor(deps, imageId);
      deps.cache.put(image);
      deps.store.recordImage(image.info, deps.store.imagePath(imageId)!, ctx.reader);
      return image.info;
    },
    'worklist.setFlag': async ({ imageId, flagged }, ctx) => deps.reviews.setFlag(imageId, flagged, ctx.reader),
  };
}
