// Runs in main, the server, the CLI and tests. Opens an image file of any supported format and
// keeps recently opened images in a small LRU cache keyed by the file's sha256.
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { ResightError } from '../../preload/api';
import { parseDicomImage } from './dicom';
import { decodeRaster } from './raster';
import type { LoadedImage } from './types';

/** Refuse files this large before reading them: no radiograph comes near it. */
const MAX_FILE_BYTES = 2 * 1024 ** 3;

export type SniffedFormat = 'dicom' | 'png' | 'jpeg' | 'unknown';

export function sniffFormat(bytes: Uint8Array): SniffedFormat {
  if (bytes.length >= 132 && bytes[128] === 0x44 && bytes[129] === 0x49 && bytes[130] === 0x43 && bytes[131] === 0x4d) return 'dicom';
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return 'unknown';
}

export async function loadImage(filePath: string): Promise<LoadedImage> {
  let size: number;
  try {
    const s = await stat(filePath);
    if (!s.isFile()) throw new Error('not a file');
    size = s.size;
  } catch {
    throw new ResightError('FILE_NOT_FOUND', 'The file could not be found or is not a regular file. Check that it still exists and try again.');
  }
  if (size > MAX_FILE_BYTES) throw new ResightError('UNSUPPORTED_FORMAT', 'This file is larger than 2 GiB, which is beyond any single image Resight opens.');
  const bytes = new Uint8Array(await readFile(filePath));
  const imageId = createHash('sha256').update(bytes).digest('hex');
  const fileName = path.basename(filePath);
  const format = sniffFormat(bytes);
  if (format === 'dicom') {
    const parsed = parseDicomImage(bytes);
    return { info: { ...parsed.info, imageId, fileName }, path: filePath, frame: parsed.frame };
  }
  if (format === 'png' || format === 'jpeg') {
    const parsed = await decodeRaster(bytes, format);
    return {
      info: { ...parsed.info, imageId, fileName },
      path: filePath,
      frame: (index) => {
        if (index !== 0) throw new ResightError('NOT_FOUND', `This image has 1 frame; frame ${index + 1} does not exist.`);
        return parsed.pixels;
      },
    };
  }
  throw new ResightError('UNSUPPORTED_FORMAT', 'This file is not a DICOM Part 10 file, a PNG or a JPEG, so Resight cannot open it.');
}

/** Keeps the last few opened images so frames and inference do not re-read files. */
export class ImageCache {
  private readonly entries = new Map<string, LoadedImage>();
  constructor(private readonly capacity = 16) {}

  put(image: LoadedImage): void {
    this.entries.delete(image.info.imageId);
    this.entries.set(image.info.imageId, image);
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  get(imageId: string): LoadedImage | undefined {
    const hit = this.entries.get(imageId);
    if (hit) {
      this.entries.delete(imageId);
      this.entries.set(imageId, hit);
    }
    return hit;
  }
}
