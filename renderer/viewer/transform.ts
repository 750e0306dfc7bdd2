// Runs in the renderer. Where the image lands on the canvas: one affine map from image pixels to
// canvas (device) pixels built from fit, zoom, pan, rotation and flips. Both renderers, the tools
// and the measurement overlay use the same map, so a point clicked is the point measured.

export interface ViewTransform {
  /** Relative to "fit": 1 shows the whole image as large as the canvas allows. */
  zoom: number;
  /** Offset of the image centre from the canvas centre, in CSS pixels. */
  panX: number;
  panY: number;
  /** Clockwise quarter turns on screen. */
  rotation: 0 | 90 | 180 | 270;
  flipH: boolean;
  flipV: boolean;
}

export const IDENTITY_VIEW: ViewTransform = { zoom: 1, panX: 0, panY: 0, rotation: 0, flipH: false, flipV: false };

/** x' = a·x + c·y + e, y' = b·x + d·y + f (the order CanvasRenderingContext2D.setTransform takes). */
export interface Affine {
  a: number;
  b: number;
  c: number;
  d: number;
  e: number;
  f: number;
}

export interface ViewGeometry {
  canvasWidth: number;
  canvasHeight: number;
  imageWidth: number;
  imageHeight: number;
  /** A pixel's height over its width (row spacing / column spacing). */
  pixelAspect: number;
  /** Device pixels per CSS pixel. */
  dpr: number;
}

const safeAspect = (a: number) => (a > 0 && Number.isFinite(a) ? a : 1);

/** Device pixels per image column at zoom 1: the whole (rotated) image fits the canvas. */
export function fitScale(g: ViewGeometry, rotation: ViewTransform['rotation']): number {
  const physW = g.imageWidth;
  const physH = g.imageHeight * safeAspect(g.pixelAspect);
  const quarter = rotation === 90 || rotation === 270;
  const boxW = quarter ? physH : physW;
  const boxH = quarter ? physW : physH;
  return Math.min(g.canvasWidth / boxW, g.canvasHeight / boxH);
}

/** The zoom at which one image pixel covers one device pixel (1:1). */
export function oneToOneZoom(g: ViewGeometry, rotation: ViewTransform['rotation']): number {
  return 1 / fitScale(g, rotation);
}

export function viewAffine(g: ViewGeometry, t: ViewTransform): Affine {
  const s = fitScale(g, t.rotation) * t.zoom;
  const aspect = safeAspect(g.pixelAspect);
  // Centre the image at the origin, make pixels physical, flip, rotate, scale, then move the
  // origin to the canvas centre plus the pan.
  const fx = t.flipH ? -1 : 1;
  const fy = t.flipV ? -1 : 1;
  const rad = (t.rotation * Math.PI) / 180;
  const cos = Math.round(Math.cos(rad));
  const sin = Math.round(Math.sin(rad));
  // Linear part: R · F · diag(1, aspect), R rotating clockwise on a y-down screen.
  const a = s * cos * fx;
  const b = s * sin * fx;
  const c = -s * sin * fy * aspect;
  const d = s * cos * fy * aspect;
  const cx = g.imageWidth / 2;
  const cy = g.imageHeight / 2;
  const e = g.canvasWidth / 2 + t.panX * g.dpr - (a * cx + c * cy);
  const f = g.canvasHeight / 2 + t.panY * g.dpr - (b * cx + d * cy);
  return { a, b, c, d, e, f };
}

export function apply(m: Affine, x: number, y: number): [number, number] {
  return [m.a * x + m.c * y + m.e, m.b * x + m.d * y + m.f];
}

export function invert(m: Affine): Affine {
  const det = m.a * m.d - m.b * m.c;
  const a = m.d / det;
  const b = -m.b / det;
  const c = -m.c / det;
  const d = m.a / det;
  return { a, b, c, d, e: -(a * m.e + c * m.f), f: -(b * m.e + d * m.f) };
}

/** Device pixels per image column along the screen (how large one image pixel is drawn). */
export function displayScale(m: Affine): number {
  return Math.hypot(m.a, m.b);
}
