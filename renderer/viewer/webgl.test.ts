import { describe, expect, it } from 'vitest';
import { halve } from './webgl';

describe('halve', () => {
  it('averages 2 × 2 blocks, and what there is at odd edges', () => {
    const v = Float32Array.from([1, 3, 5, 2, 4, 6, 7, 9, 11]);
    const h = halve(v, 3, 3);
    expect([h.width, h.height]).toEqual([2, 2]);
    expect(Array.from(h.values)).toEqual([(1 + 3 + 2 + 4) / 4, (5 + 5 + 6 + 6) / 4, (7 + 9 + 7 + 9) / 4, 11]);
  });
});
