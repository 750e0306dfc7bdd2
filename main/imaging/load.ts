// Runs in main, the server, the CLI and tests. Opens an image file of any supported format: DICOM
// through the decode worker pool, PNG/JPEG through sharp (which works off the main thread itself).
// Recently opened images stay in a small LRU cache keyed by the file's sha256.
import { createHash } from 'node:crypto';
import { open, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { ResightError } from '../../preload/api';
import { DEFAULT_MAX_IMAGE_BYTES, tooLarge } from './image';
import { decodePool, type DecodePool } from './pool';
import { decodeRaster } from './raster';
import type { LoadedImage, StoredArray } from './types';
import { rememberHeader } from './voi';

/** Refuse files this large before reading them: no radiograph comes near it. */
const MAX_FILE_BYTES = 2 * 1024 ** 3;

export type SniffedFormat = 'dicom' | 'png' | 'jpeg' | 'unknown';

export function sniffFormat(bytes: Uint8Array): SniffedFormat {
  if (bytes.length >= 132 && bytes[128] === 0x44 && bytes[129] === 0x49 && bytes[130] === 0x43 && bytes[131] === 0x4d) return 'dicom';
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return 'unknown';
}

export interface LoadOptions {
  /** Decoded pixel memory allowed for one image (bytes); RESIGHT_MAX_IMAGE_BYTES overrides the default. */
  maxImageBytes?: number;
  pool?: DecodePool;
}

function defaultLimit(): number {
  const env = Number(process.env.RESIGHT_MAX_IMAGE_BYTES);
  return Number.isFinite(env) && env > 0 ? env : DEFAULT_MAX_IMAGE_BYTES;
}

const frameGetter =
  (frames: StoredArray[]) =>
  (index: number): StoredArray => {
    const f = Number.isInteger(index) ? frames[index] : undefined;
    if (!f) throw new ResightError('NOT_FOUND', `This image has ${frames.length} frame(s); frame ${index + 1} does not exist.`);
    return f;
  };

export async function loadImage(filePath: string, options: LoadOptions = {}): Promise<LoadedImage> {
  let size: number;
  try {
    const s = await stat(filePath);
    if (!s.isFile()) throw new Error('not a file');
    size = s.size;
  } catch {
    throw new ResightError('FILE_NOT_FOUND', 'The file could not be found or is not a regular file. Check that it still exists and try again.');
  }
  const limit = options.maxImageBytes ?? defaultLimit();
  if (size > MAX_FILE_BYTES) throw tooLarge(size, Math.min(limit, MAX_FILE_BYTES));
  const head = Buffer.alloc(132);
  try {
    const fh = await open(filePath, 'r');
    try {
      await fh.read(head, 0, 132, 0);
    } finally {
      await fh.close();
    }
  } catch {
    // No permission, or a special file that refuses reads (EACCES, EIO): say so, not "unexpected problem".
    throw new ResightError('FILE_NOT_FOUND', 'The file could not be read. Check that you have permission to open it and try again.');
  }
  const format = sniffFormat(head);
  const fileName = path.basename(filePath);
  if (format === 'png' || format === 'jpeg') {
    const bytes = new Uint8Array(await readFile(filePath));
    const imageId = createHash('sha256').update(bytes).digest('hex');
    const parsed = await decodeRaster(bytes, format);
    if (parsed.pixels.byteLength > limit) throw tooLarge(parsed.pixels.byteLength, limit);
    const frame = frameGetter([parsed.pixels]);
    return { info: { ...parsed.info, imageId, fileName }, path: filePath, frame, storedFrame: frame };
  }
  // DICOM with or without preamble, or a bare data set; the worker says if it is none of these.
  const decoded = await (options.pool ?? decodePool()).decode(filePath, limit);
  const info = { ...decoded.info, imageId: decoded.sha256, fileName };
  rememberHeader(info, decoded.header);
  return {
    info,
    path: filePath,
    frame: frameGetter(decoded.display),
    storedFrame: frameGetter(decoded.stored),
    dicom: decoded.header,
  };
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
