// Runs in the renderer where WebGL2 is missing. The same pipeline on the CPU: each window change
// recomputes the grey image once (not per draw); the CAM is drawn scaled with smoothing.
import type { CamMap } from '../../preload/api';
import { buildRamp, RAMP_SIZE } from './colormap';
import { fitRect } from './layout';
import type { ViewImage } from './pixels';
import { BACKGROUND, type DrawParams, type ImageRenderer } from './renderer';
import { applyVoi, displayValue, type DisplayParams } from './voi';

const css = (rgb: readonly number[]) => `rgb(${rgb.map((v) => Math.round(v * 255)).join(' ')})`;

export class Canvas2DRenderer implements ImageRenderer {
  readonly kind = 'canvas2d' as const;
  private image: ViewImage | null = null;
  private cam: CamMap | null = null;
  private readonly ramp = buildRamp();
  private readonly grey = document.createElement('canvas');
  private greyKey = '';
  private readonly heat = document.createElement('canvas');
  private heatKey = '';

  private constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly ctx: CanvasRenderingContext2D,
  ) {}

  static create(canvas: HTMLCanvasElement): Canvas2DRenderer | null {
    const ctx = canvas.getContext('2d', { alpha: false });
    return ctx ? new Canvas2DRenderer(canvas, ctx) : null;
  }

  setImage(image: ViewImage | null): void {
    this.image = image;
    this.greyKey = '';
  }

  setCam(cam: CamMap | null): void {
    this.cam = cam;
    this.heatKey = '';
  }

  private renderGrey(image: ViewImage, d: DisplayParams): void {
    const key = `${d.slope}|${d.intercept}|${d.center}|${d.width}|${d.voiFunction}|${d.invert}`;
    if (key === this.greyKey) return;
    this.greyKey = key;
    this.grey.width = image.width;
    this.grey.height = image.height;
    const g = this.grey.getContext('2d');
    if (!g) return;
    const out = g.createImageData(image.width, image.height);
    const px = out.data;
    const n = image.width * image.height;
    if (image.kind === 'grey') {
      for (let i = 0; i < n; i++) {
        const v = Math.round(displayValue(image.values[i] as number, d) * 255);
        px[i * 4] = px[i * 4 + 1] = px[i * 4 + 2] = v;
        px[i * 4 + 3] = 255;
      }
    } else {
      for (let i = 0; i < n * 4; i++) {
        px[i] = i % 4 === 3 ? 255 : Math.round(applyVoi(d.voiFunction, image.rgba[i] as number, d.center, d.width) * 255);
      }
    }
    g.putImageData(out, 0, 0);
  }

  private renderHeat(cam: CamMap, threshold: number): void {
    const key = `${threshold}`;
    if (key === this.heatKey) return;
    this.heatKey = key;
    this.heat.width = cam.width;
    this.heat.height = cam.height;
    const h = this.heat.getContext('2d');
    if (!h) return;
    const out = h.createImageData(cam.width, cam.height);
    for (let i = 0; i < cam.width * cam.height; i++) {
      const v = cam.values[i] ?? 0;
      const r = Math.round(Math.min(1, Math.max(0, v)) * (RAMP_SIZE - 1)) * 4;
      out.data[i * 4] = this.ramp[r] as number;
      out.data[i * 4 + 1] = this.ramp[r + 1] as number;
      out.data[i * 4 + 2] = this.ramp[r + 2] as number;
      out.data[i * 4 + 3] = v >= threshold && v > 0 ? 255 : 0;
    }
    h.putImageData(out, 0, 0);
  }

  draw(p: DrawParams): boolean {
    const { ctx, canvas, image, cam } = this;
    ctx.globalAlpha = 1;
    ctx.fillStyle = css(BACKGROUND);
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    if (!image) return false;
    this.renderGrey(image, p.display);
    const r = fitRect(canvas.width, canvas.height, image.width, image.height, p.pixelAspect);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(this.grey, r.x, r.y, r.width, r.height);
    if (p.overlay.visible && cam) {
      this.renderHeat(cam, p.overlay.threshold);
      // The CAM grid covers cam.extent (image pixels), which may reach past the image.
      const sx = r.width / image.width;
      const sy = r.height / image.height;
      const { x0, y0, x1, y1 } = cam.extent;
      ctx.save();
      ctx.beginPath();
      ctx.rect(r.x, r.y, r.width, r.height);
      ctx.clip();
      ctx.imageSmoothingEnabled = true;
      ctx.globalAlpha = p.overlay.opacity;
      ctx.drawImage(this.heat, r.x + x0 * sx, r.y + y0 * sy, (x1 - x0) * sx, (y1 - y0) * sy);
      ctx.restore();
    }
    return true;
  }

  dispose(): void {
    this.image = null;
    this.cam = null;
  }
}
