// Runs anywhere. Every gradient CAM method in closed form for a ResNet head (global average pool
// → linear layer). The gradient of logit c with respect to A_k(i,j) is the constant
// g_k = W[c,k] / (h·w), so each published definition reduces to a weighting of the feature map:
//   Grad-CAM   (Selvaraju 2017):  α_k = mean_ij g_k = g_k
//   HiResCAM   (Draelos 2020):    Σ_k g_k ⊙ A_k — equal to Grad-CAM when g is constant per channel
//   XGrad-CAM  (Fu 2020):         α_k = Σ_ij g_k A_k(i,j) / Σ_ij A_k(i,j) = g_k
//   LayerCAM   (Jiang 2021):      Σ_k ReLU(g_k) A_k
//   Grad-CAM++ (Chattopadhay 2018) with the exponential output, second and third derivatives
//              as powers of g:  a_k = g² / (2g² + Σ_ij A_k · g³), α_k = Σ_ij a_k ReLU(g_k)
//   Eigen-CAM  (Muhammad 2020):   projection of A onto its first principal component (no W)
// Each map then goes through ReLU.

export interface FeatureMap {
  /** [K, h, w] of one image, post-ReLU. */
  data: Float32Array;
  channels: number;
  height: number;
  width: number;
}

/** Scales a map to [0, 1] by its maximum; an all-zero map stays zero. */
export function normaliseMap(map: Float32Array): { values: Float32Array; max: number } {
  let max = 0;
  for (const v of map) if (v > max) max = v;
  const values = new Float32Array(map.length);
  if (max > 0) for (let i = 0; i < map.length; i++) values[i] = map[i]! / max;
  return { values, max };
}

export const GRADIENT_CAM_METHODS = ['gradcam', 'hirescam', 'xgradcam', 'layercam', 'gradcampp', 'eigencam'] as const;
export type GradientCamMethod = (typeof GRADIENT_CAM_METHODS)[number];

function weightedSum(features: FeatureMap, alpha: (k: number) => number): Float32Array {
  const { channels, height, width, data } = features;
  const cells = height * width;
  const out = new Float32Array(cells);
  for (let k = 0; k < channels; k++) {
    const a = alpha(k);
    if (a === 0) continue;
    const base = k * cells;
    for (let i = 0; i < cells; i++) out[i] = out[i]! + a * data[base + i]!;
  }
  for (let i = 0; i < cells; i++) if (out[i]! < 0) out[i] = 0;
  return out;
}

function channelSums(features: FeatureMap): Float64Array {
  const { channels, height, width, data } = features;
  const cells = height * width;
  const sums = new Float64Array(channels);
  for (let k = 0; k < channels; k++) {
    let s = 0;
    for (let i = 0; i < cells; i++) s += data[k * cells + i]!;
    sums[k] = s;
  }
  return sums;
}

/**
 * Projection of the (cells × K) activation matrix, centred per channel, on its first principal
 * component: σ₁·u₁, with u₁ the top eigenvector of the small cells × cells Gram matrix (found by
 * power iteration). The sign of a principal component is arbitrary; it is chosen so that the map
 * correlates positively with the mean activation, so "hot" means "more active".
 */
export function eigenCam(features: FeatureMap): Float32Array {
  const { channels, height, width, data } = features;
  const n = height * width;
  const sums = channelSums(features);
  const centred = new Float64Array(n * channels);
  for (let k = 0; k < channels; k++) {
    const mean = sums[k]! / n;
    for (let i = 0; i < n; i++) centred[i * channels + k] = data[k * n + i]! - mean;
  }
  const gram = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let s = 0;
      for (let k = 0; k < channels; k++) s += centred[i * channels + k]! * centred[j * channels + k]!;
      gram[i * n + j] = s;
      gram[j * n + i] = s;
    }
  }
  let v = new Float64Array(n).fill(1 / Math.sqrt(n));
  let lambda = 0;
  for (let iter = 0; iter < 200; iter++) {
    const next = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += gram[i * n + j]! * v[j]!;
      next[i] = s;
    }
    const norm = Math.hypot(...next);
    if (norm === 0) return new Float32Array(n);
    for (let i = 0; i < n; i++) next[i] = next[i]! / norm;
    const delta = next.reduce((acc, x, i) => acc + Math.abs(x - v[i]!), 0);
    v = next;
    lambda = norm;
    if (delta < 1e-10) break;
  }
  const sigma = Math.sqrt(lambda);
  const meanMap = new Float64Array(n);
  for (let k = 0; k < channels; k++) for (let i = 0; i < n; i++) meanMap[i] = meanMap[i]! + data[k * n + i]! / channels;
  let corr = 0;
  for (let i = 0; i < n; i++) corr += v[i]! * meanMap[i]!;
  const sign = corr < 0 ? -1 : 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.max(0, sign * sigma * v[i]!);
  return out;
}

/** The raw map (logit units per cell for gradient methods) of class `c` at feature resolution. */
export function camFromFeatures(method: GradientCamMethod, features: FeatureMap, weight: Float32Array, classIndex: number): Float32Array {
  const k = features.channels;
  const cells = features.height * features.width;
  const g = (ch: number): number => weight[classIndex * k + ch]! / cells;
  switch (method) {
    case 'gradcam':
    case 'hirescam':
    case 'xgradcam':
      return weightedSum(features, g);
    case 'layercam':
      return weightedSum(features, (ch) => Math.max(0, g(ch)));
    case 'gradcampp': {
      const sums = channelSums(features);
      return weightedSum(features, (ch) => {
        const gk = g(ch);
        if (gk === 0) return 0;
        const denom = 2 * gk * gk + sums[ch]! * gk * gk * gk;
        const a = denom !== 0 ? (gk * gk) / denom : 0;
        return cells * a * Math.max(0, gk);
      });
    }
    case 'eigencam':
      return eigenCam(features);
  }
}
