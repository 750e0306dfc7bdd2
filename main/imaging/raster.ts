// Runs in main, the server, the CLI and tests. Plain radiographs (PNG, JPEG) through sharp, with
// EXIF orientation applied, at their native bit depth.
import sharp, { type Metadata } from 'sharp';
import { ResightError, type ImageInfo } from '../../preload/api';
import type { StoredArray } from './types';
import { fullRangeWindow } from './voi';

export interface ParsedRaster {
  info: Omit<ImageInfo, 'imageId' | 'fileName'>;
  pixels: StoredArray;
}

export async function decodeRaster(bytes: Uint8Array, format: 'png' | 'jpeg'): Promise<ParsedRaster> {
  let meta: Metadata;
  try {
    meta = await sharp(bytes).metadata();
  } catch {
    throw new ResightError('UNSUPPORTED_FORMAT', `This ${format.toUpperCase()} file could not be read; it may be damaged.`);
  }
  const sixteen = meta.depth === 'ushort';
  // sharp reports grey PNGs with alpha as 2 channels; colour as 3 or 4.
  const grey = (meta.channels ?? 1) <= 2 || meta.space === 'b-w' || meta.space === 'grey16';
  try {
    const pipeline = sharp(bytes).rotate();
    const { data, info } = grey
      ? // extractChannel alone drops 16-bit data to 8 bits; the grey16 colourspace keeps it.
        await pipeline.removeAlpha().toColourspace(sixteen ? 'grey16' : 'b-w').raw({ depth: sixteen ? 'ushort' : 'uchar' }).toBuffer({ resolveWithObject: true })
      : await pipeline.removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    const channels = info.channels;
    const pixels: StoredArray = sixteen && grey ? new Uint16Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)) : new Uint8Array(data);
    if (pixels.length !== info.width * info.height * channels) {
      throw new ResightError('TRUNCATED_FILE', `This ${format.toUpperCase()} file decoded to fewer pixels than it declares; it may be cut short.`);
    }
    const max = sixteen && grey ? 65535 : 255;
    return {
      info: {
        format,
        width: info.width,
        height: info.height,
        frames: 1,
        samplesPerPixel: channels === 1 ? 1 : 3,
        bitsStored: sixteen && grey ? 16 : 8,
        pixelDataType: sixteen && grey ? 'uint16' : 'uint8',
        photometric: channels === 1 ? 'MONOCHROME2' : 'RGB',
        rescaleSlope: 1,
        rescaleIntercept: 0,
        windows: [fullRangeWindow(max)],
      },
      pixels,
    };
  } catch (err) {
    if (err instanceof ResightError) throw err;
    throw new ResightError('TRUNCATED_FILE', `This ${format.toUpperCase()} file could not be decoded completely; it may be cut short or damaged.`);
  }
}
