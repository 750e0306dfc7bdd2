// Runs in the renderer. Progressive display: the first request asks for a frame no larger than the
// view shows at fit, the full frame follows, and a reduced frame always covers the whole image, so
// everything outside the texture (measurements, probe, CAM, annotations) stays in full-image pixels.
import { fitScale } from './transform';

/**
 * A preview may be this much short of one texel per device pixel. A JPEG 2000 level halves the
 * size, so a view a few pixels larger than a level would otherwise cost the next level up (about
 * four times the decode) for a frame that is replaced within a second anyway.
 */
export const PREVIEW_SLACK = 0.95;

export interface Size {
  width: number;
  height: number;
}

/**
 * What to ask for first for an image of `image` pixels (pixel height/width `pixelAspect`) on a view
 * of `view` device pixels at fit: the size that gives one texel per device pixel on both axes (less
 * PREVIEW_SLACK), or null when that is the whole frame anyway (then only the full frame is worth a
 * request).
 */
export function previewTarget(image: Size, view: Size, pixelAspect = 1): Size | null {
  if (view.width < 1 || view.height < 1) return null;
  const fit = fitScale({ canvasWidth: view.width, canvasHeight: view.height, imageWidth: image.width, imageHeight: image.height, pixelAspect, dpr: 1 }, 0);
  // The backend shrinks both axes alike, so the axis drawn larger (rows, when pixels are tall) decides.
  const r = fit * Math.max(1, pixelAspect > 0 && Number.isFinite(pixelAspect) ? pixelAspect : 1);
  if (r >= 1) return null;
  const width = Math.ceil(image.width * r * PREVIEW_SLACK);
  const height = Math.ceil(image.height * r * PREVIEW_SLACK);
  return width >= image.width && height >= image.height ? null : { width, height };
}

/** Device pixels per texel of a texture of `texture` size covering an image `image` pixels wide, drawn at `scale` device pixels per image pixel. */
export function texelScale(scale: number, texture: Size, image: Size): number {
  return scale * Math.max(image.width / texture.width, image.height / texture.height);
}

/** Whether a reduced texture is drawn coarser than one texel per device pixel (zoomed past what was decoded). */
export function needsFull(scale: number, texture: Size, image: Size): boolean {
  return (texture.width < image.width || texture.height < image.height) && texelScale(scale, texture, image) > 1.0001;
}

/** The texel of a texture of `texture` size holding full-image pixel (x, y), or null outside the image. */
export function texelOf(x: number, y: number, texture: Size, image: Size): [number, number] | null {
  if (x < 0 || y < 0 || x >= image.width || y >= image.height) return null;
  return [Math.min(texture.width - 1, Math.floor((x * texture.width) / image.width)), Math.min(texture.height - 1, Math.floor((y * texture.height) / image.height))];
}

/** One promise per key while it runs: a second ask for what is already on its way gets the same one. */
export class InFlight<T> {
  private readonly running = new Map<string, Promise<T>>();

  get size(): number {
    return this.running.size;
  }

  run(key: string, start: () => Promise<T>): Promise<T> {
    const had = this.running.get(key);
    if (had) return had;
    const p = start().finally(() => this.running.delete(key));
    this.running.set(key, p);
    return p;
  }

  clear(): void {
    this.running.clear();
  }
}
