// Runs in the renderer. What an image renderer does, whichever API draws: upload once, then draw
// with the current window and overlay settings as often as needed.
import type { CamMap } from '../../preload/api';
import type { Colormap } from './colormap';
import type { ViewImage } from './pixels';
import type { Affine } from './transform';
import type { DisplayParams } from './voi';

export interface OverlayParams {
  visible: boolean;
  opacity: number;
  threshold: number;
  colormap: Colormap;
  contour: boolean;
}

export interface DrawParams {
  display: DisplayParams;
  overlay: OverlayParams;
  /** Image pixels → canvas (device) pixels: fit, zoom, pan, rotation and flips. */
  transform: Affine;
}

export interface ImageRenderer {
  readonly kind: 'webgl2' | 'canvas2d';
  setImage(image: ViewImage | null): void;
  setCam(cam: CamMap | null): void;
  /** Draws to the canvas at its current size. Returns false when nothing could be drawn. */
  draw(params: DrawParams): boolean;
  dispose(): void;
}

export const BACKGROUND: readonly [number, number, number] = [0.04, 0.043, 0.05];
