// Runs in main, the host, the CLI and tests. Display intensities → the model's input tensor, as
// the card says: stretch or letterbox with area averaging, replicate channels, normalise.
import type { ModelCard } from './card';
import { inputGeometry, type InputGeometry } from './geometry';

/**
 * Resizes a grey float image. Downscaling averages the source area each output pixel covers
 * (anti-aliased, so noise does not alias into the model input); upscaling is bilinear.
 */
export function resizeArea(src: Float32Array, sw: number, sh: number, dw: number, dh: number): Float32Array {
  const out = new Float32Array(dw * dh);
  const sx = sw / dw;
  const sy = sh / dh;
  if (sx <= 1 && sy <= 1) {
    for (let y = 0; y < dh; y++) {
      const fy = Math.min(sh - 1, Math.max(0, (y + 0.5) * sy - 0.5));
      const y0 = Math.floor(fy);
      const y1 = Math.min(sh - 1, y0 + 1);
      const wy = fy - y0;
      for (let x = 0; x < dw; x++) {
        const fx = Math.min(sw - 1, Math.max(0, (x + 0.5) * sx - 0.5));
        const x0 = Math.floor(fx);
        const x1 = Math.min(sw - 1, x0 + 1);
        const wx = fx - x0;
        const top = src[y0 * sw + x0]! * (1 - wx) + src[y0 * sw + x1]! * wx;
        const bottom = src[y1 * sw + x0]! * (1 - wx) + src[y1 * sw + x1]! * wx;
        out[y * dw + x] = top * (1 - wy) + bottom * wy;
      }
    }
    return out;
  }
  // Separable box filter with fractional edge weights: columns first, then rows.
  const tmp = new Float32Array(dw * sh);
  for (let x = 0; x < dw; x++) {
    const a = x * sx;
    const b = a + sx;
    const i0 = Math.floor(a);
    const i1 = Math.min(sw, Math.ceil(b));
    for (let y = 0; y < sh; y++) {
      let acc = 0;
      for (let i = i0; i < i1; i++) acc += src[y * sw + i]! * (Math.min(b, i + 1) - Math.max(a, i));
      tmp[y * dw + x] = acc / sx;
    }
  }
  for (let y = 0; y < dh; y++) {
    const a = y * sy;
    const b = a + sy;
    const j0 = Math.floor(a);
    const j1 = Math.min(sh, Math.ceil(b));
    for (let x = 0; x < dw; x++) {
      let acc = 0;
      for (let j = j0; j < j1; j++) acc += tmp[j * dw + x]! * (Math.min(b, j + 1) - Math.max(a, j));
      out[y * dw + x] = acc / sy;
    }
  }
  return out;
}

/** One image's [channels, height, width] slice of the NCHW input tensor, and where the image sits in it. */
export function preprocess(card: ModelCard, intensities: Float32Array, width: number, height: number): { input: Float32Array; geometry: InputGeometry } {
  const { width: w, height: h, channels, normalize } = card.input;
  const geometry = inputGeometry(card.input.resize, width, height, w, h);
  let placed: Float32Array;
  if (card.input.resize === 'stretch') placed = resizeArea(intensities, width, height, w, h);
  else {
    // Letterbox: scale to fit, centre, pad with intensity 0 (black, as outside a collimated film).
    const sw = Math.max(1, Math.round(width * geometry.scaleX));
    const sh = Math.max(1, Math.round(height * geometry.scaleY));
    const scaled = resizeArea(intensities, width, height, sw, sh);
    placed = new Float32Array(w * h);
    const ox = Math.round(geometry.offsetX);
    const oy = Math.round(geometry.offsetY);
    for (let y = 0; y < sh && y + oy < h; y++) placed.set(scaled.subarray(y * sw, y * sw + Math.min(sw, w - ox)), (y + oy) * w + ox);
  }
  const input = new Float32Array(channels * w * h);
  for (let c = 0; c < channels; c++) {
    const mean = normalize.mean[normalize.mean.length === 1 ? 0 : c]!;
    const std = normalize.std[normalize.std.length === 1 ? 0 : c]!;
    const plane = c * w * h;
    for (let i = 0; i < w * h; i++) input[plane + i] = (placed[i]! - mean) / std;
  }
  return { input, geometry };
}
