import { describe, expect, it } from 'vitest';
import { applyVoi, displayValue, evalVoiAffine, isInverted, voiAffine, voiLinear, voiLinearExact, voiSigmoid, type VoiFunction } from './voi';

// DICOM PS3.3 C.11.2.1.2.1, written out piecewise as the standard states it, as the reference.
function standardLinear(x: number, c: number, w: number): number {
  if (x <= c - 0.5 - (w - 1) / 2) return 0;
  if (x > c - 0.5 + (w - 1) / 2) return 1;
  return (x - (c - 0.5)) / (w - 1) + 0.5;
}

describe('voiLinear', () => {
  it('matches the standard piecewise definition', () => {
    for (const [c, w] of [
      [40, 400],
      [-600, 1500],
      [127.5, 256],
      [2048, 4096],
      [0.5, 2],
    ] as const) {
      for (let x = c - w; x <= c + w; x += w / 37) {
        expect(voiLinear(x, c, w)).toBeCloseTo(standardLinear(x, c, w), 12);
      }
    }
  });

  it('treats width 1 as a threshold at center - 0.5', () => {
    expect(voiLinear(99.5, 100, 1)).toBe(0);
    expect(voiLinear(99.51, 100, 1)).toBe(1);
  });

  it('puts the window edges where the standard does', () => {
    expect(voiLinear(-160, 40, 400)).toBe(0);
    expect(voiLinear(239.0001, 40, 400)).toBe(1);
    expect(voiLinear(39.5, 40, 400)).toBeCloseTo(0.5, 12);
  });

  it('maps 8-bit data through the window 128/256 onto 0..255 unchanged (y = x / 255)', () => {
    for (let v = 0; v < 256; v++) expect(voiLinear(v, 128, 256) * 255).toBeCloseTo(v, 9);
  });
});

describe('displayValue', () => {
  it('applies the modality LUT before the window', () => {
    // Stored 1064 with slope 1 / intercept -1024 is 40 HU: the centre of a 40/400 window.
    const p = { slope: 1, intercept: -1024, center: 40, width: 400, voiFunction: 'LINEAR' as const, invert: false };
    expect(displayValue(1064, p)).toBeCloseTo(voiLinear(40, 40, 400), 12);
    expect(displayValue(0, p)).toBe(0);
  });

  it('inverts for MONOCHROME1 after the window', () => {
    const p = { slope: 2, intercept: 0, center: 100, width: 200, voiFunction: 'LINEAR' as const, invert: true };
    expect(displayValue(0, p)).toBe(1);
    expect(displayValue(500, p)).toBe(0);
  });

  it('uses the VOI function the file names', () => {
    const base = { slope: 1, intercept: 0, center: 100, width: 50, invert: false };
    expect(displayValue(110, { ...base, voiFunction: 'LINEAR_EXACT' })).toBeCloseTo(0.7, 12);
    expect(displayValue(110, { ...base, voiFunction: 'SIGMOID' })).toBeCloseTo(1 / (1 + Math.exp(-0.8)), 12);
  });
});

describe('other VOI functions', () => {
  it('LINEAR_EXACT has no half-unit offsets and takes widths below 1', () => {
    expect(voiLinearExact(75, 100, 50)).toBe(0);
    expect(voiLinearExact(100, 100, 50)).toBe(0.5);
    expect(voiLinearExact(125, 100, 50)).toBe(1);
    expect(voiLinearExact(0.25, 0.5, 0.5)).toBe(0);
    expect(voiLinearExact(0.6, 0.5, 0.5)).toBeCloseTo(0.7, 12);
  });

  it('SIGMOID is one half at the centre and symmetric about it', () => {
    expect(voiSigmoid(40, 40, 400)).toBe(0.5);
    expect(voiSigmoid(140, 40, 400) + voiSigmoid(-60, 40, 400)).toBeCloseTo(1, 12);
  });
});

describe('isInverted', () => {
  it('inverts MONOCHROME1 however it is padded or cased, and INVERSE, but never twice', () => {
    expect(isInverted({ photometric: 'MONOCHROME1 ' })).toBe(true);
    expect(isInverted({ photometric: 'monochrome1' })).toBe(true);
    expect(isInverted({ photometric: 'MONOCHROME2' })).toBe(false);
    expect(isInverted({ photometric: 'MONOCHROME2', presentationLutShape: 'INVERSE' })).toBe(true);
    expect(isInverted({ photometric: 'MONOCHROME1', presentationLutShape: 'INVERSE' })).toBe(true);
  });
});

describe('voiAffine', () => {
  it('equals the PS3.3 formulas with the modality LUT folded in', () => {
    const cases: [VoiFunction, number, number, number, number][] = [
      ['LINEAR', 1, -1024, 40, 400],
      ['LINEAR', 2, 0, 2095, 3200],
      ['LINEAR', 1, 0, 100, 1],
      ['LINEAR', 1, 0, 100, 0.5],
      ['LINEAR_EXACT', 0.5, 10, 300, 200],
      ['SIGMOID', 1, -1024, 40, 400],
    ];
    for (const [fn, slope, intercept, center, width] of cases) {
      const v = voiAffine(fn, slope, intercept, center, width);
      for (const stored of [0, 50, 99, 99.5, 100, 100.5, 101, 500, 1064, 2000, 4095]) {
        expect(evalVoiAffine(v, stored), `${fn} ${center}/${width} at ${stored}`).toBeCloseTo(applyVoi(fn, stored * slope + intercept, center, width), 9);
      }
    }
  });
});
