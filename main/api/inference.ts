// Runs in main and the browser-mode server. Handlers for models and inference.
import { ResightError, type CamMap, type InferenceResult } from '../../preload/api';
import { decodeTargetFor } from '../inference/batch';
import type { InferenceEngine } from '../inference/host/client';
import type { LoadedModel, ModelRegistry } from '../inference/registry';
import { camFor, InferenceCache, modelInput, OCCLUSION_DEFAULTS, occlusionCam, runBatch, type InferenceSettings } from '../inference/service';
import type { Store } from '../store/repositories';
import type { Handlers } from './dispatch';
import type { EventHub } from './events';
import { frameForSize, type StudiesDeps } from './studies';

export interface InferenceDeps extends StudiesDeps {
  registry: ModelRegistry;
  engine: InferenceEngine;
  settings: InferenceSettings;
  store: Store;
  events: EventHub;
  log: (line: string) => void;
  /** The reader's chosen model, if any. */
  activeModel: () => { id: string; version: string } | null;
}

export function inferenceHandlers(deps: InferenceDeps): Pick<Handlers, 'inference.run' | 'inference.cam' | 'inference.cancel'> {
  const cache = new InferenceCache();
  const running = new Map<string, AbortController>();

  const analyse = async (model: LoadedModel, imageId: string, frame: number) => {
    const key = InferenceCache.key(imageId, frame, model.sha256);
    const hit = cache.getAnalysis(key);
    if (hit) return { key, ...hit };
    // What batch review reads too, so a film's probabilities are the same in the viewer and in a
    // review, and a large JPEG 2000 film is analysed without waiting for its full decode.
    const input = modelInput(model, await frameForSize(deps, imageId, frame, decodeTargetFor(model.card)), frame);
    const [analysis] = await runBatch(deps.engine, model, [input], deps.settings);
    if (analysis!.fallbackReason) deps.log(`provider ${deps.settings.provider} fell back to ${analysis!.providerUsed}: ${analysis!.fallbackReason}`);
    cache.putAnalysis(key, { input, analysis: analysis! });
    return { key, input, analysis: analysis! };
  };

  return {
    'inference.run': async ({ imageId, frame, camLabelId }, ctx): Promise<InferenceResult> => {
      const model = await deps.registry.active(deps.activeModel());
      const { analysis } = await analyse(model, imageId, frame);
      const cams: Record<string, CamMap> = {};
      for (const label of model.card.labels) cams[label.id] = camFor(model, analysis, 'gradcam', label.id);
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
          cams,
          inferenceMs: analysis.inferenceMs,
        },
        ctx.reader,
      );
      const label = camLabelId ?? analysis.findings[0]!.labelId;
      const cam = cams[label];
      if (!cam) throw new ResightError('NOT_FOUND', `The model has no label "${label}".`);
      return {
        resultId: stored.resultId,
        imageId,
        frame,
        model: { ...model.summary, active: true },
        provider: { requested: deps.settings.provider, used: analysis.providerUsed },
        findings: analysis.findings,
        cam,
        inferenceMs: analysis.inferenceMs,
        createdAt: stored.createdAt,
      };
    },
    'inference.cam': async ({ resultId, labelId, method, requestId }) => {
      const stored = deps.store.result(resultId);
      if (!stored) throw new ResightError('NOT_FOUND', 'That model result is no longer available. Run the model again.');
      if (method === 'gradcam') {
        const cam = stored.cams[labelId];
        if (!cam) throw new ResightError('NOT_FOUND', `The model has no label "${labelId}".`);
        return cam;
      }
      const model = (await deps.registry.list()).find((m) => m.sha256 === stored.modelSha256);
      if (!model) throw new ResightError('MODEL_NOT_FOUND', 'The model that produced this result is no longer installed, so its heatmaps cannot be recomputed.');
      const { key, input, analysis } = await analyse(model, stored.imageId, stored.frame);
      if (method !== 'occlusion') return cache.cam(key, method, labelId, () => camFor(model, analysis, method, labelId));
      return cache.cam(key, method, labelId, async () => {
        const controller = new AbortController();
        if (requestId) running.set(requestId, controller);
        try {
          return await occlusionCam(deps.engine, model, input, analysis, labelId, deps.settings, {
            ...OCCLUSION_DEFAULTS,
            signal: controller.signal,
            onProgress: (done, total) => requestId && deps.events.emit('inference.progress', { requestId, done, total }),
          });
        } finally {
          if (requestId) running.delete(requestId);
        }
      });
    },
    'inference.cancel': async ({ requestId }) => {
      const controller = running.get(requestId);
      controller?.abort();
      return { cancelled: Boolean(controller) };
    },
  };
}
