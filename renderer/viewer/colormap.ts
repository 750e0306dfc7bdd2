// Runs in the renderer. Colour ramps for the heatmap. The default follows viridis' shape: dark
// violet to yellow, lightness rising monotonically, readable with the common colour-vision
// deficiencies. The ramp is rebuilt here from a few anchor colours by linear interpolation.

export type Rgb = readonly [number, number, number];

export const VIRIDIS_ANCHORS: readonly Rgb[] = [
  [68, 1, 84],
  [65, 68, 135],
  [42, 120, 142],
  [34, 168, 132],
  [122, 209, 81],
  [253, 231, 37],
];

/** Jet, for readers used to it; its lightness is not monotonic, so it is not the default. */
export const JET_ANCHORS: readonly Rgb[] = [
  [0, 0, 128],
  [0, 0, 255],
  [0, 255, 255],
  [255, 255, 0],
  [255, 0, 0],
  [128, 0, 0],
];

export type Colormap = 'viridis' | 'jet';

export const COLORMAPS: Record<Colormap, readonly Rgb[]> = { viridis: VIRIDIS_ANCHORS, jet: JET_ANCHORS };

export const RAMP_SIZE = 256;

/** RGBA bytes, `size` entries, evenly spaced from the first anchor to the last. */
export function buildRamp(anchors: readonly Rgb[] = VIRIDIS_ANCHORS, size = RAMP_SIZE): Uint8Array {
  const out = new Uint8Array(size * 4);
  const segments = anchors.length - 1;
  for (let i = 0; i < size; i++) {
    const t = (i / (size - 1)) * segments;
    const k = Math.min(Math.floor(t), segments - 1);
    const f = t - k;
    const a = anchors[k] as Rgb;
    const b = anchors[k + 1] as Rgb;
    out[i * 4] = Math.round(a[0] + (b[0] - a[0]) * f);
    out[i * 4 + 1] = Math.round(a[1] + (b[1] - a[1]) * f);
    out[i * 4 + 2] = Math.round(a[2] + (b[2] - a[2]) * f);
    out[i * 4 + 3] = 255;
  }
  return out;
}

/** The CSS gradient of the same ramp, for the legend next to the controls. */
export function rampCss(anchors: readonly Rgb[] = VIRIDIS_ANCHORS): string {
  const stops = anchors.map((c, i) => `rgb(${c.join(' ')}) ${((i / (anchors.length - 1)) * 100).toFixed(0)}%`);
  return `linear-gradient(to right, ${stops.join(', ')})`;
}
