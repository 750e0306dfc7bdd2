import { describe, expect, it } from 'vitest';
import { angleDeg, cardiothoracicRatio, distance, modalityUnit, roiStats } from './measure';

const imager = { row: 0.5, column: 0.25, source: 'ImagerPixelSpacing' as const };

describe('measurements', () => {
  it('measures lengths in mm with the spacing source, or in px when uncalibrated', () => {
    expect(distance([0, 0], [4, 0], imager)).toEqual({ value: 1, unit: 'mm', source: 'ImagerPixelSpacing' });
    expect(distance([0, 0], [0, 4], imager).value).toBeCloseTo(2);
    expect(distance([0, 0], [3, 4], undefined)).toEqual({ value: 5, unit: 'px', source: 'uncalibrated' });
  });

  it('measures angles on the physical plane', () => {
    expect(angleDeg([1, 0], [0, 0], [0, 1], undefined)).toBeCloseTo(90);
    // With column spacing half the row spacing, (2, 1) px is 45° physically.
    expect(angleDeg([2, 0], [0, 0], [2, 1], imager)).toBeCloseTo(45);
  });

  it('gives mean, SD and area of a rectangle and an ellipse in modality units', () => {
    const values = Float32Array.from({ length: 16 }, (_, i) => i);
    const grid = { width: 4, height: 4, values, slope: 2, intercept: -10 };
    const rect = roiStats('rectangle', [0, 0], [2, 2], grid, undefined);
    // Pixels 0, 1, 4, 5 → modality -10, -8, -2, 0.
    expect(rect.pixels).toBe(4);
    expect(rect.mean).toBeCloseTo(-5);
    expect(rect.sd).toBeCloseTo(Math.sqrt((25 + 9 + 9 + 25) / 3));
    expect(rect.area).toBe(4);
    const ell = roiStats('ellipse', [0, 0], [4, 4], grid, imager);
    // The four corner pixels' centres fall outside the inscribed circle.
    expect(ell.pixels).toBe(12);
    expect(ell.area).toBeCloseTo(Math.PI * 4 * 0.125);
    expect(ell.areaUnit).toBe('mm²');
  });

  it('names HU for CT only', () => {
    expect(modalityUnit('CT')).toBe('HU');
    expect(modalityUnit('CR')).toBe('');
    expect(modalityUnit(undefined)).toBe('');
  });

  it('computes the cardiothoracic ratio', () => {
    expect(cardiothoracicRatio({ value: 140, unit: 'mm', source: 'PixelSpacing' }, { value: 280, unit: 'mm', source: 'PixelSpacing' })).toBe(0.5);
  });
});
