// Runs in main and the browser-mode server. Handlers for models and inference.
import { ResightError, type InferenceResult } from '../../preload/api';
import type { InferenceEngine } from '../inference/host/client';
import type { ModelRegistry } from '../inference/registry';
import { analyseImage, type InferenceSettings } from '../inference/service';
import type { Store } from '../store/repositories';
import type { Handlers } from './dispatch';
import { imageFor, type StudiesDeps } from './studies';

export interface InferenceDeps extends StudiesDeps {
  registry: ModelRegistry;
  engine: InferenceEngine;
  settings: InferenceSettings;
  store: Store;
  log: (line: string) => void;
}

export function inferenceHandlers(deps: InferenceDeps): Pick<Handlers, 'models.list' | 'inference.run' | 'inference.cam'> {
  return {
    'models.list': async () => (await deps.registry.list()).map((m) => m.summary),
    'inference.run': async ({ imageId, frame, camLabelId }, ctx): Promise<InferenceResult> => {
      const image = await imageFor(deps, imageId);
      if (frame >= image.info.frames) throw new ResightError('NOT_FOUND', `This image has ${image.info.frames} frame(s); frame ${frame + 1} does not exist.`);
      const model = await deps.registry.active();
      const analysis = await analyseImage(deps.engine, model, image, frame, deps.settings);
      if (analysis.fallbackReason) deps.log(`provider ${deps.settings.provider} fell back to ${analysis.providerUsed}: ${analysis.fallbackReason}`);
      const stored = deps.store.saveResult(
        {
          imageId,
          frame,
          modelId: model.card.id,
          modelVersion: model.card.version,
          modelSha256: model.sha256,
          providerRequested: deps.settings.provider,
          providerUsed: analysis.providerUsed,
          findings: analysis.findings,
          cams: analysis.cams,
          inferenceMs: analysis.inferenceMs,
        },
        ctx.reader,
      );
      const label = camLabelId ?? analysis.findings[0]!.labelId;
      const cam = analysis.cams[label];
      if (!cam) throw new ResightError('NOT_FOUND', `The model has no label "${label}".`);
      return {
        resultId: stored.resultId,
        imageId,
        frame,
        model: model.summary,
        provider: { requested: deps.settings.provider, used: analysis.providerUsed },
        findings: analysis.findings,
        cam,
        inferenceMs: analysis.inferenceMs,
        createdAt: stored.createdAt,
      };
    },
    'inference.cam': async ({ resultId, labelId }) => {
      const stored = deps.store.result(resultId);
      if (!stored) throw new ResightError('NOT_FOUND', 'That model result is no longer available. Run the model again.');
      const cam = stored.cams[labelId];
      if (!cam) throw new ResightError('NOT_FOUND', `The model has no label "${labelId}".`);
      return cam;
    },
  };
}
