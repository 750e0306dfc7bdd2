// Runs in main and the browser-mode server. Handlers for opening images and reading frames.
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { ResightError, type FrameData, type SampleEntry } from '../../preload/api';
import { peekDicomSize, readDicomdir, scanFolder } from '../imaging/folder';
import { loadFrameForSize, loadImage, type ImageCache } from '../imaging/load';
import type { TargetSize } from '../imaging/codecs';
import { decodesReduced } from '../imaging/decode';
import { viewPreviewTarget } from '../imaging/reduce';
import { reducedIntensities, toGrey8 } from '../imaging/voi';
import { tagTree } from '../imaging/tags';
import type { LoadedImage, ReducedFrame } from '../imaging/types';
import type { Store } from '../store/repositories';
import type { Handlers } from './dispatch';

const SAMPLE_EXT: Record<string, SampleEntry['format']> = { '.dcm': 'dicom', '.png': 'png', '.jpg': 'jpeg', '.jpeg': 'jpeg' };

export async function listSamples(samplesDir: string): Promise<SampleEntry[]> {
  let names: string[];
  try {
    names = await readdir(samplesDir);
  } catch {
    return [];
  }
  const out: SampleEntry[] = [];
  for (const name of names.sort()) {
    const format = SAMPLE_EXT[path.extname(name).toLowerCase()];
    // Mask images beside a sample are ground truth, not studies.
    if (!format || name.includes('.mask')) continue;
    let description: string | undefined;
    try {
      const sidecar = JSON.parse(await readFile(path.join(samplesDir, name.replace(/\.[^.]+$/, '.json')), 'utf8')) as { description?: unknown };
      if (typeof sidecar.description === 'string') description = sidecar.description.slice(0, 300);
    } catch {
      description = undefined;
    }
    out.push({ name, format, ...(description ? { description } : {}) });
  }
  return out;
}

export interface StudiesDeps {
  samplesDir: string;
  cache: ImageCache;
  store: Store;
}

/** The open image for an id: from the cache, or re-read from the path the store remembers. */
export async function imageFor(deps: StudiesDeps, imageId: string): Promise<LoadedImage> {
  return deps.cache.getOrLoad(imageId, async () => {
    const known = deps.store.imagePath(imageId);
    if (!known) throw new ResightError('IMAGE_NOT_OPEN', 'That image is not open. Open it again from the study list.');
    const image = await loadImage(known);
    if (image.info.imageId !== imageId) throw new ResightError('FILE_NOT_FOUND', 'The image file has changed on disk since it was opened. Open it again.');
    return image;
  });
}

/**
 * One frame of an open image at the smallest size covering `target`. An image already decoded in
 * full whose encoding has no resolution levels is shrunk from memory (the pixels a reduced decode
 * gives); otherwise the file is decoded only as far as the target needs (JPEG 2000: the level).
 */
export async function frameForSize(deps: StudiesDeps, imageId: string, frame: number, target: TargetSize): Promise<ReducedFrame> {
  const open = deps.cache.get(imageId);
  const filePath = open?.path ?? deps.store.imagePath(imageId);
  if (!filePath) throw new ResightError('IMAGE_NOT_OPEN', 'That image is not open. Open it again from the study list.');
  const reduced = await loadFrameForSize(filePath, target, { frame, ...(open ? { decoded: open } : {}) });
  if (reduced.info.imageId !== imageId) throw new ResightError('FILE_NOT_FOUND', 'The image file has changed on disk since it was opened. Open it again.');
  return reduced;
}

/** A frame decoded only as far as `target` needs, as the viewer takes it. */
async function reducedFrame(deps: StudiesDeps, imageId: string, frame: number, target: TargetSize): Promise<FrameData> {
  const reduced = await frameForSize(deps, imageId, frame, target);
  const { info, pixels } = reduced;
  return {
    meta: { imageId, frame, width: reduced.width, height: reduced.height, samplesPerPixel: info.samplesPerPixel, pixelDataType: info.pixelDataType },
    data: new Uint8Array(pixels.buffer as ArrayBuffer, pixels.byteOffset, pixels.byteLength),
  };
}

/** Above this many pixels an image opens from a reduced decode; the full one follows when asked for. */
const LARGE_IMAGE_PIXELS = 2048 * 2048;

