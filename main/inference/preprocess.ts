// Runs in main, the host, the CLI and tests. Display intensities → the model's input tensor, as
// the card says: stretch or letterbox with area averaging, replicate channels, normalise.
import type { AffineSource, DisplayTable } from '../imaging/voi';
import type { ModelCard } from './card';
import { inputGeometry, sampleBilinear, type InputGeometry } from './geometry';

/** What the resize reads: intensities, stored values through a display table, or stored values under an affine map. */
export type ResizeSource = Float32Array | DisplayTable | AffineSource;

/**
 * Resizes a grey image. Downscaling averages the source area each output pixel covers
 * (anti-aliased, so noise does not alias into the model input); upscaling is bilinear.
 */
export function resizeArea(source: ResizeSource, sw: number, sh: number, dw: number, dh: number): Float32Array {
  const sx = sw / dw;
  const sy = sh / dh;
  if (sx <= 1 && sy <= 1) return bilinear(source instanceof Float32Array ? source : lookUp(source), sw, sh, dw, dh);
  // Separable box filter with fractional edge weights: along rows first, then down columns, both
  // walking memory in order (a column-major walk over a radiograph thrashes the cache).
  const cols = spans(sw, dw);
  const affine = !(source instanceof Float32Array) && !('table' in source) ? source : undefined;
  const tmp = source instanceof Float32Array ? rowsDirect(source, sw, sh, dw, cols) : 'table' in source ? rowsThroughTable(source, sw, sh, dw, cols) : rowsDirect(source.stored, sw, sh, dw, cols);
  const out = new Float32Array(dw * dh);
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
  if (affine) for (let i = 0; i < out.length; i++) out[i] = out[i]! * affine.scale + affine.offset;
  return out;
}

function bilinear(src: Float32Array, sw: number, sh: number, dw: number, dh: number): Float32Array {
  const out = new Float32Array(dw * dh);
  const sx = sw / dw;
  const sy = sh / dh;
  for (let y = 0; y < dh; y++) for (let x = 0; x < dw; x++) out[y * dw + x] = sampleBilinear(src, sw, sh, (x + 0.5) * sx - 0.5, (y + 0.5) * sy - 0.5);
  return out;
}

type Spans = ReturnType<typeof spans>;

/*
 * The row pass, written twice so each per-pixel read stays monomorphic: the values themselves, or
 * stored values through a table. Both read four rows at a time, so each output column's span and
 * weights are loaded once per four rows (about twice as fast as one row at a time), and both add
 * in the same order, so a table gives exactly what the intensities it maps to give.
 */

function rowsDirect(src: Float32Array | AffineSource['stored'], sw: number, sh: number, dw: number, { start, end, first, last }: Spans): Float32Array {
  const tmp = new Float32Array(dw * sh);
  const sx = sw / dw;
  let y = 0;
  for (; y + 3 < sh; y += 4) {
    const row = y * sw;
    const dst = y * dw;
    for (let x = 0; x < dw; x++) {
      const i0 = row + start[x]!;
      const i1 = row + end[x]! - 1;
      const f = first[x]!;
      let a = src[i0]! * f;
      let b = src[i0 + sw]! * f;
      let c = src[i0 + 2 * sw]! * f;
      let d = src[i0 + 3 * sw]! * f;
      for (let i = i0 + 1; i < i1; i++) {
        a += src[i]!;
        b += src[i + sw]!;
        c += src[i + 2 * sw]!;
        d += src[i + 3 * sw]!;
      }
      if (i1 > i0) {
        const l = last[x]!;
        a += src[i1]! * l;
        b += src[i1 + sw]! * l;
        c += src[i1 + 2 * sw]! * l;
        d += src[i1 + 3 * sw]! * l;
      }
      tmp[dst + x] = a / sx;
      tmp[dst + dw + x] = b / sx;
      tmp[dst + 2 * dw + x] = c / sx;
      tmp[dst + 3 * dw + x] = d / sx;
    }
  }
  for (; y < sh; y++) {
    const row = y * sw;
    const dst = y * dw;
    for (let x = 0; x < dw; x++) {
      const i0 = row + start[x]!;
      const i1 = row + end[x]! - 1;
      let acc = src[i0]! * first[x]!;
      for (let i = i0 + 1; i < i1; i++) acc += src[i]!;
      if (i1 > i0) acc += src[i1]! * last[x]!;
      tmp[dst + x] = acc / sx;
    }
  }
  return tmp;
}

