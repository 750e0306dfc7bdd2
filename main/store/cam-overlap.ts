// Runs anywhere (pure). How well a model's CAM matches a region a reader drew: the pointing game
// (is the CAM's peak inside the region?) and the IoU of the CAM above half its maximum with the
// region, both on a raster laid over the image's own pixels.
import type { CamMap, Region } from '../../preload/api';
import { mapOntoImage, type InputGeometry } from '../inference/geometry';

/** Longest side of the raster the comparison runs on; finer than any CAM grid, cheap for big images. */
const RASTER_MAX = 256;
/** CAM values (normalised to its maximum) at or above this count as "the model looked here". */
export const CAM_MASK_LEVEL = 0.5;

export interface Raster {
  width: number;
  height: number;
  /** Image pixels per raster cell, per axis. */
  sx: number;
  sy: number;
}

export function rasterFor(imageWidth: number, imageHeight: number): Raster {
  const scale = Math.min(1, RASTER_MAX / Math.max(imageWidth, imageHeight));
  const width = Math.max(1, Math.round(imageWidth * scale));
  const height = Math.max(1, Math.round(imageHeight * scale));
  return { width, height, sx: imageWidth / width, sy: imageHeight / height };
}

/** The CAM sampled at each raster cell's centre, using the CAM's extent in image pixels. */
export function camOnImage(cam: CamMap, imageWidth: number, imageHeight: number, raster: Raster): Float32Array {
  const { x0, y0, x1, y1 } = cam.extent;
  const scaleX = cam.width / (x1 - x0);
  const scaleY = cam.height / (y1 - y0);
  const g: InputGeometry = {
    imageWidth,
    imageHeight,
    inputWidth: cam.width,
    inputHeight: cam.height,
    scaleX,
    scaleY,
    offsetX: -x0 * scaleX,
    offsetY: -y0 * scaleY,
  };
  return mapOntoImage(Float32Array.from(cam.values), cam.width, cam.height, g, raster.width, raster.height);
}

function insidePolygon(points: ReadonlyArray<{ x: number; y: number }>, x: number, y: number): boolean {
  let inside = false;
  for (let i = 0, j = points.length - 1; i < points.length; j = i++) {
    const a = points[i]!;
    const b = points[j]!;
    if (a.y > y !== b.y > y && x < ((b.x - a.x) * (y - a.y)) / (b.y - a.y) + a.x) inside = !inside;
  }
  return inside;
}

/** Whether an image-pixel position lies inside a box or polygon (points have no area). */
export function regionContains(region: Region, x: number, y: number): boolean {
  switch (region.kind) {
    case 'box':
      return x >= Math.min(region.x0, region.x1) && x <= Math.max(region.x0, region.x1) && y >= Math.min(region.y0, region.y1) && y <= Math.max(region.y0, region.y1);
    case 'polygon':
      return insidePolygon(region.points, x, y);
    case 'point':
      return false;
  }
}

export function overlap(cam: CamMap, region: Region, imageWidth: number, imageHeight: number): { hit: boolean; iou: number } {
  const raster = rasterFor(imageWidth, imageHeight);
  const values = camOnImage(cam, imageWidth, imageHeight, raster);
  let peak = 0;
  let peakAt = -1;
  for (let i = 0; i < values.length; i++) {
    if (values[i]! > peak) {
      peak = values[i]!;
      peakAt = i;
    }
  }
  let inter = 0;
  let union = 0;
  let hit = false;
  for (let r = 0; r < raster.height; r++) {
    for (let c = 0; c < raster.width; c++) {
      const i = r * raster.width + c;
      const inRegion = regionContains(region, (c + 0.5) * raster.sx, (r + 0.5) * raster.sy);
      const inCam = peak > 0 && values[i]! >= CAM_MASK_LEVEL * peak;
      if (inRegion && inCam) inter++;
      if (inRegion || inCam) union++;
      if (i === peakAt) hit = inRegion;
    }
  }
  return { hit, iou: union === 0 ? 0 : inter / union };
}