/**
 * A large DICOM image opens from a reduced frame, so the reader sees it before the full decode has
 * run; the viewer then asks for the frame its view needs and the full one. For JPEG 2000 and HTJ2K
 * the frame decoded on opening is one resolution level below the view's (half the size each way,
 * about a quarter of the decode), so the first draw comes within a fraction of the view's own
 * level; for other encodings every decode costs the same, so it is the view's frame itself.
 * Smaller images, and views that need every pixel, open in full. The file's window is used as
 * always; only a file without one gets its automatic window from the reduced pixels.
 */
export async function previewOnOpen(filePath: string, view: { width: number; height: number }): Promise<{ frame: ReducedFrame; target: TargetSize } | undefined> {
  const size = await peekDicomSize(filePath);
  if (!size || size.rows * size.columns <= LARGE_IMAGE_PIXELS) return undefined;
  const forView = viewPreviewTarget(size.columns, size.rows, view);
  if (!forView) return undefined;
  const target = size.transferSyntax && decodesReduced(size.transferSyntax) ? { width: Math.ceil(forView.width / 2), height: Math.ceil(forView.height / 2) } : forView;
  return { frame: await loadFrameForSize(filePath, target), target };
}

function absolute(filePath: string, what: string): string {
  if (!path.isAbsolute(filePath)) throw new ResightError('INVALID_ARGUMENT', `Give the full path of the ${what}.`);
  return path.normalize(filePath);
}

export function studiesHandlers(
  deps: StudiesDeps,
): Pick<Handlers, 'studies.listSamples' | 'studies.openSample' | 'studies.openFile' | 'studies.getFrame' | 'studies.tags' | 'studies.scanFolder' | 'studies.thumbnail'> {
  const open = async (filePath: string, reader: string, view?: { width: number; height: number }) => {
    const preview = view && (await previewOnOpen(filePath, view));
    if (preview) {
      deps.store.recordImage(preview.frame.info, filePath, reader);
      return { ...preview.frame.info, firstFrame: preview.target };
    }
    const image = await loadImage(filePath);
    deps.cache.put(image);
    deps.store.recordImage(image.info, filePath, reader);
    return image.info;
  };
  return {
    'studies.listSamples': async () => listSamples(deps.samplesDir),
    'studies.openSample': async ({ name, view }, ctx) => {
      const samples = await listSamples(deps.samplesDir);
      // Only names the folder listing returned: no path from the caller reaches the file system.
      if (!samples.some((s) => s.name === name)) throw new ResightError('NOT_FOUND', 'There is no sample with that name.');
      return open(path.join(deps.samplesDir, name), ctx.reader, view);
    },
    'studies.openFile': async ({ path: filePath, view }, ctx) => open(absolute(filePath, 'file to open'), ctx.reader, view),
    'studies.scanFolder': async ({ path: target }) => {
      const where = absolute(target, 'folder or DICOMDIR');
      const isFile = await stat(where).then((s) => s.isFile(), () => false);
      const scan = isFile ? await readDicomdir(where) : await scanFolder(where);
      return { patients: scan.patients, rasters: scan.rasters, skipped: scan.skipped };
    },
    'studies.thumbnail': async ({ path: filePath, size }) => {
      const reduced = await loadFrameForSize(absolute(filePath, 'image'), { width: size, height: size }, { priority: 'background' });
      return { meta: { width: reduced.width, height: reduced.height }, data: toGrey8(reducedIntensities(reduced)) };
    },
    'studies.getFrame': async ({ imageId, frame, target }) => {
      if (target) return reducedFrame(deps, imageId, frame, target);
      const image = await imageFor(deps, imageId);
      const pixels = image.frame(frame);
      const { info } = image;
      return {
        meta: { imageId, frame, width: info.width, height: info.height, samplesPerPixel: info.samplesPerPixel, pixelDataType: info.pixelDataType },
        data: new Uint8Array(pixels.buffer as ArrayBuffer, pixels.byteOffset, pixels.byteLength),
      };
    },
    'studies.tags': async ({ imageId }) => {
      const image = await imageFor(deps, imageId);
      if (image.info.format !== 'dicom') return [];
      let bytes: Uint8Array;
      try {
        bytes = new Uint8Array(await readFile(image.path));
      } catch {
        throw new ResightError('FILE_NOT_FOUND', 'The image file can no longer be read. Open it again from the study list.');
      }
      // The tags shown must be the file's whose pixels are shown.
      if (createHash('sha256').update(bytes).digest('hex') !== imageId) {
        throw new ResightError('FILE_NOT_FOUND', 'The image file has changed on disk since it was opened. Open it again.');
      }
      return tagTree(bytes);
    },
  };
}

