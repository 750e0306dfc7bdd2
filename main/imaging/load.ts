// Runs in main, the server, the CLI and tests. Opens an image file of any supported format: DICOM
// through the decode worker pool, PNG/JPEG through sharp (which works off the main thread itself).
// Recently opened images stay in an LRU cache keyed by the file's sha256, under a byte budget.
// Consumers that need fewer pixels (the model) ask loadFrameForSize for a reduced decode instead.
import { createHash } from 'node:crypto';
import { open, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { ResightError } from '../../preload/api';
import { ByteBudgetCache, frameCacheBudget } from './cache';
import type { TargetSize } from './codecs';
import { decodesReduced } from './decode';
import { DEFAULT_MAX_IMAGE_BYTES, tooLarge } from './image';
import { decodePool, type DecodePool, type DecodePriority } from './pool';
import { decodeRaster } from './raster';
import { areaAverage, coverSize } from './reduce';
import type { LoadedImage, ReducedFrame, StoredArray } from './types';
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

interface Opened {
  format: SniffedFormat;
  size: number;
  mtimeMs: number;
  limit: number;
}

/** Checks the file is there, readable and not absurdly large, and what format it holds. */
async function openChecked(filePath: string, options: LoadOptions): Promise<Opened> {
  let size: number;
  let mtimeMs: number;
  try {
    const s = await stat(filePath);
    if (!s.isFile()) throw new Error('not a file');
    size = s.size;
    mtimeMs = s.mtimeMs;
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
  return { format: sniffFormat(head), size, mtimeMs, limit };
}

export async function loadImage(filePath: string, options: LoadOptions = {}): Promise<LoadedImage> {
  const { format, limit } = await openChecked(filePath, options);
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

export interface SizedLoadOptions extends LoadOptions {
  frame?: number;
  /** Whether a reader waits for it (the default) or it can wait behind full decodes (thumbnails, batches). */
  priority?: DecodePriority;
  /** Where reduced frames are kept; the process-wide one by default. */
  cache?: ReducedFrameCache;
  /** The image already decoded in full: shrunk in memory unless its encoding has resolution levels. */
  decoded?: LoadedImage;
}

export type ReducedFrameCache = ByteBudgetCache<ReducedFrame>;

export function reducedFrameCache(budgetBytes = frameCacheBudget()): ReducedFrameCache {
  return new ByteBudgetCache<ReducedFrame>(budgetBytes, (f) => f.pixels.byteLength);
}

let sharedReduced: ReducedFrameCache | undefined;

/**
 * The process-wide cache of reduced frames (created on first use), an eighth of the frame budget:
 * a 224 px model input's frames are small (about 0.25 MB for a J2K radiograph), so it still holds hundreds.
 */
export function sharedReducedFrames(): ReducedFrameCache {
  sharedReduced ??= reducedFrameCache(Math.round(frameCacheBudget() / 8));
  return sharedReduced;
}

/**
 * One frame at the smallest size covering `target` on both axes: JPEG 2000 and HTJ2K decode only
 * the resolution levels needed; other encodings decode in full and are area-averaged down once.
 * Results are cached by file (path, size, modification time), frame and target size.
 */
export async function loadFrameForSize(filePath: string, target: TargetSize, options: SizedLoadOptions = {}): Promise<ReducedFrame> {
  const index = options.frame ?? 0;
  const { decoded: full } = options;
  // A resolution level is not what the full decode shrinks to, so JPEG 2000 decodes that level.
  if (full && !(full.dicom && decodesReduced(full.dicom.transferSyntax))) return reduceLoaded(full, index, target);
  const opened = await openChecked(filePath, options);
  const cache = options.cache ?? sharedReducedFrames();
  const key = `${filePath}|${opened.size}|${opened.mtimeMs}|${index}|${target.width}x${target.height}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const fileName = path.basename(filePath);
  let reduced: ReducedFrame;
  if (opened.format === 'png' || opened.format === 'jpeg') {
    reduced = reduceLoaded(await loadImage(filePath, options), index, target);
  } else {
    const decoded = await (options.pool ?? decodePool()).decodeForSize(filePath, opened.limit, target, index, options.priority);
    const info = { ...decoded.info, imageId: decoded.sha256, fileName };
    rememberHeader(info, decoded.header);
    reduced = { info, path: filePath, frame: index, width: decoded.width, height: decoded.height, pixels: decoded.pixels, dicom: decoded.header };
  }
  cache.put(key, reduced);
  return reduced;
}

/**
 * One frame of an image decoded in full, area-averaged to the smallest size covering `target`: for
 * encodings without resolution levels, the same pixels loadFrameForSize decodes from the file.
 */
function reduceLoaded(full: LoadedImage, index: number, target: TargetSize): ReducedFrame {
  const { width, height, samplesPerPixel, frames } = full.info;
  if (index < 0 || index >= frames) throw new ResightError('NOT_FOUND', `This image has ${frames} frame(s); frame ${index + 1} does not exist.`);
  const pixels = full.frame(index);
  const size = coverSize(width, height, target);
  const small = size.width === width && size.height === height ? pixels : areaAverage(pixels, width, height, samplesPerPixel, size.width, size.height);
  return { info: full.info, path: full.path, frame: index, width: size.width, height: size.height, pixels: small, ...(full.dicom ? { dicom: full.dicom } : {}) };
}

/** Decoded bytes an image holds (display and stored frames, shared buffers counted once). */
export function imageBytes(image: LoadedImage): number {
  const buffers = new Set<ArrayBufferLike>();
  let bytes = 0;
  for (let i = 0; i < image.info.frames; i++) {
    for (const f of [image.frame(i), image.storedFrame(i)]) {
      if (buffers.has(f.buffer)) continue;
      buffers.add(f.buffer);
      bytes += f.byteLength;
    }
  }
  return bytes;
}

/**
 * Keeps recently opened images so frames and inference do not re-read files, within a byte budget
 * (RESIGHT_FRAME_CACHE_MB, or setBudget); the least recently used go first. An evicted image is
 * simply read again when asked for.
 */
export class ImageCache {
  private readonly entries: ByteBudgetCache<LoadedImage>;
  private readonly loading = new Map<string, Promise<LoadedImage>>();

  constructor(budgetBytes = frameCacheBudget()) {
    this.entries = new ByteBudgetCache(budgetBytes, imageBytes);
  }

  put(image: LoadedImage): void {
    this.entries.put(image.info.imageId, image);
  }

  get(imageId: string): LoadedImage | undefined {
    return this.entries.get(imageId);
  }

  /**
   * The cached image, or the one `load` gives (then cached). Callers asking while a load for the
   * same image runs share it: a viewer's full frame and an export asked for together decode once.
   */
  async getOrLoad(imageId: string, load: () => Promise<LoadedImage>): Promise<LoadedImage> {
    const hit = this.entries.get(imageId);
    if (hit) return hit;
    let pending = this.loading.get(imageId);
    if (!pending) {
      pending = load().finally(() => this.loading.delete(imageId));
      this.loading.set(imageId, pending);
    }
    const image = await pending;
    this.put(image);
    return image;
  }

  setBudget(bytes: number): void {
    this.entries.setBudget(bytes);
  }

  /** Decoded bytes held now, never above budgetBytes. */
  get bytes(): number {
    return this.entries.bytes;
  }

  get budgetBytes(): number {
    return this.entries.budgetBytes;
  }

  get size(): number {
    return this.entries.size;
  }
}
