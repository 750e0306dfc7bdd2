// Runs anywhere. The grey pixel pipeline of PS3.3 C.11: Modality LUT (rescale or LUT Sequence) →
// VOI (window with LINEAR, LINEAR_EXACT or SIGMOID, or a VOI LUT Sequence) → Presentation LUT
// (MONOCHROME1 / INVERSE shown inverted), giving display intensities in [0, 1].
import type { ImageInfo, VoiWindow } from '../../preload/api';
import type { DicomHeader, Lut, ReducedFrame, StoredArray } from './types';

export type VoiFunction = 'LINEAR' | 'LINEAR_EXACT' | 'SIGMOID';

/**
 * The DICOM attributes behind an ImageInfo that loadImage produced, so callers holding only the
 * info (the inference service) still get Modality and VOI LUT Sequences applied.
 */
const headers = new WeakMap<ImageInfo, DicomHeader>();

export function rememberHeader(info: ImageInfo, header: DicomHeader): void {
  headers.set(info, header);
}

/** Maps a value through the linear VOI function onto [0, 1] (PS3.3 C.11.2.1.2.1). */
export function voiLinear(x: number, center: number, width: number): number {
  if (width <= 1) return x <= center - 0.5 ? 0 : 1;
  const y = (x - (center - 0.5)) / (width - 1) + 0.5;
  return y <= 0 ? 0 : y >= 1 ? 1 : y;
}

/** LINEAR_EXACT (PS3.3 C.11.2.1.3.2): no half-unit offsets, width may be below 1. */
export function voiLinearExact(x: number, center: number, width: number): number {
  if (x <= center - width / 2) return 0;
  if (x > center + width / 2) return 1;
  return (x - center) / width + 0.5;
}

/** SIGMOID (PS3.3 C.11.2.1.3.1). */
export function voiSigmoid(x: number, center: number, width: number): number {
  return 1 / (1 + Math.exp((-4 * (x - center)) / width));
}

export function voiFunction(fn: VoiFunction): (x: number, center: number, width: number) => number {
  return fn === 'SIGMOID' ? voiSigmoid : fn === 'LINEAR_EXACT' ? voiLinearExact : voiLinear;
}

export function lutLookup(lut: Lut, x: number): number {
  const i = Math.round(x) - lut.first;
  return lut.data[i < 0 ? 0 : i >= lut.data.length ? lut.data.length - 1 : i]!;
}

/** The window under which a raw range [0, max] displays as value / max (used for PNG/JPEG). */
export function fullRangeWindow(max: number): VoiWindow {
  return { center: max / 2 + 0.5, width: max + 1, explanation: 'Full range' };
}

/** Everything that turns stored grey values into display intensities. */
export interface DisplayPipeline {
  slope: number;
  intercept: number;
  modalityLut?: Lut;
  /** A window and its function, or a VOI LUT (which then wins). */
  window: VoiWindow;
  voiLutFunction: VoiFunction;
  voiLut?: Lut;
  invert: boolean;
}

/** Display is inverted for MONOCHROME1 and for Presentation LUT Shape INVERSE (not twice: PS3.3 C.8.11.6.1.2). */
export function isInverted(photometric: string, presentationLutShape?: string): boolean {
  return photometric.trim().toUpperCase() === 'MONOCHROME1' || presentationLutShape === 'INVERSE';
}

/**
 * The pipeline for an image: the file's (or the given) window, or a VOI LUT when asked for
 * (voiLutIndex) or when the file has LUTs but no window.
 */
export function pipelineFor(info: ImageInfo, header?: DicomHeader, choice: { window?: VoiWindow; voiLutIndex?: number } = {}): DisplayPipeline {
  const fileLuts = header?.voiLuts ?? [];
  const lutIndex = choice.voiLutIndex ?? (!choice.window && header && header.windows.length === 0 && fileLuts.length ? 0 : undefined);
  return {
    slope: info.rescaleSlope,
    intercept: info.rescaleIntercept,
    modalityLut: header?.modalityLut,
    window: choice.window ?? info.windows[0]!,
    voiLutFunction: info.voiLutFunction ?? 'LINEAR',
    voiLut: lutIndex !== undefined ? fileLuts[lutIndex] : undefined,
    invert: isInverted(info.storedPhotometric ?? info.photometric, info.presentationLutShape),
  };
}

