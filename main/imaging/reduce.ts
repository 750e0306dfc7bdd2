// Runs in the decode worker, main and tests. Shrinking a decoded frame to what a consumer needs:
// the smallest size keeping the aspect ratio that still covers a target, reached by area
// averaging (each output pixel is the mean of the source area it covers, so noise and fine
// patterns do not alias), in the frame's own sample type.
import type { TargetSize } from './codecs';
import type { StoredArray } from './types';

/** The aspect-preserving size covering `target` on both axes; the frame's own size when it is not larger. */
export function coverSize(width: number, height: number, target: TargetSize): { width: number; height: number } {
  const s = Math.max(target.width / width, target.height / height);
  if (s >= 1) return { width, height };
  return { width: Math.min(width, Math.ceil(width * s)), height: Math.min(height, Math.ceil(height * s)) };
}

/**
 * The size a viewer of `view` device pixels asks for first at fit: one texel per device pixel, 5%
 * short so a view just larger than a JPEG 2000 level does not cost the next level up. The same rule
 * as the renderer's previewTarget (renderer/viewer/progressive.ts) for square pixels, so that the
 * frame decoded on opening is the one the viewer then asks for. Null when the whole frame is needed.
 */
export function viewPreviewTarget(width: number, height: number, view: TargetSize): TargetSize | null {
  if (view.width < 1 || view.height < 1) return null;
  const r = Math.min(view.width / width, view.height / height);
  if (r >= 1) return null;
  const target = { width: Math.ceil(width * r * 0.95), height: Math.ceil(height * r * 0.95) };
  return target.width >= width && target.height >= height ? null : target;
}

/**
 * Area-averages an interleaved frame of `samples` samples per pixel from sw × sh to dw × dh
 * (dw ≤ sw, dh ≤ sh), rounding back to the source's integer type. Columns first, then rows.
 */
export function areaAverage(src: StoredArray, sw: number, sh: number, samples: number, dw: number, dh: number): StoredArray {
  const sx = sw / dw;
  const sy = sh / dh;
  // Each output column's source columns and their overlap weights, computed once for every row.
  const first = new Int32Array(dw);
  const count = new Int32Array(dw);
  const offset = new Int32Array(dw);
  const weights = new Float64Array(dw * (Math.ceil(sx) + 1));
  for (let x = 0, wi = 0; x < dw; x++) {
    const a = x * sx;
    const b = a + sx;
    first[x] = Math.floor(a);
    count[x] = Math.min(sw, Math.ceil(b)) - first[x]!;
    offset[x] = wi;
    for (let i = first[x]!; i < first[x]! + count[x]!; i++) weights[wi++] = (Math.min(b, i + 1) - Math.max(a, i)) / sx;
  }
  const tmp = new Float32Array(dw * sh * samples);
  for (let y = 0; y < sh; y++) {
    const srcRow = y * sw;
    const tmpRow = y * dw;
    for (let x = 0; x < dw; x++) {
      const start = (srcRow + first[x]!) * samples;
      const n = count[x]!;
      const w0 = offset[x]!;
      for (let c = 0; c < samples; c++) {
        let acc = 0;
        for (let k = 0; k < n; k++) acc += src[start + k * samples + c]! * weights[w0 + k]!;
        tmp[(tmpRow + x) * samples + c] = acc;
      }
    }
  }
  const out = new (src.constructor as new (n: number) => StoredArray)(dw * dh * samples);
  const round = !(out instanceof Float32Array);
  const acc = new Float64Array(dw * samples);
  for (let y = 0; y < dh; y++) {
    const a = y * sy;
    const b = a + sy;
    const j0 = Math.floor(a);
    const j1 = Math.min(sh, Math.ceil(b));
    acc.fill(0);
    for (let j = j0; j < j1; j++) {
      const w = (Math.min(b, j + 1) - Math.max(a, j)) / sy;
      const row = j * dw * samples;
      for (let k = 0; k < dw * samples; k++) acc[k]! += tmp[row + k]! * w;
    }
    const o = y * dw * samples;
    for (let k = 0; k < dw * samples; k++) out[o + k] = round ? Math.round(acc[k]!) : acc[k]!;
  }
  return out;
}

/**
 * A JPEG 2000 resolution level's samples sit where the level's first full-resolution pixel sits,
 * not at the centre of the 2^level × 2^level block each stands for: resamples them (bilinear, by
 * (2^level − 1) / 2^(level+1) of a sample on each axis) so sample n describes block n, as an area
 * average would. Without it the bundled model moved by up to 0.025 against the full decode.
 */
export function centreLevel(src: StoredArray, w: number, h: number, samples: number, level: number): StoredArray {
  if (level <= 0) return src;
  const d = (2 ** level - 1) / 2 ** (level + 1);
  const out = new (src.constructor as new (n: number) => StoredArray)(src.length);
  const round = !(out instanceof Float32Array);
  for (let y = 0; y < h; y++) {
    const r0 = y * w;
    const r1 = Math.min(h - 1, y + 1) * w;
    for (let x = 0; x < w; x++) {
      const x1 = Math.min(w - 1, x + 1);
      for (let c = 0; c < samples; c++) {
        const top = src[(r0 + x) * samples + c]! * (1 - d) + src[(r0 + x1) * samples + c]! * d;
        const bottom = src[(r1 + x) * samples + c]! * (1 - d) + src[(r1 + x1) * samples + c]! * d;
        const v = top * (1 - d) + bottom * d;
        // Math.round is several times slower here; with dyadic weights v + ½ is exact, so floor matches it.
        out[(r0 + x) * samples + c] = round ? Math.floor(v + 0.5) : v;
      }
    }
  }
  return out;
}
