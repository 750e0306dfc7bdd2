import { describe, expect, it } from 'vitest';
import { apply, fitScale, IDENTITY_VIEW, invert, oneToOneZoom, viewAffine, type ViewGeometry } from './transform';

const g: ViewGeometry = { canvasWidth: 800, canvasHeight: 600, imageWidth: 400, imageHeight: 200, pixelAspect: 1, dpr: 1 };

describe('viewAffine', () => {
  it('fits and centres the image at zoom 1', () => {
    const m = viewAffine(g, IDENTITY_VIEW);
    expect(apply(m, 0, 0)).toEqual([0, 100]);
    expect(apply(m, 400, 200)).toEqual([800, 500]);
  });

  it('keeps physical proportions for non-square pixels', () => {
    const m = viewAffine({ ...g, pixelAspect: 2 }, IDENTITY_VIEW);
    const [x0, y0] = apply(m, 0, 0);
    const [x1, y1] = apply(m, 400, 200);
    expect((y1 - y0) / (x1 - x0)).toBeCloseTo(1);
  });

  it('rotates a quarter turn clockwise: the top-left corner goes to the top-right', () => {
    const m = viewAffine(g, { ...IDENTITY_VIEW, rotation: 90 });
    const [x, y] = apply(m, 0, 0);
    const [cx, cy] = apply(m, 200, 100);
    expect(x).toBeGreaterThan(cx);
    expect(y).toBeLessThan(cy);
    // Rotated, the image is 200 wide and 400 tall: it fits 600 px of height.
    expect(fitScale(g, 90)).toBeCloseTo(1.5);
  });

  it('flips horizontally and vertically about the centre', () => {
    const m = viewAffine(g, { ...IDENTITY_VIEW, flipH: true, flipV: true });
    expect(apply(m, 0, 0)).toEqual([800, 500]);
  });

  it('pans in CSS pixels scaled by the device pixel ratio, and zooms about the centre', () => {
    const m = viewAffine({ ...g, dpr: 2 }, { ...IDENTITY_VIEW, zoom: 2, panX: 10, panY: -5 });
    expect(apply(m, 200, 100)).toEqual([420, 290]);
    expect(apply(m, 0, 100)[0]).toBeCloseTo(420 - 800);
  });

  it('inverts exactly, and 1:1 makes one image pixel one device pixel', () => {
    const m = viewAffine(g, { ...IDENTITY_VIEW, zoom: 1.7, rotation: 270, flipH: true, panX: 33 });
    const [x, y] = apply(invert(m), ...apply(m, 123.5, 45.25));
    expect(x).toBeCloseTo(123.5);
    expect(y).toBeCloseTo(45.25);
    const one = viewAffine(g, { ...IDENTITY_VIEW, zoom: oneToOneZoom(g, 0) });
    expect(apply(one, 1, 0)[0] - apply(one, 0, 0)[0]).toBeCloseTo(1);
  });
});