function rowsThroughTable({ stored, table, min }: DisplayTable, sw: number, sh: number, dw: number, { start, end, first, last }: Spans): Float32Array {
  const tmp = new Float32Array(dw * sh);
  const sx = sw / dw;
  let y = 0;
  for (; y + 3 < sh; y += 4) {
    const row = y * sw;
    const dst = y * dw;
    for (let x = 0; x < dw; x++) {
      const i0 = row + start[x]!;
      const i1 = row + end[x]! - 1;
      const f = first[x]!;
      let a = table[stored[i0]! - min]! * f;
      let b = table[stored[i0 + sw]! - min]! * f;
      let c = table[stored[i0 + 2 * sw]! - min]! * f;
      let d = table[stored[i0 + 3 * sw]! - min]! * f;
      for (let i = i0 + 1; i < i1; i++) {
        a += table[stored[i]! - min]!;
        b += table[stored[i + sw]! - min]!;
        c += table[stored[i + 2 * sw]! - min]!;
        d += table[stored[i + 3 * sw]! - min]!;
      }
      if (i1 > i0) {
        const l = last[x]!;
        a += table[stored[i1]! - min]! * l;
        b += table[stored[i1 + sw]! - min]! * l;
        c += table[stored[i1 + 2 * sw]! - min]! * l;
        d += table[stored[i1 + 3 * sw]! - min]! * l;
      }
      tmp[dst + x] = a / sx;
      tmp[dst + dw + x] = b / sx;
      tmp[dst + 2 * dw + x] = c / sx;
      tmp[dst + 3 * dw + x] = d / sx;
    }
  }
  for (; y < sh; y++) {
    const row = y * sw;
    const dst = y * dw;
    for (let x = 0; x < dw; x++) {
      const i0 = row + start[x]!;
      const i1 = row + end[x]! - 1;
      let acc = table[stored[i0]! - min]! * first[x]!;
      for (let i = i0 + 1; i < i1; i++) acc += table[stored[i]! - min]!;
      if (i1 > i0) acc += table[stored[i1]! - min]! * last[x]!;
      tmp[dst + x] = acc / sx;
    }
  }
  return tmp;
}

function lookUp(source: DisplayTable | AffineSource): Float32Array {
  const { stored } = source;
  const out = new Float32Array(stored.length);
  if ('table' in source) for (let i = 0; i < stored.length; i++) out[i] = source.table[stored[i]! - source.min]!;
  else for (let i = 0; i < stored.length; i++) out[i] = stored[i]! * source.scale + source.offset;
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

/** The image's grey intensities placed in the model's input frame (stretched or letterboxed), and where it sits. */
export function placeIntensities(card: ModelCard, intensities: ResizeSource, width: number, height: number): { grey: Float32Array; geometry: InputGeometry } {
  const { width: w, height: h } = card.input;
  const geometry = inputGeometry(card.input.resize, width, height, w, h);
  if (card.input.resize === 'stretch') return { grey: resizeArea(intensities, width, height, w, h), geometry };
  // Letterbox: scale to fit, centre, pad with intensity 0 (black, as outside a collimated film).
  const sw = Math.max(1, Math.round(width * geometry.scaleX));
  const sh = Math.max(1, Math.round(height * geometry.scaleY));
  const scaled = resizeArea(intensities, width, height, sw, sh);
  const grey = new Float32Array(w * h);
  const ox = Math.round(geometry.offsetX);
  const oy = Math.round(geometry.offsetY);
  for (let y = 0; y < sh && y + oy < h; y++) grey.set(scaled.subarray(y * sw, y * sw + Math.min(sw, w - ox)), (y + oy) * w + ox);
  return { grey, geometry };
}

export interface Normalization {
  mean: number[];
  std: number[];
}

/**
 * Grey planes [n, h, w] → the NCHW tensor: each plane replicated to every channel and normalised
 * per channel. The inference host does this on its side of the pipe, so only the grey plane
 * (a third of the tensor) crosses it.
 */
export function channelsFromGrey(grey: Float32Array, images: number, channels: number, { mean, std }: Normalization): Float32Array<ArrayBuffer> {
  const plane = grey.length / images;
  const out = new Float32Array(images * channels * plane);
  for (let n = 0; n < images; n++) {
    const src = grey.subarray(n * plane, (n + 1) * plane);
    for (let c = 0; c < channels; c++) {
      const m = mean[mean.length === 1 ? 0 : c]!;
      const d = std[std.length === 1 ? 0 : c]!;
      const o = (n * channels + c) * plane;
      for (let i = 0; i < plane; i++) out[o + i] = (src[i]! - m) / d;
    }
  }
  return out;
}

/** One image's [channels, height, width] slice of the NCHW input tensor, and where the image sits in it. */
export function preprocess(card: ModelCard, intensities: ResizeSource, width: number, height: number): { input: Float32Array<ArrayBuffer>; geometry: InputGeometry } {
  const { grey, geometry } = placeIntensities(card, intensities, width, height);
  return { input: channelsFromGrey(grey, 1, card.input.channels, card.input.normalize), geometry };
}
