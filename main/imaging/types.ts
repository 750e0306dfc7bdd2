// Runs in main, the server, the CLI and tests. What the imaging service hands to its consumers.
import type { ImageInfo } from '../../preload/api';

export type StoredArray = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array;

export interface LoadedImage {
  info: ImageInfo;
  /** Absolute path the image was read from (kept in main; never sent in errors). */
  path: string;
  /** Stored values of one frame, samples interleaved, row-major. */
  frame(index: number): StoredArray;
}
