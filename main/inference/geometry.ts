// Runs anywhere. Where the image sits inside the model input (stretched, or letterboxed with
// padding), so a CAM computed on the input grid can be laid back onto the image's own pixels.

export interface InputGeometry {
  imageWidth: number;
  imageHeight: number;
  inputWidth: number;
  inputHeight: number;
  /** Input pixels per image pixel, per axis. */
  scaleX: number;
  scaleY: number;
  /** Where the image's top-left corner lands in the input, in input pixels. */
  offsetX: number;
  offsetY: number;
}

export type ResizeMode = 'stretch' | 'letterbox';

export function inputGeometry(mode: ResizeMode, imageWidth: number, imageHeight: number, inputWidth: number, inputHeight: number): InputGeometry {
  if (mode === 'stretch') {
    return { imageWidth, imageHeight, inputWidth, inputHeight, scaleX: inputWidth / imageWidth, scaleY: inputHeight / imageHeight, offsetX: 0, offsetY: 0 };
  }
  const s = Math.min(inputWidth / imageWidth, inputHeight / imageHeight);
  return {
    imageWidth,
    imageHeight,
    inputWidth,
    inputHeight,
    scaleX: s,
    scaleY: s,
    offsetX: (inputWidth - imageWidth * s) / 2,
    offsetY: (inputHeight - imageHeight * s) / 2,
  };
}

/** The whole model input's rectangle in image pixel coordinates (beyond the image where padded). */
export function inputExtentOnImage(g: InputGeometry): { x0: number; y0: number; x1: number; y1: number } {
  return {
    x0: -g.offsetX / g.scaleX,
    y0: -g.offsetY / g.scaleY,
    x1: (g.inputWidth - g.offsetX) / g.scaleX,
    y1: (g.inputHeight - g.offsetY) / g.scaleY,
  };
}

/**
 * Samples a map defined on the input grid (cells of equal size covering the whole input) at each
 * pixel centre of an out-width × out-height raster covering the image, bilinearly between cell
 * centres, clamped at the edges.
 */
export function mapOntoImage(map: Float32Array, mapWidth: number, mapHeight: number, g: InputGeometry, outWidth: number, outHeight: number): Float32Array {
  const out = new Float32Array(outWidth * outHeight);
  for (let y = 0; y < outHeight; y++) {
    const imgY = ((y + 0.5) / outHeight) * g.imageHeight;
    const fy = ((imgY * g.scaleY + g.offsetY) / g.inputHeight) * mapHeight - 0.5;
    for (let x = 0; x < outWidth; x++) {
      const imgX = ((x + 0.5) / outWidth) * g.imageWidth;
      out[y * outWidth + x] = sampleBilinear(map, mapWidth, mapHeight, ((imgX * g.scaleX + g.offsetX) / g.inputWidth) * mapWidth - 0.5, fy);
    }
  }
  return out;
}

/** A w × h grid's value at (fx, fy) in cell-centre coordinates, bilinear, clamped at the edges. */
export function sampleBilinear(grid: ArrayLike<number>, w: number, h: number, fx: number, fy: number): number {
  const cx = Math.min(w - 1, Math.max(0, fx));
  const cy = Math.min(h - 1, Math.max(0, fy));
  const x0 = Math.floor(cx);
  const y0 = Math.floor(cy);
  const x1 = Math.min(w - 1, x0 + 1);
  const y1 = Math.min(h - 1, y0 + 1);
  const wx = cx - x0;
  const wy = cy - y0;
  const top = grid[y0 * w + x0]! * (1 - wx) + grid[y0 * w + x1]! * wx;
  const bottom = grid[y1 * w + x0]! * (1 - wx) + grid[y1 * w + x1]! * wx;
  return top * (1 - wy) + bottom * wy;
}
