// Runs in the renderer. The maths of the measurement tools, on image-pixel coordinates: lengths in
// mm when the file says how large a pixel is (and which attribute said so), angles, ROI statistics
// in modality units, and the cardiothoracic ratio.
import type { ImageInfo } from '../../preload/api';

export type Spacing = ImageInfo['spacing'];
export type Pt = readonly [number, number];

export interface Distance {
  value: number;
  unit: 'mm' | 'px';
  /** Where the size of a pixel came from, as the reader should see it. */
  source: 'PixelSpacing' | 'ImagerPixelSpacing' | 'uncalibrated';
}

export function distance(a: Pt, b: Pt, spacing: Spacing): Distance {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  if (!spacing) return { value: Math.hypot(dx, dy), unit: 'px', source: 'uncalibrated' };
  return { value: Math.hypot(dx * spacing.column, dy * spacing.row), unit: 'mm', source: spacing.source };
}

/** The angle at `vertex` between the arms to `a` and `b`, in degrees, on the physical plane. */
export function angleDeg(a: Pt, vertex: Pt, b: Pt, spacing: Spacing): number {
  const sx = spacing?.column ?? 1;
  const sy = spacing?.row ?? 1;
  const ux = (a[0] - vertex[0]) * sx;
  const uy = (a[1] - vertex[1]) * sy;
  const vx = (b[0] - vertex[0]) * sx;
  const vy = (b[1] - vertex[1]) * sy;
  const n = Math.hypot(ux, uy) * Math.hypot(vx, vy);
  if (n === 0) return 0;
  return (Math.acos(Math.min(1, Math.max(-1, (ux * vx + uy * vy) / n))) * 180) / Math.PI;
}

export interface RoiStats {
  mean: number;
  sd: number;
  /** mm² when calibrated, px² otherwise. */
  area: number;
  areaUnit: 'mm²' | 'px²';
  pixels: number;
}

export interface ValueGrid {
  width: number;
  height: number;
  /** Stored values, row-major. */
  values: ArrayLike<number>;
  slope: number;
  intercept: number;
}

/**
 * Mean and (sample) standard deviation of modality values over the pixels whose centres fall in
 * the rectangle or ellipse spanned by two corners; the area is the shape's geometric area.
 */
export function roiStats(kind: 'rectangle' | 'ellipse', a: Pt, b: Pt, grid: ValueGrid, spacing: Spacing): RoiStats {
  const x0 = Math.min(a[0], b[0]);
  const x1 = Math.max(a[0], b[0]);
  const y0 = Math.min(a[1], b[1]);
  const y1 = Math.max(a[1], b[1]);
  const cx = (x0 + x1) / 2;
  const cy = (y0 + y1) / 2;
  const rx = (x1 - x0) / 2;
  const ry = (y1 - y0) / 2;
  let n = 0;
  let sum = 0;
  let sumSq = 0;
  const colStart = Math.max(0, Math.ceil(x0 - 0.5));
  const colEnd = Math.min(grid.width - 1, Math.floor(x1 - 0.5));
  const rowStart = Math.max(0, Math.ceil(y0 - 0.5));
  const rowEnd = Math.min(grid.height - 1, Math.floor(y1 - 0.5));
  for (let r = rowStart; r <= rowEnd; r++) {
    for (let c = colStart; c <= colEnd; c++) {
      if (kind === 'ellipse') {
        const ex = rx > 0 ? (c + 0.5 - cx) / rx : 0;
        const ey = ry > 0 ? (r + 0.5 - cy) / ry : 0;
        if (ex * ex + ey * ey > 1) continue;
      }
      const v = (grid.values[r * grid.width + c] as number) * grid.slope + grid.intercept;
      n++;
      sum += v;
      sumSq += v * v;
    }
  }
  const mean = n > 0 ? sum / n : 0;
  const sd = n > 1 ? Math.sqrt(Math.max(0, (sumSq - n * mean * mean) / (n - 1))) : 0;
  const pxArea = kind === 'ellipse' ? Math.PI * rx * ry : (x1 - x0) * (y1 - y0);
  return spacing
    ? { mean, sd, area: pxArea * spacing.row * spacing.column, areaUnit: 'mm²', pixels: n }
    : { mean, sd, area: pxArea, areaUnit: 'px²', pixels: n };
}

/** Cardiothoracic ratio: the widest cardiac diameter over the widest thoracic one. */
export function cardiothoracicRatio(cardiac: Distance, thoracic: Distance): number {
  return thoracic.value > 0 ? cardiac.value / thoracic.value : 0;
}

/** The unit modality values are in, as a reader expects it: HU for CT, none otherwise (arbitrary). */
export function modalityUnit(modality: string | undefined): string {
  return modality?.trim().toUpperCase() === 'CT' ? 'HU' : '';
}
