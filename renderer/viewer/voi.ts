// Runs in the renderer. The display pipeline on the CPU: the same maths the fragment shader does,
// used by the Canvas 2D path and by tests.

export interface DisplayParams {
  slope: number;
  intercept: number;
  center: number;
  width: number;
  /** MONOCHROME1: low values are white. */
  invert: boolean;
}

/** DICOM PS3.3 C.11.2.1.2.1 linear VOI, as a fraction of the output range (0..1). */
export function voiLinear(x: number, center: number, width: number): number {
  // Width 1 is a threshold in the standard; the formula below would divide by zero.
  if (width <= 1) return x <= center - 0.5 ? 0 : 1;
  const y = (x - (center - 0.5)) / (width - 1) + 0.5;
  return y <= 0 ? 0 : y >= 1 ? 1 : y;
}

/** Stored value → display grey in 0..1: modality LUT, VOI, then MONOCHROME1 inversion. */
export function displayValue(stored: number, p: DisplayParams): number {
  const y = voiLinear(stored * p.slope + p.intercept, p.center, p.width);
  return p.invert ? 1 - y : y;
}

export function isMonochrome1(photometric: string): boolean {
  return photometric.trim().toUpperCase() === 'MONOCHROME1';
}