/** One stored value → display intensity in [0, 1]. */
export function displayValue(stored: number, p: DisplayPipeline): number {
  return displayFunction(p)(stored);
}

/** The pipeline as one function, its choices made once rather than per pixel. */
function displayFunction(p: DisplayPipeline): (stored: number) => number {
  const { slope, intercept, modalityLut, voiLut, invert } = p;
  const voi = voiFunction(p.voiLutFunction);
  const { center, width } = p.window;
  return (stored) => {
    const m = modalityLut ? lutLookup(modalityLut, stored) : stored * slope + intercept;
    const y = voiLut ? lutLookup(voiLut, m) / ((1 << voiLut.bits) - 1) : voi(m, center, width);
    return invert ? 1 - y : y;
  };
}

/** Modality values (float32) of one grey frame: what `decode --stage modality` writes. */
export function modalityValues(frame: StoredArray, slope: number, intercept: number, lut?: Lut): Float32Array {
  const out = new Float32Array(frame.length);
  for (let i = 0; i < frame.length; i++) out[i] = lut ? lutLookup(lut, frame[i]!) : frame[i]! * slope + intercept;
  return out;
}

/** Stored value → display intensity, indexed by `value - min`: integer grey frames only. */
export interface DisplayTable {
  stored: StoredArray;
  table: Float32Array;
  min: number;
}

/**
 * Integer stored values whose display intensity is `scale × value + offset` over their type's whole
 * range: a linear window no narrower than the data, as PNG and JPEG files get. Averaging commutes
 * with that map, so the model's resize reads the stored values themselves, with no table.
 */
export interface AffineSource {
  stored: Exclude<StoredArray, Float32Array>;
  scale: number;
  offset: number;
}

/** The frame's display as an affine map of its stored values, when it is one everywhere. */
export function affineSource(frame: StoredArray, p: DisplayPipeline): AffineSource | undefined {
  if (frame instanceof Float32Array || p.modalityLut || p.voiLut || p.voiLutFunction !== 'LINEAR' || p.window.width <= 1) return undefined;
  const [lo, hi] = tableRange(frame);
  // y = (v × slope + intercept − (center − ½)) / (width − 1) + ½, inverted for MONOCHROME1 / INVERSE.
  const a = p.slope / (p.window.width - 1);
  const b = (p.intercept - (p.window.center - 0.5)) / (p.window.width - 1) + 0.5;
  const inRange = (v: number): boolean => a * v + b >= 0 && a * v + b <= 1;
  if (!inRange(lo) || !inRange(hi)) return undefined;
  return p.invert ? { stored: frame, scale: -a, offset: 1 - b } : { stored: frame, scale: a, offset: b };
}

/** The frame's table, or undefined for float data or a value range too wide to tabulate. */
export function displayTable(frame: StoredArray, p: DisplayPipeline): DisplayTable | undefined {
  if (frame instanceof Float32Array) return undefined;
  const [min, max] = tableRange(frame);
  if (!(max - min <= 1 << 20)) return undefined;
  const table = new Float32Array(max - min + 1);
  const display = displayFunction(p);
  for (let v = min; v <= max; v++) table[v - min] = display(v);
  return { stored: frame, table, min };
}

/**
 * The stored values a table must cover. A large 8- or 16-bit frame gets its type's whole range:
 * filling 65,536 entries costs less than scanning a radiograph's pixels for their extremes.
 */
