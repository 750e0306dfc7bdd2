// Runs in main, the server, the CLI and tests. Images through a model: display intensities →
// input tensor → engine → findings, feature maps and CAMs, with a cache keyed by image hash,
// frame, model sha256, method and label.
import { ResightError, type CamMap, type CamMethod, type ExecutionProvider, type Finding } from '../../preload/api';
import type { LoadedImage, ReducedFrame } from '../imaging/types';
import { displaySource, reducedSource } from '../imaging/voi';
import { camFromFeatures, normaliseMap, type FeatureMap } from './cam/methods';
import { occlusionSensitivity } from './cam/occlusion';
import { inputExtentOnImage, inputGeometry, type InputGeometry } from './geometry';
import type { InferenceEngine, Priority } from './host/client';
import { findingsFromLogits } from './postprocess';
import { channelsFromGrey, placeIntensities, type Normalization } from './preprocess';
import type { LoadedModel } from './registry';

export interface InferenceSettings {
  provider: ExecutionProvider;
  threads: number;
}

export interface ModelInput {
  /** Display intensities placed in the model's input frame; the host replicates and normalises them. */
  grey: Float32Array;
  geometry: InputGeometry;
}

export interface Analysis {
  findings: Finding[];
  /** Raw logits in card label order. */
  logits: Float32Array;
  features: FeatureMap;
  geometry: InputGeometry;
  providerUsed: string;
  fallbackReason?: string;
  inferenceMs: number;
}

/**
 * The model's input from a fully decoded image, or from a reduced frame (loadFrameForSize with the
 * card's input size), which costs a fraction of the decode. Either way the geometry refers to the
 * full image's pixels, so CAMs land on the image as displayed.
 */
export function modelInput(model: LoadedModel, image: LoadedImage | ReducedFrame, frame: number): ModelInput {
  const { info } = image;
  if (!('pixels' in image)) return placeIntensities(model.card, displaySource(image.frame(frame), info), info.width, info.height);
  if (image.frame !== frame) throw new ResightError('NOT_FOUND', `Frame ${frame + 1} of this image was not decoded for the model.`);
  const { grey } = placeIntensities(model.card, reducedSource(image), image.width, image.height);
  const { resize, width, height } = model.card.input;
  return { grey, geometry: inputGeometry(resize, info.width, info.height, width, height) };
}

function labelIndex(model: LoadedModel, labelId: string): number {
  const i = model.card.labels.findIndex((l) => l.id === labelId);
  if (i < 0) throw new ResightError('NOT_FOUND', `The model has no label "${labelId}".`);
  return i;
}

function toCamMap(labelId: string, method: CamMethod, raw: Float32Array, width: number, height: number, geometry: InputGeometry): CamMap {
  const { values, max } = normaliseMap(raw);
  return { labelId, method, width, height, values: Array.from(values), rawMax: max, extent: inputExtentOnImage(geometry) };
}

/** A gradient CAM of one label at feature resolution, after ReLU, not normalised (logit units per cell). */
export function rawCam(model: LoadedModel, analysis: Analysis, method: Exclude<CamMethod, 'occlusion'>, labelId: string): Float32Array {
  const c = labelIndex(model, labelId);
  const { features } = analysis;
  if (features.channels !== model.featureChannels) {
    throw new ResightError('MODEL_CARD_INVALID', `The model's features have ${features.channels} channels but its classifier expects ${model.featureChannels}.`);
  }
  return camFromFeatures(method, features, model.weight, c);
}

/** A gradient CAM (closed form, from the forward pass's features) of one label, normalised. */
export function camFor(model: LoadedModel, analysis: Analysis, method: Exclude<CamMethod, 'occlusion'>, labelId: string): CamMap {
  const { features } = analysis;
  return toCamMap(labelId, method, rawCam(model, analysis, method, labelId), features.width, features.height, analysis.geometry);
}

/** Runs a batch of preprocessed inputs through the model. */
export function runBatch(
  engine: InferenceEngine,
  model: LoadedModel,
  inputs: ModelInput[],
  settings: InferenceSettings,
  priority: Priority = 'interactive',
): Promise<Analysis[]> {
  return runTensors(engine, model, stack(inputs.map((x) => x.grey)), inputs.map((x) => x.geometry), settings, priority, model.card.input.normalize);
}

/** Equal-sized arrays one after another: a batch for the engine. */
function stack(parts: Float32Array[]): Float32Array<ArrayBuffer> {
  const size = parts[0]?.length ?? 0;
  const out = new Float32Array(size * parts.length);
  parts.forEach((p, i) => out.set(p, i * size));
  return out;
}

