// Runs in tests. Pointing game and IoU on maps whose answer is known by construction.
import { describe, expect, it } from 'vitest';
import type { CamMap } from '../../preload/api';
import { overlap, regionContains } from './cam-overlap';

/** A w × h CAM over a 100 × 100 image whose cells are 1 inside [cx0, cx1) × [cy0, cy1), else 0. */
function blockCam(w: number, h: number, cx0: number, cx1: number, cy0: number, cy1: number, extent = { x0: 0, y0: 0, x1: 100, y1: 100 }): CamMap {
  const values: number[] = [];
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) values.push(x >= cx0 && x < cx1 && y >= cy0 && y < cy1 ? 1 : 0);
  return { labelId: 'opacity', method: 'gradcam', width: w, height: h, values, rawMax: 1, extent };
}

describe('cam overlap', () => {
  it('hits and has IoU near 1 when the region is where the CAM is', () => {
    // 10 × 10 grid over 100 px: cells 2..5 cover x, y in [20, 60); bilinear blur moves the half-level edge little.
    const cam = blockCam(10, 10, 2, 6, 2, 6);
    const r = overlap(cam, { kind: 'box', labelId: 'opacity', x0: 20, y0: 20, x1: 60, y1: 60 }, 100, 100);
    expect(r.hit).toBe(true);
    expect(r.iou).toBeGreaterThan(0.8);
  });

  it('misses with IoU 0 when the region is elsewhere, and a box drawn backwards is the same box', () => {
    const cam = blockCam(10, 10, 0, 2, 0, 2);
    const r = overlap(cam, { kind: 'box', labelId: 'opacity', x0: 90, y0: 90, x1: 60, y1: 60 }, 100, 100);
    expect(r).toEqual({ hit: false, iou: 0 });
  });

  it('half the region covered gives IoU one half', () => {
    // CAM covers x in [0, 50) fully (all rows); region is the whole image: IoU = 0.5 (± the blurred edge).
    const cam = blockCam(10, 10, 0, 5, 0, 10);
    const r = overlap(cam, { kind: 'polygon', labelId: 'opacity', points: [{ x: 0, y: 0 }, { x: 100, y: 0 }, { x: 100, y: 100 }, { x: 0, y: 100 }] }, 100, 100);
    expect(r.hit).toBe(true);
    expect(r.iou).toBeGreaterThan(0.45);
    expect(r.iou).toBeLessThan(0.55);
  });

  it("uses the CAM's extent: a letterboxed map's padding does not shift it", () => {
    // Image 100 wide × 50 high letterboxed into a square input: the map spans y from -25 to 75.
    const cam = blockCam(10, 10, 6, 10, 3, 7, { x0: 0, y0: -25, x1: 100, y1: 75 });
    // Cells 3..6 in y cover input rows 30..70 → image y 5..45; x 60..100.
    const r = overlap(cam, { kind: 'box', labelId: 'opacity', x0: 60, y0: 5, x1: 100, y1: 45 }, 100, 50);
    expect(r.hit).toBe(true);
    expect(r.iou).toBeGreaterThan(0.75);
  });

  it('an all-zero CAM never hits', () => {
    const cam = blockCam(4, 4, 0, 0, 0, 0);
    expect(overlap(cam, { kind: 'box', labelId: 'opacity', x0: 0, y0: 0, x1: 100, y1: 100 }, 100, 100)).toEqual({ hit: false, iou: 0 });
  });

  it('polygon containment (a triangle)', () => {
    const tri = { kind: 'polygon' as const, labelId: 'x', points: [{ x: 0, y: 0 }, { x: 10, y: 0 }, { x: 0, y: 10 }] };
    expect(regionContains(tri, 2, 2)).toBe(true);
    expect(regionContains(tri, 8, 8)).toBe(false);
  });
});
