// Runs anywhere. Grad-CAM in closed form for a ResNet head (global average pool → linear):
// ∂y_c/∂A_k(i,j) = W[c,k]/(h·w), so Grad-CAM = ReLU(Σ_k W[c,k]/(h·w) · A_k). Exact, no autograd.

export interface FeatureMap {
  /** [K, h, w] of one image, post-ReLU. */
  data: Float32Array;
  channels: number;
  height: number;
  width: number;
}

/** The raw Grad-CAM of class `c` at feature resolution (logit units per cell). */
export function gradCam(features: FeatureMap, weight: Float32Array, classIndex: number): Float32Array {
  const { channels: k, height: h, width: w, data } = features;
  const cells = h * w;
  const out = new Float32Array(cells);
  const row = classIndex * k;
  for (let ch = 0; ch < k; ch++) {
    const alpha = weight[row + ch]! / cells;
    if (alpha === 0) continue;
    const base = ch * cells;
    for (let i = 0; i < cells; i++) out[i] = out[i]! + alpha * data[base + i]!;
  }
  for (let i = 0; i < cells; i++) if (out[i]! < 0) out[i] = 0;
  return out;
}

/** Scales a map to [0, 1] by its maximum; an all-zero map stays zero. */
export function normaliseMap(map: Float32Array): { values: Float32Array; max: number } {
  let max = 0;
  for (const v of map) if (v > max) max = v;
  const values = new Float32Array(map.length);
  if (max > 0) for (let i = 0; i < map.length; i++) values[i] = map[i]! / max;
  return { values, max };
}