/**
 * Runs input tensors through the model. `data` holds NCHW tensors (already normalised), or with
 * `greyNormalize` the grey planes the host expands into them.
 */
export async function runTensors(
  engine: InferenceEngine,
  model: LoadedModel,
  data: Float32Array<ArrayBuffer>,
  geometries: InputGeometry[],
  settings: InferenceSettings,
  priority: Priority = 'interactive',
  greyNormalize?: Normalization,
): Promise<Analysis[]> {
  const { card } = model;
  const outcome = await engine.run(
    {
      modelPath: model.onnxPath,
      inputName: card.input.name,
      outputNames: [card.outputs.logits, card.outputs.features],
      dims: [geometries.length, card.input.channels, card.input.height, card.input.width],
      data,
      ...(greyNormalize ? { greyNormalize } : {}),
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
  const [, k, h, w] = features.dims as [number, number, number, number];
  return geometries.map((geometry, i) => {
    const own = logits.data.slice(i * n, (i + 1) * n);
    return {
      findings: findingsFromLogits(card, own),
      logits: own,
      features: { data: features.data.slice(i * k * h * w, (i + 1) * k * h * w), channels: k, height: h, width: w },
      geometry,
      providerUsed: outcome.providerUsed,
      ...(outcome.fallbackReason ? { fallbackReason: outcome.fallbackReason } : {}),
      inferenceMs: outcome.runMs / geometries.length,
    };
  });
}

export interface OcclusionSettings {
  patch: number;
  stride: number;
  batchSize: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

/** Occlusion sensitivity of one label (raw logit drop per cell): forward-only, batched, progressive, cancellable. */
export async function rawOcclusion(
  engine: InferenceEngine,
  model: LoadedModel,
  input: ModelInput,
  analysis: Analysis,
  labelId: string,
  settings: InferenceSettings,
  occlusion: OcclusionSettings,
): Promise<{ map: Float32Array; width: number; height: number }> {
  const c = labelIndex(model, labelId);
  const { channels, height, width } = model.card.input;
  const tensor = channelsFromGrey(input.grey, 1, channels, model.card.input.normalize);
  const result = await occlusionSensitivity(
    tensor,
    analysis.logits,
    async (batch) => (await runTensors(engine, model, stack(batch), batch.map(() => input.geometry), settings, 'interactive')).map((a) => a.logits),
    { channels, height, width, ...occlusion },
  );
  return { map: result.maps[c]!, width: result.gridWidth, height: result.gridHeight };
}

export async function occlusionCam(
  engine: InferenceEngine,
  model: LoadedModel,
  input: ModelInput,
  analysis: Analysis,
  labelId: string,
  settings: InferenceSettings,
  occlusion: OcclusionSettings,
): Promise<CamMap> {
  const r = await rawOcclusion(engine, model, input, analysis, labelId, settings, occlusion);
  return toCamMap(labelId, 'occlusion', r.map, r.width, r.height, input.geometry);
}

/** Occlusion on a 224 px input: 32 px patches every 16 px → 169 forward passes in batches of 16. */
export const OCCLUSION_DEFAULTS = { patch: 32, stride: 16, batchSize: 16 } as const;

/** Small LRU of analyses (with their inputs) and of computed CAMs. */
export class InferenceCache {
  private readonly analyses = new Map<string, { input: ModelInput; analysis: Analysis }>();
  private readonly cams = new Map<string, CamMap>();
  hits = 0;
  misses = 0;

  constructor(private readonly capacity = 8) {}

  static key(imageId: string, frame: number, modelSha256: string): string {
    return `${imageId}|${frame}|${modelSha256}`;
  }

  private touch<V>(map: Map<string, V>, key: string, limit: number): V | undefined {
    const hit = map.get(key);
    if (hit === undefined) return undefined;
    map.delete(key);
    map.set(key, hit);
    while (map.size > limit) map.delete(map.keys().next().value as string);
    return hit;
  }

  getAnalysis(key: string): { input: ModelInput; analysis: Analysis } | undefined {
    return this.touch(this.analyses, key, this.capacity);
  }

  putAnalysis(key: string, value: { input: ModelInput; analysis: Analysis }): void {
    this.analyses.set(key, value);
    this.touch(this.analyses, key, this.capacity);
  }

  async cam(key: string, method: CamMethod, labelId: string, compute: () => Promise<CamMap> | CamMap): Promise<CamMap> {
    const camKey = `${key}|${method}|${labelId}`;
    const hit = this.touch(this.cams, camKey, this.capacity * 64);
    if (hit) {
      this.hits++;
      return hit;
    }
    this.misses++;
    const cam = await compute();
    this.cams.set(camKey, cam);
    this.touch(this.cams, camKey, this.capacity * 64);
    return cam;
  }
}
