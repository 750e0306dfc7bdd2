import { describe, expect, it } from 'vitest';
import { InFlight, needsFull, PREVIEW_SLACK, previewTarget, texelOf, texelScale } from './progressive';

describe('previewTarget', () => {
  it('asks for what the view shows at fit: one texel per device pixel on the larger axis, less the slack', () => {
    // 2,500 × 3,000 on 850 × 753 device pixels: height decides (753 / 3000), so 628 × 753 less 5%,
    // which a 625 × 750 JPEG 2000 level covers.
    expect(PREVIEW_SLACK).toBe(0.95);
    expect(previewTarget({ width: 2500, height: 3000 }, { width: 850, height: 753 })).toEqual({ width: 597, height: 716 });
    // A wide view: width decides.
    expect(previewTarget({ width: 3000, height: 1000 }, { width: 600, height: 900 })).toEqual({ width: 570, height: 190 });
  });

  it('asks for nothing reduced when the full frame is no larger than the view needs', () => {
    expect(previewTarget({ width: 512, height: 512 }, { width: 850, height: 753 })).toBeNull();
    expect(previewTarget({ width: 753, height: 753 }, { width: 850, height: 753 })).toBeNull();
    // No view measured yet: the full frame.
    expect(previewTarget({ width: 3000, height: 3000 }, { width: 0, height: 0 })).toBeNull();
  });

  it('covers tall pixels: rows are drawn larger, so they decide', () => {
    // Pixels twice as tall as wide: 1000 × 500 pixels show as a 1000 × 1000 square, fit at 0.4.
    expect(previewTarget({ width: 1000, height: 500 }, { width: 400, height: 400 }, 2)).toEqual({ width: 760, height: 380 });
  });
});

describe('texel mapping', () => {
  const full = { width: 3000, height: 3000 };
  const reduced = { width: 750, height: 750 };

  it('maps full-image pixels to the texel that stands for them', () => {
    expect(texelOf(0, 0, reduced, full)).toEqual([0, 0]);
    expect(texelOf(3, 7, reduced, full)).toEqual([0, 1]);
    expect(texelOf(2999, 2999, reduced, full)).toEqual([749, 749]);
    expect(texelOf(1234, 567, full, full)).toEqual([1234, 567]);
    expect(texelOf(3000, 10, reduced, full)).toBeNull();
    expect(texelOf(-1, 10, reduced, full)).toBeNull();
  });

  it('a reduced texture needs the full frame once a texel is drawn larger than a device pixel', () => {
    // Fit on 753 px: 0.251 device pixels per image pixel, about one per texel.
    expect(texelScale(0.251, reduced, full)).toBeCloseTo(1.004, 3);
    expect(needsFull(0.25, reduced, full)).toBe(false);
    expect(needsFull(0.5, reduced, full)).toBe(true);
    // The full frame never needs more.
    expect(needsFull(8, full, full)).toBe(false);
  });
});

describe('InFlight', () => {
  it('gives a second ask the promise already running, and starts again once it settled', async () => {
    const inflight = new InFlight<number>();
    let started = 0;
    let release: (v: number) => void = () => undefined;
    const start = () => {
      started++;
      return new Promise<number>((r) => (release = r));
    };
    const a = inflight.run('img|0', start);
    const b = inflight.run('img|0', start);
    expect(b).toBe(a);
    expect(started).toBe(1);
    release(7);
    expect(await a).toBe(7);
    expect(inflight.size).toBe(0);
    void inflight.run('img|0', start);
    expect(started).toBe(2);
  });

  it('forgets a failed request so it can be asked again', async () => {
    const inflight = new InFlight<number>();
    await expect(inflight.run('k', () => Promise.reject(new Error('no')))).rejects.toThrow('no');
    expect(await inflight.run('k', () => Promise.resolve(3))).toBe(3);
  });
});
