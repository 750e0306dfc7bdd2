// Runs in the renderer. The display pipeline on the CPU: the same maths the fragment shader does,
// used by the Canvas 2D path and by tests. Follows PS3.3 C.11 as the backend's renderer does, so
// the two show the same grey for the same window.
import type { ImageInfo } from '../../preload/api';

export type VoiFunction = 'LINEAR' | 'LINEAR_EXACT' | 'SIGMOID';

export interface DisplayParams {
  slope: number;
  intercept: number;
  center: number;
  width: number;
  voiFunction: VoiFunction;
  /** MONOCHROME1 or Presentation LUT Shape INVERSE: low values are white. */
  invert: boolean;
}

const clamp01 = (y: number) => (y <= 0 ? 0 : y >= 1 ? 1 : y);

/** LINEAR (C.11.2.1.2.1), as a fraction of the output range; width 1 is a threshold. */
export function voiLinear(x: number, center: number, width: number): number {
  // The formula below would divide by zero at width 1.
  if (width <= 1) return x <= center - 0.5 ? 0 : 1;
  return clamp01((x - (center - 0.5)) / (width - 1) + 0.5);
}

/** LINEAR_EXACT (C.11.2.1.3.2): no half-unit offsets. */
export function voiLinearExact(x: number, center: number, width: number): number {
  return clamp01((x - center) / width + 0.5);
}

/** SIGMOID (C.11.2.1.3.1). */
export function voiSigmoid(x: number, center: number, width: number): number {
  return 1 / (1 + Math.exp((-4 * (x - center)) / width));
}

export function applyVoi(fn: VoiFunction, x: number, center: number, width: number): number {
  return fn === 'SIGMOID' ? voiSigmoid(x, center, width) : fn === 'LINEAR_EXACT' ? voiLinearExact(x, center, width) : voiLinear(x, center, width);
}

/** Stored value → display grey in 0..1: modality LUT, VOI, then inversion. */
export function displayValue(stored: number, p: DisplayParams): number {
  const y = applyVoi(p.voiFunction, stored * p.slope + p.intercept, p.center, p.width);
  return p.invert ? 1 - y : y;
}

/**
 * The VOI of a stored value as one multiply-add: y = clamp(a·x + b) ('linear'), a·x + b > 0
 * ('step', LINEAR at width ≤ 1), or 1 / (1 + exp(a·x + b)) ('sigmoid'), with the modality LUT
 * folded in. The shader runs this per pixel, so its cost is one fused multiply-add, not the formula.
 */
export interface VoiAffine {
  shape: 'linear' | 'step' | 'sigmoid';
  a: number;
  b: number;
}

export function voiAffine(fn: VoiFunction, slope: number, intercept: number, center: number, width: number): VoiAffine {
  if (fn === 'SIGMOID') return { shape: 'sigmoid', a: (-4 * slope) / width, b: (-4 * (intercept - center)) / width };
  if (fn === 'LINEAR_EXACT') return { shape: 'linear', a: slope / width, b: (intercept - center) / width + 0.5 };
  if (width <= 1) return { shape: 'step', a: slope, b: intercept - (center - 0.5) };
  return { shape: 'linear', a: slope / (width - 1), b: (intercept - (center - 0.5)) / (width - 1) + 0.5 };
}

/** Evaluates a VoiAffine as the shader does (tests hold it to applyVoi). */
export function evalVoiAffine(v: VoiAffine, stored: number): number {
  const t = v.a * stored + v.b;
  if (v.shape === 'sigmoid') return 1 / (1 + Math.exp(t));
  if (v.shape === 'step') return t > 0 ? 1 : 0;
  return clamp01(t);
}

/** Inverted once for MONOCHROME1 or INVERSE, never twice (PS3.3 C.8.11.6.1.2). */
export function isInverted(info: Pick<ImageInfo, 'photometric' | 'storedPhotometric' | 'presentationLutShape'>): boolean {
  const photometric = (info.storedPhotometric ?? info.photometric).trim().toUpperCase();
  return photometric === 'MONOCHROME1' || info.presentationLutShape === 'INVERSE';
}
