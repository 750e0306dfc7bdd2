// Runs in main, the server, the CLI and tests. Occlusion sensitivity (Zeiler & Fergus 2014):
// model-agnostic and forward-only. Each patch of the input is set to the normalised mean (zero),
// and the drop of the label's logit is that patch's score. Runs in batches, reports progress after
// each, and stops between batches when cancelled.
import { ResightError } from '../../../preload/api';

export interface OcclusionOptions {
  channels: number;
  height: number;
  width: number;
  /** Patch side and stride in input pixels. */
  patch: number;
  stride: number;
  batchSize: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

/** Runs a batch of inputs and returns one logit vector per input. */
export type LogitRunner = (inputs: Float32Array[]) => Promise<Float32Array[]>;

export interface OcclusionResult {
  /** Logit drop per cell and label, cells of `stride` input pixels covering the whole input, after ReLU. */
  maps: Float32Array[];
  gridWidth: number;
  gridHeight: number;
}

export async function occlusionSensitivity(input: Float32Array, baseline: Float32Array, run: LogitRunner, opts: OcclusionOptions): Promise<OcclusionResult> {
  const { channels, height, width, patch, stride, batchSize } = opts;
  const gridWidth = Math.floor((width - patch) / stride) + 1;
  const gridHeight = Math.floor((height - patch) / stride) + 1;
  const total = gridWidth * gridHeight;
  const labels = baseline.length;
  // Every input pixel's score is the mean drop of the patches covering it, accumulated per label.
  const sums = Array.from({ length: labels }, () => new Float64Array(width * height));
  const counts = new Uint16Array(width * height);
  const plane = width * height;
  for (let start = 0; start < total; start += batchSize) {
    if (opts.signal?.aborted) throw new ResightError('INFERENCE_CANCELLED', 'The heatmap was cancelled.');
    const cells = Array.from({ length: Math.min(batchSize, total - start) }, (_, i) => start + i);
    const batch = cells.map((cell) => {
      const x0 = (cell % gridWidth) * stride;
      const y0 = Math.floor(cell / gridWidth) * stride;
      const occluded = Float32Array.from(input);
      for (let c = 0; c < channels; c++) for (let y = y0; y < y0 + patch; y++) occluded.fill(0, c * plane + y * width + x0, c * plane + y * width + x0 + patch);
      return occluded;
    });
    const logits = await run(batch);
    cells.forEach((cell, i) => {
      const x0 = (cell % gridWidth) * stride;
      const y0 = Math.floor(cell / gridWidth) * stride;
      for (let y = y0; y < y0 + patch; y++) {
        for (let x = x0; x < x0 + patch; x++) {
          const p = y * width + x;
          counts[p]!++;
          for (let l = 0; l < labels; l++) sums[l]![p] = sums[l]![p]! + (baseline[l]! - logits[i]![l]!);
        }
      }
    });
    opts.onProgress?.(Math.min(total, start + batchSize), total);
  }
  // Report on a grid of stride-sized cells covering the whole input (as a feature map does):
  // each cell is the mean score of its pixels.
  const outWidth = Math.ceil(width / stride);
  const outHeight = Math.ceil(height / stride);
  const maps = sums.map((sum) => {
    const map = new Float32Array(outWidth * outHeight);
    for (let gy = 0; gy < outHeight; gy++) {
      for (let gx = 0; gx < outWidth; gx++) {
        let acc = 0;
        let n = 0;
        for (let y = gy * stride; y < Math.min(height, (gy + 1) * stride); y++) {
          for (let x = gx * stride; x < Math.min(width, (gx + 1) * stride); x++) {
            const p = y * width + x;
            if (counts[p]) {
              acc += sum[p]! / counts[p]!;
              n++;
            }
          }
        }
        map[gy * outWidth + gx] = Math.max(0, n ? acc / n : 0);
      }
    }
    return map;
  });
  return { maps, gridWidth: outWidth, gridHeight: outHeight };
}
