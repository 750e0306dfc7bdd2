// Runs in the renderer where WebGL2 is missing. The same pipeline on the CPU: each window change
// recomputes the grey image once (not per draw); the CAM is drawn scaled with smoothing, or in
// contour mode as the cells on the threshold's edge. The view's affine map is the context transform.
import type { CamMap } from '../../preload/api';
import { buildRamp, COLORMAPS, RAMP_SIZE } from './colormap';
import type { OverlayParams } from './renderer';
import type { ViewImage } from './pixels';
import { BACKGROUND, type DrawParams, type ImageRenderer } from './renderer';
import { applyVoi, displayValue, type DisplayParams } from './voi';

const css = (rgb: readonly number[]) => `rgb(${rgb.map((v) => Math.round(v * 255)).join(' ')})`;

export class Canvas2DRenderer implements ImageRenderer {
  readonly kind = 'canvas2d' as const;
  private image: ViewImage | null = null;
  private cam: CamMap | null = null;
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

  private renderHeat(cam: CamMap, o: OverlayParams): void {
    const { threshold } = o;
    const key = `${threshold}|${o.colormap}|${o.contour}`;
    if (key === this.heatKey) return;
    this.heatKey = key;
    this.heat.width = cam.width;
    this.heat.height = cam.height;
    const h = this.heat.getContext('2d');
    if (!h) return;
    const ramp = buildRamp(COLORMAPS[o.colormap]);
    const above = (x: number, y: number) => {
      const v = x < 0 || y < 0 || x >= cam.width || y >= cam.height ? 0 : (cam.values[y * cam.width + x] ?? 0);
      return v >= threshold && v > 0;
    };
    const out = h.createImageData(cam.width, cam.height);
    for (let i = 0; i < cam.width * cam.height; i++) {
      const v = cam.values[i] ?? 0;
      const r = Math.round(Math.min(1, Math.max(0, v)) * (RAMP_SIZE - 1)) * 4;
      out.data[i * 4] = ramp[r] as number;
      out.data[i * 4 + 1] = ramp[r + 1] as number;
      out.data[i * 4 + 2] = ramp[r + 2] as number;
      const x = i % cam.width;
      const y = (i - x) / cam.width;
      // Contour mode keeps the cells above the threshold that touch one below it.
      const shown = above(x, y) && (!o.contour || !above(x - 1, y) || !above(x + 1, y) || !above(x, y - 1) || !above(x, y + 1));
      out.data[i * 4 + 3] = shown ? 255 : 0;
    }
    h.putImageData(out, 0, 0);
  }

  draw(p: DrawParams): boolean {
    const { ctx, canvas, image, cam } = this;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.globalAlpha = 1;
    ctx.fillStyle = css(BACKGROUND);
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    if (!image) return false;
    this.renderGrey(image, p.display);
    const { a, b, c, d, e, f } = p.transform;
    ctx.save();
    ctx.setTransform(a, b, c, d, e, f);
    ctx.imageSmoothingEnabled = false;
    // A reduced frame is stretched over the full image's pixels, where geometry lives.
    ctx.drawImage(this.grey, 0, 0, image.fullWidth, image.fullHeight);
    if (p.overlay.visible && cam) {
      this.renderHeat(cam, p.overlay);
      // The CAM grid covers cam.extent (image pixels), which may reach past the image.
      const { x0, y0, x1, y1 } = cam.extent;
      ctx.beginPath();
      ctx.rect(0, 0, image.fullWidth, image.fullHeight);
      ctx.clip();
      ctx.imageSmoothingEnabled = !p.overlay.contour;
      ctx.globalAlpha = p.overlay.contour ? Math.max(p.overlay.opacity, 0.75) : p.overlay.opacity;
      ctx.drawImage(this.heat, x0, y0, x1 - x0, y1 - y0);
    }
    ctx.restore();
    return true;
  }

  dispose(): void {
    this.image = null;
    this.cam = null;
  }
}