function tableRange(frame: Exclude<StoredArray, Float32Array>): [number, number] {
  if (frame.length > 1 << 17) {
    if (frame instanceof Uint8Array) return [0, 0xff];
    if (frame instanceof Int8Array) return [-0x80, 0x7f];
    if (frame instanceof Uint16Array) return [0, 0xffff];
    if (frame instanceof Int16Array) return [-0x8000, 0x7fff];
  }
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < frame.length; i++) {
    const v = frame[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return [min, max];
}

/** Display intensities in [0, 1] as 8-bit grey values, as PNGs and thumbnails show them. */
export function toGrey8(intensities: Float32Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(intensities.length);
  for (let i = 0; i < out.length; i++) out[i] = Math.round(intensities[i]! * 255);
  return out;
}

/** Display intensities of a grey frame through a pipeline; integer data goes through a table. */
export function displayGrey(frame: StoredArray, p: DisplayPipeline): Float32Array {
  const n = frame.length;
  const out = new Float32Array(n);
  const t = n > 4096 ? displayTable(frame, p) : undefined;
  if (t) {
    for (let i = 0; i < n; i++) out[i] = t.table[frame[i]! - t.min]!;
    return out;
  }
  const display = displayFunction(p);
  for (let i = 0; i < n; i++) out[i] = display(frame[i]!);
  return out;
}

/**
 * Display intensities in [0, 1] for one frame: modality LUT, VOI, then MONOCHROME1 / INVERSE
 * inversion so that high always means bright. Colour frames (8-bit RGB) become luminance (Rec. 601).
 */
export function displayIntensities(frame: StoredArray, info: ImageInfo, window?: VoiWindow, header: DicomHeader | undefined = headers.get(info)): Float32Array {
  const n = info.width * info.height;
  if (info.samplesPerPixel === 3) {
    window ??= info.windows[0]!;
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const l = 0.299 * frame[3 * i]! + 0.587 * frame[3 * i + 1]! + 0.114 * frame[3 * i + 2]!;
      out[i] = voiLinear(l, window.center, window.width);
    }
    return out;
  }
  return displayGrey(frame, pipelineFor(info, header, window ? { window } : {}));
}

/**
 * What the model's resize reads: for integer grey frames the stored values, under an affine map or
 * through their table, so intensities come while averaging instead of from a full-size float copy.
 */
export function displaySource(frame: StoredArray, info: ImageInfo, header: DicomHeader | undefined = headers.get(info)): Float32Array | DisplayTable | AffineSource {
  if (info.samplesPerPixel === 3) return displayIntensities(frame, info, undefined, header);
  const p = pipelineFor(info, header);
  return affineSource(frame, p) ?? displayTable(frame, p) ?? displayGrey(frame, p);
}

/** Display intensities of a reduced frame: its own pixel count, the whole image's display pipeline. */
export function reducedIntensities(f: ReducedFrame): Float32Array {
  return displayIntensities(f.pixels, { ...f.info, width: f.width, height: f.height }, undefined, f.dicom ?? headers.get(f.info));
}

/** displaySource for a reduced frame. */
export function reducedSource(f: ReducedFrame): Float32Array | DisplayTable | AffineSource {
  return displaySource(f.pixels, { ...f.info, width: f.width, height: f.height }, f.dicom ?? headers.get(f.info));
}

/** Whether a stored value is padding (PS3.3 C.7.5.1.1.2): the value, or the range it spans with the limit. */
export function paddingTest(value?: number, limit?: number): (v: number) => boolean {
  if (value === undefined) return () => false;
  if (limit === undefined) return (v) => v === value;
  const lo = Math.min(value, limit);
  const hi = Math.max(value, limit);
  return (v) => v >= lo && v <= hi;
}

/**
 * A default window from the histogram when the file has none: the 0.5th to 99.5th percentile of
 * modality values, excluding padding, so a few hot or padded pixels do not flatten the image.
 */
export function windowFromHistogram(frame: StoredArray, toModality: (v: number) => number, isPadding: (v: number) => boolean = () => false): VoiWindow {
  let min = Infinity;
  let max = -Infinity;
  let count = 0;
  for (let i = 0; i < frame.length; i++) {
    const v = frame[i]!;
    if (isPadding(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
    count++;
  }
  if (count === 0) return { center: toModality(0), width: 1, explanation: 'Auto (empty)' };
  const bins = 4096;
  const span = max - min || 1;
  const hist = new Uint32Array(bins);
  for (let i = 0; i < frame.length; i++) {
    const v = frame[i]!;
    if (isPadding(v)) continue;
    hist[Math.min(bins - 1, Math.floor(((v - min) / span) * bins))]!++;
  }
  const at = (q: number): number => {
    const target = q * count;
    let acc = 0;
    for (let b = 0; b < bins; b++) {
      acc += hist[b]!;
      if (acc >= target) return min + ((b + 0.5) / bins) * span;
    }
    return max;
  };
  const a = toModality(at(0.005));
  const b = toModality(at(0.995));
  const lo = Math.min(a, b);
  const width = Math.max(1, Math.max(a, b) - lo);
  return { center: lo + width / 2, width, explanation: 'Auto (histogram)' };
}
