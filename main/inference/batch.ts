// Runs in main, the server and the CLI. Many images through one model in batches sized for the
// provider. While the host process runs batch k, this thread decodes and preprocesses batch k+1,
// so decoding overlaps inference. Each image is decoded only as far as the model's input size needs
// (a reduced resolution level for JPEG 2000 and HTJ2K).
import { ResightError } from '../../preload/api';
import { loadFrameForSize, loadImage } from '../imaging/load';
import type { LoadedImage, ReducedFrame } from '../imaging/types';
import type { InferenceEngine } from './host/client';
import type { LoadedModel } from './registry';
import { modelInput, runBatch, type Analysis, type InferenceSettings, type ModelInput } from './service';

export interface BatchItem {
  file: string;
  analysis?: Analysis;
  input?: ModelInput;
  /** The decoded image the model saw (with keepImages): for overlays and the store's image index. */
  image?: LoadedImage | ReducedFrame;
  error?: { code: string; message: string };
}

type Prepared = { file: string; input?: ModelInput; image?: LoadedImage | ReducedFrame; error?: BatchItem['error'] };

/** GPU providers take larger batches; CPU gains little past 8 on a few cores. */
export function batchSizeFor(provider: string): number {
  return provider === 'cpu' ? 8 : 16;
}

/** 'reduced' decodes only what the model's input size needs; 'full' every pixel (for comparison runs). */
export type BatchDecode = 'reduced' | 'full';

/**
 * The size to decode for a model's input: twice the input on each axis. With a resolution level
 * only just above the input size, resampling twice over (wavelet, then area average) moved the
 * bundled model's probabilities by up to 0.02 on the samples; with the level at least twice the
 * input the final area average dominates (0.006 at most on a 1,536 px phantom).
 */
export function decodeTargetFor(card: LoadedModel['card']): { width: number; height: number } {
  return { width: 2 * card.input.width, height: 2 * card.input.height };
}

async function prepare(model: LoadedModel, files: string[], decode: BatchDecode): Promise<Prepared[]> {
  const out: Prepared[] = [];
  const target = decodeTargetFor(model.card);
  for (const file of files) {
    try {
      const image = decode === 'full' ? await loadImage(file) : await loadFrameForSize(file, target, { priority: 'background' });
      out.push({ file, input: modelInput(model, image, 0), image });
    } catch (err) {
      out.push({ file, error: err instanceof ResightError ? { code: err.code, message: err.message } : { code: 'INTERNAL', message: 'This file could not be read.' } });
    }
  }
  return out;
}

/** Yields each batch's results in input order; a bad file becomes an item with an error, never a stop. */
export async function* analyseMany(
  engine: InferenceEngine,
  model: LoadedModel,
  files: string[],
  settings: InferenceSettings,
  opts: { batchSize?: number; signal?: AbortSignal; keepInputs?: boolean; keepImages?: boolean; decode?: BatchDecode } = {},
): AsyncGenerator<BatchItem[]> {
  const size = opts.batchSize ?? batchSizeFor(settings.provider);
  const chunks: string[][] = [];
  for (let i = 0; i < files.length; i += size) chunks.push(files.slice(i, i + size));
  const decode = opts.decode ?? 'reduced';
  let next = chunks.length ? prepare(model, chunks[0]!, decode) : undefined;
  for (let k = 0; k < chunks.length; k++) {
    if (opts.signal?.aborted) throw new ResightError('INFERENCE_CANCELLED', 'The batch was cancelled.');
    const prepared = await next!;
    const ready = prepared.filter((p) => p.input);
    const running = ready.length ? runBatch(engine, model, ready.map((p) => p.input!), settings, 'batch') : Promise.resolve([]);
    // Decode the next batch while the host process works on this one.
    next = k + 1 < chunks.length ? prepare(model, chunks[k + 1]!, decode) : undefined;
    const analyses = await running;
    let j = 0;
    yield prepared.map((p) =>
      p.input
        ? { file: p.file, analysis: analyses[j++]!, ...(opts.keepInputs ? { input: p.input } : {}), ...(opts.keepImages ? { image: p.image } : {}) }
        : { file: p.file, error: p.error! },
    );
  }
}
