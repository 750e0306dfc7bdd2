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
    const fy = Math.min(mapHeight - 1, Math.max(0, ((imgY * g.scaleY + g.offsetY) / g.inputHeight) * mapHeight - 0.5));
    const y0 = Math.floor(fy);
    const y1 = Math.min(mapHeight - 1, y0 + 1);
    const wy = fy - y0;
    for (let x = 0; x < outWidth; x++) {
      const imgX = ((x + 0.5) / outWidth) * g.imageWidth;
      const fx = Math.min(mapWidth - 1, Math.max(0, ((imgX * g.scaleX + g.offsetX) / g.inputWidth) * mapWidth - 0.5));
      const x0 = Math.floor(fx);
      const x1 = Math.min(mapWidth - 1, x0 + 1);
      const wx = fx - x0;
      const top = map[y0 * mapWidth + x0]! * (1 - wx) + map[y0 * mapWidth + x1]! * wx;
      const bottom = map[y1 * mapWidth + x0]! * (1 - wx) + map[y1 * mapWidth + x1]! * wx;
      out[y * outWidth + x] = top * (1 - wy) + bottom * wy;
    }
  }
  return out;
}
