// Runs in main, the server, the CLI and tests. One image through the active model: display
// intensities → input tensor → engine → findings and a Grad-CAM per label.
import { ResightError, type CamMap, type ExecutionProvider, type Finding } from '../../preload/api';
import type { LoadedImage } from '../imaging/types';
import { displayIntensities } from '../imaging/voi';
import { gradCam, normaliseMap } from './cam/gradcam';
import { findingsFromLogits } from './postprocess';
import { preprocess } from './preprocess';
import type { InferenceEngine, Priority } from './host/client';
import type { LoadedModel } from './registry';

export interface Analysis {
  findings: Finding[];
  /** One Grad-CAM per label, keyed by label id. */
  cams: Record<string, CamMap>;
  providerUsed: string;
  fallbackReason?: string;
  inferenceMs: number;
}

export interface InferenceSettings {
  provider: ExecutionProvider;
  threads: number;
}

export function camsFromFeatures(model: LoadedModel, features: Float32Array, dims: number[], batchIndex = 0): Record<string, CamMap> {
  const [, k, h, w] = dims as [number, number, number, number];
  if (k !== model.featureChannels) {
    throw new ResightError('MODEL_CARD_INVALID', `The model's features have ${k} channels but its classifier expects ${model.featureChannels}.`);
  }
  const per = k * h * w;
  const map = { data: features.subarray(batchIndex * per, (batchIndex + 1) * per), channels: k, height: h, width: w };
  const cams: Record<string, CamMap> = {};
  model.card.labels.forEach((label, c) => {
    const { values, max } = normaliseMap(gradCam(map, model.weight, c));
    cams[label.id] = { labelId: label.id, method: 'gradcam', width: w, height: h, values: Array.from(values), rawMax: max };
  });
  return cams;
}

/** Runs a batch of already-preprocessed inputs ([C, H, W] each) through the model. */
export async function runBatch(
  engine: InferenceEngine,
  model: LoadedModel,
  inputs: Float32Array[],
  settings: InferenceSettings,
  priority: Priority = 'interactive',
): Promise<Analysis[]> {
  const { card } = model;
  const per = card.input.channels * card.input.height * card.input.width;
  const data = new Float32Array(per * inputs.length);
  inputs.forEach((x, i) => data.set(x, i * per));
  const outcome = await engine.run(
    {
      modelPath: model.onnxPath,
      inputName: card.input.name,
      outputNames: [card.outputs.logits, card.outputs.features],
      dims: [inputs.length, card.input.channels, card.input.height, card.input.width],
      data,
      provider: settings.provider,
      threads: settings.threads,
    },
    priority,
  );
  const logits = outcome.outputs[card.outputs.logits]!;
  const features = outcome.outputs[card.outputs.features]!;
  const n = card.labels.length;
  if (logits.dims[1] !== n || features.dims.length !== 4) {
    throw new ResightError('MODEL_CARD_INVALID', `The model's outputs do not match its card (expected ${n} logits and a 4-D feature map).`);
  }
  return inputs.map((_, i) => ({
    findings: findingsFromLogits(card, logits.data.subarray(i * n, (i + 1) * n)),
    cams: camsFromFeatures(model, features.data, features.dims, i),
    providerUsed: outcome.providerUsed,
    ...(outcome.fallbackReason ? { fallbackReason: outcome.fallbackReason } : {}),
    inferenceMs: outcome.runMs / inputs.length,
  }));
}

export function modelInput(model: LoadedModel, image: LoadedImage, frame: number): Float32Array {
  const { info } = image;
  return preprocess(model.card, displayIntensities(image.frame(frame), info), info.width, info.height);
}

export async function analyseImage(
  engine: InferenceEngine,
  model: LoadedModel,
  image: LoadedImage,
  frame: number,
  settings: InferenceSettings,
): Promise<Analysis> {
  const [analysis] = await runBatch(engine, model, [modelInput(model, image, frame)], settings);
  return analysis!;
}
