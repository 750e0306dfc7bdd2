// Runs in main, the host, the CLI and tests. Display intensities → the model's input tensor, as
// the card says: stretch or letterbox with area averaging, replicate channels, normalise.
import type { DisplayTable } from '../imaging/voi';
import type { ModelCard } from './card';
import { inputGeometry, type InputGeometry } from './geometry';

/**
 * Resizes a grey float image. Downscaling averages the source area each output pixel covers
 * (anti-aliased, so noise does not alias into the model input); upscaling is bilinear.
 */
export function resizeArea(source: Float32Array | DisplayTable, sw: number, sh: number, dw: number, dh: number): Float32Array {
  const out = new Float32Array(dw * dh);
  const sx = sw / dw;
  const sy = sh / dh;
  if (sx <= 1 && sy <= 1) {
    const src = source instanceof Float32Array ? source : lookUp(source);
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
  // Separable box filter with fractional edge weights: along rows first, then down columns, both
  // walking memory in order (a column-major walk over a radiograph thrashes the cache).
  const cols = spans(sw, dw);
  const tmp = new Float32Array(dw * sh);
  // The loop is written twice so the per-pixel read stays monomorphic: floats, or a table lookup.
  if (source instanceof Float32Array) {
    const src = source;
    for (let y = 0; y < sh; y++) {
      const row = y * sw;
      const dst = y * dw;
      for (let x = 0; x < dw; x++) {
        const i0 = cols.start[x]!;
        const i1 = cols.end[x]!;
        let acc = src[row + i0]! * cols.first[x]!;
        for (let i = i0 + 1; i < i1 - 1; i++) acc += src[row + i]!;
        if (i1 - 1 > i0) acc += src[row + i1 - 1]! * cols.last[x]!;
        tmp[dst + x] = acc / sx;
      }
    }
  } else {
    const { stored, table, min } = source;
    for (let y = 0; y < sh; y++) {
      const row = y * sw;
      const dst = y * dw;
      for (let x = 0; x < dw; x++) {
        const i0 = cols.start[x]!;
        const i1 = cols.end[x]!;
        let acc = table[stored[row + i0]! - min]! * cols.first[x]!;
        for (let i = i0 + 1; i < i1 - 1; i++) acc += table[stored[row + i]! - min]!;
        if (i1 - 1 > i0) acc += table[stored[row + i1 - 1]! - min]! * cols.last[x]!;
        tmp[dst + x] = acc / sx;
      }
    }
  }
  const rows = spans(sh, dh);
  for (let y = 0; y < dh; y++) {
    const o = y * dw;
    const j0 = rows.start[y]!;
    const j1 = rows.end[y]!;
    for (let j = j0; j < j1; j++) {
      const w = (j === j0 ? rows.first[y]! : j === j1 - 1 ? rows.last[y]! : 1) / sy;
      const t = j * dw;
      for (let x = 0; x < dw; x++) out[o + x] = out[o + x]! + tmp[t + x]! * w;
    }
  }
  return out;
}

function lookUp({ stored, table, min }: DisplayTable): Float32Array {
  const out = new Float32Array(stored.length);
  for (let i = 0; i < stored.length; i++) out[i] = table[stored[i]! - min]!;
  return out;
}

/** For each output cell along one axis: the source range it covers and the weights of its partial ends. */
function spans(sn: number, dn: number): { start: Int32Array; end: Int32Array; first: Float32Array; last: Float32Array } {
  const s = sn / dn;
  const start = new Int32Array(dn);
  const end = new Int32Array(dn);
  const first = new Float32Array(dn);
  const last = new Float32Array(dn);
  for (let k = 0; k < dn; k++) {
    const a = k * s;
    const b = a + s;
    start[k] = Math.floor(a);
    end[k] = Math.min(sn, Math.ceil(b));
    first[k] = Math.min(b, start[k]! + 1) - a;
    last[k] = b - Math.max(a, end[k]! - 1);
  }
  return { start, end, first, last };
}

/** One image's [channels, height, width] slice of the NCHW input tensor, and where the image sits in it. */
export function preprocess(card: ModelCard, intensities: Float32Array | DisplayTable, width: number, height: number): { input: Float32Array; geometry: InputGeometry } {
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
