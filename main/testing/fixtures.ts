// Runs in tests only. Where the real parts the tests use live: the repository's models, samples
// and the built inference host. RESIGHT_TEST_MODELS_DIR lets a developer point the suite at
// another model folder while a new model is being trained.
import path from 'node:path';
import type { ImageInfo } from '../../preload/api';

export const repoRoot = path.resolve(__dirname, '..', '..');
export const modelsDir = process.env.RESIGHT_TEST_MODELS_DIR ?? path.join(repoRoot, 'models');
export const samplesDir = path.join(repoRoot, 'assets', 'samples');
export const hostEntry = path.join(repoRoot, 'dist', 'host', 'inference-host.cjs');

/** A small 8-bit grey PNG's ImageInfo, for store tests that need an image on record but no pixels. */
export const pngInfo = (ch: string, width = 4, height = 4): ImageInfo => ({
  imageId: ch.repeat(64),
  format: 'png',
  fileName: `${ch}.png`,
  width,
  height,
  frames: 1,
  samplesPerPixel: 1,
  bitsStored: 8,
  pixelDataType: 'uint8',
  photometric: 'MONOCHROME2',
  rescaleSlope: 1,
  rescaleIntercept: 0,
  windows: [{ center: 128, width: 256 }],
});
