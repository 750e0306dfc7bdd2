import { describe, expect, it } from 'vitest';
import { buildRamp, VIRIDIS_ANCHORS } from './colormap';

const luminance = (r: number, g: number, b: number) => 0.2126 * r + 0.7152 * g + 0.0722 * b;

describe('buildRamp', () => {
  const ramp = buildRamp();

  it('starts and ends on the first and last anchors, opaque throughout', () => {
    expect(Array.from(ramp.slice(0, 3))).toEqual([...(VIRIDIS_ANCHORS[0] ?? [])]);
    expect(Array.from(ramp.slice(-4, -1))).toEqual([...(VIRIDIS_ANCHORS.at(-1) ?? [])]);
    for (let i = 3; i < ramp.length; i += 4) expect(ramp[i]).toBe(255);
  });

  it('gets lighter monotonically, so order survives colour-vision deficiency and greyscale print', () => {
    let previous = -1;
    for (let i = 0; i < ramp.length; i += 4) {
      const y = luminance(ramp[i] as number, ramp[i + 1] as number, ramp[i + 2] as number);
      expect(y).toBeGreaterThanOrEqual(previous);
      previous = y;
    }
  });
});
