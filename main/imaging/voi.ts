// Runs anywhere. Modality LUT and VOI as PS3.3 C.11.1 and C.11.2.1.2 define them (linear only
// here; LINEAR_EXACT, SIGMOID and VOI LUT Sequence arrive with the Imaging issue).
import type { ImageInfo, VoiWindow } from '../../preload/api';
import type { StoredArray } from './types';

/** Maps a value through the linear VOI function onto [0, 1] (PS3.3 C.11.2.1.2.1). */
export function voiLinear(x: number, center: number, width: number): number {
  if (width <= 1) return x <= center - 0.5 ? 0 : 1;
  const y = (x - (center - 0.5)) / (width - 1) + 0.5;
  return y <= 0 ? 0 : y >= 1 ? 1 : y;
}

/** The window under which a raw range [0, max] displays as value / max (used for PNG/JPEG). */
export function fullRangeWindow(max: number): VoiWindow {
  return { center: max / 2 + 0.5, width: max + 1, explanation: 'Full range' };
}

/**
 * Display intensities in [0, 1] for one grey frame: modality LUT, VOI, then MONOCHROME1
 * inversion so that high always means bright. Colour frames become luminance (Rec. 601).
 */
export function displayIntensities(frame: StoredArray, info: ImageInfo, window: VoiWindow = info.windows[0]!): Float32Array {
  const n = info.width * info.height;
  const out = new Float32Array(n);
  const { rescaleSlope: slope, rescaleIntercept: intercept } = info;
  if (info.samplesPerPixel === 3) {
    for (let i = 0; i < n; i++) {
      const l = 0.299 * frame[3 * i]! + 0.587 * frame[3 * i + 1]! + 0.114 * frame[3 * i + 2]!;
      out[i] = voiLinear(l, window.center, window.width);
    }
    return out;
  }
  const invert = info.photometric === 'MONOCHROME1';
  for (let i = 0; i < n; i++) {
    const v = voiLinear(frame[i]! * slope + intercept, window.center, window.width);
    out[i] = invert ? 1 - v : v;
  }
  return out;
}

/**
 * A default window from the histogram when the file has none: the 0.5th to 99.5th percentile of
 * modality values, excluding padding, so a few hot or padded pixels do not flatten the image.
 */
export function windowFromHistogram(frame: StoredArray, slope: number, intercept: number, padding?: number): VoiWindow {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < frame.length; i++) {
    const v = frame[i]!;
    if (v === padding) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (!Number.isFinite(min)) return { center: intercept, width: 1, explanation: 'Auto (empty)' };
  const bins = 4096;
  const span = max - min || 1;
  const hist = new Uint32Array(bins);
  let count = 0;
  for (let i = 0; i < frame.length; i++) {
    const v = frame[i]!;
    if (v === padding) continue;
    hist[Math.min(bins - 1, Math.floor(((v - min) / span) * bins))]!++;
    count++;
  }
  const at = (q: number): number => {
    const target = q * count;
    let acc = 0;
    for (let b = 0; b < bins; b++) {
      acc += hist[b]!;
      if (acc >= target) return min + ((b + 0.5) / bins) * span;
    }
    return max;
  };
  const lo = at(0.005) * slope + intercept;
  const hi = at(0.995) * slope + intercept;
  const width = Math.max(1, hi - lo);
  return { center: lo + width / 2, width, explanation: 'Auto (histogram)' };
}
