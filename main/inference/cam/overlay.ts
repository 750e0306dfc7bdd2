// Runs in main, the CLI and the exporters. Draws a CAM over the image as a PNG at the image's
// own resolution: a colour-blind-safe ramp (the viewer's default, viridis-shaped), opacity rising
// with the map's value, a colour bar and the model's identity in a corner, so a PNG that leaves
// Resight still says which model made it.
import sharp from 'sharp';
import type { CamMethod } from '../../../preload/api';
import type { InputGeometry } from '../geometry';
import { mapOntoImage } from '../geometry';

/** How each CAM method is named in captions. */
const CAM_METHOD_NAMES: Record<CamMethod, string> = {
  gradcam: 'Grad-CAM',
  gradcampp: 'Grad-CAM++',
  xgradcam: 'XGrad-CAM',
  layercam: 'LayerCAM',
  hirescam: 'HiResCAM',
  eigencam: 'Eigen-CAM',
  occlusion: 'Occlusion',
};

/** The viewer's default ramp anchors (renderer/viewer/colormap.ts): dark violet → yellow. */
const RAMP: ReadonlyArray<readonly [number, number, number]> = [
  [68, 1, 84],
  [65, 68, 135],
  [42, 120, 142],
  [34, 168, 132],
  [122, 209, 81],
  [253, 231, 37],
];

export function rampColour(t: number): [number, number, number] {
  const segments = RAMP.length - 1;
  const x = Math.min(1, Math.max(0, t)) * segments;
  const k = Math.min(Math.floor(x), segments - 1);
  const f = x - k;
  const a = RAMP[k]!;
  const b = RAMP[k + 1]!;
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
}

export interface OverlayOptions {
  /** Map values (normalised to [0, 1]) at or below this are not drawn. */
  threshold: number;
  /** Opacity of the heat at value 1. */
  opacity: number;
  /** Text drawn in the bottom-left corner, e.g. "resnet18-cxr-phantom 1.0.0 · Grad-CAM · effusion". */
  caption: string;
}

/**
 * Every exported overlay (CLI, batch review, bundles) draws the same way and says in its corner which
 * model, method and label made it, and that it is decision support.
 */
export function labelledOverlay(model: { id: string; version: string }, method: CamMethod, label: string): OverlayOptions {
  return { threshold: 0.2, opacity: 0.55, caption: `${model.id} ${model.version} · ${CAM_METHOD_NAMES[method]} · ${label} · decision support` };
}

const escapeXml = (s: string): string => s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

export async function renderCamOverlay(
  grey: Uint8Array,
  channels: 1 | 3,
  width: number,
  height: number,
  cam: { values: ArrayLike<number>; width: number; height: number },
  geometry: InputGeometry,
  opts: OverlayOptions,
): Promise<Buffer> {
  const heat = mapOntoImage(Float32Array.from(cam.values), cam.width, cam.height, geometry, width, height);
  const rgb = Buffer.alloc(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    const base = channels === 1 ? [grey[i]!, grey[i]!, grey[i]!] : [grey[3 * i]!, grey[3 * i + 1]!, grey[3 * i + 2]!];
    const v = heat[i]!;
    const alpha = v > opts.threshold ? opts.opacity * Math.min(1, (v - opts.threshold) / Math.max(1e-6, 1 - opts.threshold) * 0.6 + 0.4) : 0;
    const c = rampColour(v);
    for (let k = 0; k < 3; k++) rgb[3 * i + k] = Math.round(base[k]! * (1 - alpha) + c[k]! * alpha);
  }
  const bar = Math.max(8, Math.round(Math.min(width, height) * 0.025));
  const font = Math.max(10, Math.round(Math.min(width, height) * 0.028));
  const stops = RAMP.map((c, i) => `<stop offset="${(i / (RAMP.length - 1)) * 100}%" stop-color="rgb(${c.join(',')})"/>`).join('');
  const barTop = Math.round(height * 0.1);
  const barHeight = Math.round(height * 0.5);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
<defs><linearGradient id="g" x1="0" y1="1" x2="0" y2="0">${stops}</linearGradient></defs>
<rect x="${width - bar * 2}" y="${barTop}" width="${bar}" height="${barHeight}" fill="url(#g)" stroke="white" stroke-width="1"/>
<text x="${width - bar * 2 - 4}" y="${barTop + font * 0.8}" font-family="DejaVu Sans, sans-serif" font-size="${font}" fill="white" text-anchor="end">high</text>
<text x="${width - bar * 2 - 4}" y="${barTop + barHeight}" font-family="DejaVu Sans, sans-serif" font-size="${font}" fill="white" text-anchor="end">low</text>
<rect x="0" y="${height - font * 1.8}" width="${width}" height="${font * 1.8}" fill="black" fill-opacity="0.6"/>
<text x="${font * 0.5}" y="${height - font * 0.55}" font-family="DejaVu Sans, sans-serif" font-size="${font}" fill="white">${escapeXml(opts.caption)}</text>
</svg>`;
  return sharp(rgb, { raw: { width, height, channels: 3 } })
    .composite([{ input: Buffer.from(svg), top: 0, left: 0 }])
    .png()
    .toBuffer();
}
