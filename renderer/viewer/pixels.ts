// Runs in the renderer. Turns a frame of stored values (little-endian bytes, as the contract sends
// them) into what the GPU takes: one float per pixel for grey images, RGBA bytes for 8-bit colour.
// A reduced frame (progressive display) keeps its own texel size and the full image's size it covers.
import type { FrameData, ImageInfo, PixelDataType } from '../../preload/api';
import { ApiError } from '../api/errors';

/** The texels (width, height) and the full image's pixel grid they cover (fullWidth, fullHeight). */
interface Extent {
  width: number;
  height: number;
  fullWidth: number;
  fullHeight: number;
}

export type ViewImage =
  | (Extent & {
      kind: 'grey';
      /** Stored values, exact for integers up to 2^24 (all 8- and 16-bit data). */
      values: Float32Array;
      min: number;
      max: number;
    })
  | (Extent & { kind: 'rgb'; rgba: Uint8Array; min: number; max: number });

/** Whether this is a reduced frame standing in for the full one. */
export const isReduced = (image: Extent): boolean => image.width < image.fullWidth || image.height < image.fullHeight;

const BYTES: Record<PixelDataType, number> = {
  uint8: 1,
  int8: 1,
  uint16: 2,
  int16: 2,
  uint32: 4,
  int32: 4,
  float32: 4,
};

type Typed = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array;

function unsupported(): ApiError {
  return new ApiError({
    code: 'UNSUPPORTED_FORMAT',
    message: 'This image stores its pixels in a layout the viewer cannot show yet.',
  });
}

/** A typed view over the bytes; copies only when the bytes are not aligned for the element size. */
function typedView(type: PixelDataType, bytes: Uint8Array, count: number): Typed {
  const size = BYTES[type];
  const aligned = bytes.byteOffset % size === 0 ? bytes : bytes.slice();
  const { buffer, byteOffset } = aligned;
  // Every platform Electron and Chromium ship on is little-endian, as the contract's bytes are.
  switch (type) {
    case 'uint8':
      return new Uint8Array(buffer, byteOffset, count);
    case 'int8':
      return new Int8Array(buffer, byteOffset, count);
    case 'uint16':
      return new Uint16Array(buffer, byteOffset, count);
    case 'int16':
      return new Int16Array(buffer, byteOffset, count);
    case 'uint32':
      return new Uint32Array(buffer, byteOffset, count);
    case 'int32':
      return new Int32Array(buffer, byteOffset, count);
    case 'float32':
      return new Float32Array(buffer, byteOffset, count);
  }
}

export function toViewImage(info: ImageInfo, frame: FrameData): ViewImage {
  const { width, height, samplesPerPixel, pixelDataType } = frame.meta;
  const count = width * height * samplesPerPixel;
  if (frame.data.byteLength < count * BYTES[pixelDataType]) {
    throw new ApiError({ code: 'TRUNCATED_FILE', message: 'This image has fewer pixels than its header says; it cannot be shown.' });
  }
  const src = typedView(pixelDataType, frame.data, count);
  // A frame from a target-size request is smaller than the image and covers all of it.
  const fullWidth = Math.max(width, info.width);
  const fullHeight = Math.max(height, info.height);

  if (samplesPerPixel === 1) {
    const values = new Float32Array(count);
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < count; i++) {
      const v = src[i] as number;
      values[i] = v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    return { kind: 'grey', width, height, fullWidth, fullHeight, values, min, max };
  }

  if (samplesPerPixel === 3 && pixelDataType === 'uint8' && info.photometric.toUpperCase() === 'RGB') {
    const rgba = new Uint8Array(width * height * 4);
    for (let p = 0, s = 0, d = 0; p < width * height; p++, s += 3, d += 4) {
      rgba[d] = src[s] as number;
      rgba[d + 1] = src[s + 1] as number;
      rgba[d + 2] = src[s + 2] as number;
      rgba[d + 3] = 255;
    }
    return { kind: 'rgb', width, height, fullWidth, fullHeight, rgba, min: 0, max: 255 };
  }
  throw unsupported();
}
