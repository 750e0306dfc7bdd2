// Runs in the decode worker (and tests). Thin wrappers over the codec packages, each returning the
// decoded samples as little-endian bytes, samples interleaved. RLE (PS3.5 annex G) is PackBits and
// the DICOM segment layout, small enough to be the product's own; so is 12-bit lossy JPEG
// (jpeg-extended.ts), which no maintained package decodes.
import openjpegFactory from '@cornerstonejs/codec-openjpeg/decodewasmjs';
import openjphFactory from '@cornerstonejs/codec-openjph/wasmjs';
import charlsFactory from '@cornerstonejs/codec-charls/decodewasmjs';
import libjpegFactory from '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs';
import { Decoder as LosslessJpegDecoder } from 'jpeg-lossless-decoder-js';
import { ResightError } from '../../preload/api';
import { decodeJpegExtended } from './jpeg-extended';

export interface CodecOutput {
  width: number;
  height: number;
  components: number;
  /** 1 or 2: the size of each sample in bytes. */
  bytesPerSample: number;
  /** Samples are two's complement (the codec already sign-extended them). */
  signed: boolean;
  /** Significant bits per sample the codestream declares (values fit in them). */
  bits: number;
  bytes: Uint8Array;
}

export type WasmCodec = 'openjpeg' | 'openjph' | 'charls' | 'libjpeg';

const factories: Record<WasmCodec, WasmCodecFactory> = {
  openjpeg: openjpegFactory,
  openjph: openjphFactory,
  charls: charlsFactory,
  libjpeg: libjpegFactory,
};
const modules = new Map<WasmCodec, Promise<WasmCodecModule>>();

const silent = (): void => undefined;

/** The codecs print progress to stdout, which would corrupt the CLI's JSON output. */
export function wasmModule(codec: WasmCodec): Promise<WasmCodecModule> {
  let m = modules.get(codec);
  if (!m) {
    m = factories[codec]({ print: silent, printErr: silent });
    modules.set(codec, m);
  }
  return m;
}

export const corrupt = (): ResightError =>
  new ResightError('DECODE_FAILED', 'The compressed image data in this file is damaged and could not be decoded. Ask for the study to be sent again.');

/** Codec failures inside WebAssembly surface as numbers or RuntimeErrors; both mean bad data. */
export class CodecCrash extends Error {}

/** Width × height a consumer needs; a reduced decode never goes below it on either axis. */
export interface TargetSize {
  width: number;
  height: number;
}

/**
 * Decomposition levels the main header's COD marker declares (J2K and HTJ2K share the codestream
 * syntax), or 0 when the header cannot be read. Read here because the OpenJPEG build reports no
 * header details before a decode.
 */
export function j2kDecompositionLevels(stream: Uint8Array): number {
  if (stream[0] !== 0xff || stream[1] !== 0x4f) return 0;
  for (let i = 2; i + 9 < stream.length; ) {
    if (stream[i] !== 0xff) return 0;
    const marker = stream[i + 1]!;
    if (marker === 0x52) return stream[i + 9]!;
    // SOT or SOD: the main header ended without a COD.
    if (marker === 0x90 || marker === 0x93) return 0;
    i += 2 + ((stream[i + 2]! << 8) | stream[i + 3]!);
  }
  return 0;
}

/** The highest resolution level to discard so the image still covers the target on both axes. */
export function reductionLevel(width: number, height: number, levels: number, target: TargetSize): number {
  let level = 0;
  while (level < levels && Math.ceil(width / 2 ** (level + 1)) >= target.width && Math.ceil(height / 2 ** (level + 1)) >= target.height) level++;
  return level;
}

async function runWasm(
  codec: WasmCodec,
  className: 'J2KDecoder' | 'HTJ2KDecoder' | 'JpegLSDecoder' | 'JPEGDecoder',
  encoded: Uint8Array,
  signedHint: boolean,
  reduce?: { level: number; width: number; height: number },
): Promise<CodecOutput> {
  const mod = await wasmModule(codec);
  const Ctor = mod[className];
  if (!Ctor) throw new CodecCrash(`codec ${codec} lacks ${className}`);
  const decoder = new Ctor();
  try {
    decoder.getEncodedBuffer(encoded.length).set(encoded);
    try {
      // Embind checks argument counts: OpenJPEG also takes a quality-layer count (0: all), OpenJPH not.
      if (reduce && reduce.level > 0 && decoder.decodeSubResolution) {
        if (codec === 'openjpeg') decoder.decodeSubResolution(reduce.level, 0);
        else decoder.decodeSubResolution(reduce.level);
      } else decoder.decode();
    } catch (err) {
      // A WebAssembly trap can leave the module's memory in an unknown state: the worker restarts.
      if (err instanceof Error && err.name === 'RuntimeError') throw new CodecCrash('codec trapped');
      throw corrupt();
    }
    const info = decoder.getFrameInfo();
    const bytesPerSample = info.bitsPerSample > 8 ? 2 : 1;
    const decoded = decoder.getDecodedBuffer();
    // The frame info keeps the full size after a reduced decode; the buffer holds the reduced one.
    const reduced = reduce && reduce.level > 0 && info.width === reduce.width && info.height === reduce.height;
    const width = reduced ? Math.ceil(info.width / 2 ** reduce.level) : info.width;
    const height = reduced ? Math.ceil(info.height / 2 ** reduce.level) : info.height;
    const expected = width * height * info.componentCount * bytesPerSample;
    if (decoded.length < expected) throw corrupt();
    return {
      width,
      height,
      components: info.componentCount,
      bytesPerSample,
      signed: info.isSigned ?? signedHint,
      bits: info.bitsPerSample,
      // Copy out of the WebAssembly heap: the view dies with the decoder.
      bytes: decoded.slice(0, expected),
    };
  } finally {
    decoder.delete();
  }
}

/**
 * JPEG 2000 and HTJ2K. Given the image's size and a target, decodes only the resolution levels
 * needed to cover the target (each level discarded halves both axes and skips most of the work).
 */
export function decodeJ2K(encoded: Uint8Array, signed: boolean, reduce?: { width: number; height: number; target: TargetSize }): Promise<CodecOutput> {
  return runWasm('openjpeg', 'J2KDecoder', encoded, signed, reduceFor(encoded, reduce));
}

export function decodeHTJ2K(encoded: Uint8Array, signed: boolean, reduce?: { width: number; height: number; target: TargetSize }): Promise<CodecOutput> {
  return runWasm('openjph', 'HTJ2KDecoder', encoded, signed, reduceFor(encoded, reduce));
}

function reduceFor(encoded: Uint8Array, reduce?: { width: number; height: number; target: TargetSize }): { level: number; width: number; height: number } | undefined {
  if (!reduce) return undefined;
  return { level: reductionLevel(reduce.width, reduce.height, j2kDecompositionLevels(encoded), reduce.target), width: reduce.width, height: reduce.height };
}
export const decodeJpegLS = (encoded: Uint8Array, signed: boolean): Promise<CodecOutput> => runWasm('charls', 'JpegLSDecoder', encoded, signed);

/** Sample precision declared by the first start-of-frame marker, if the stream has one. */
export function jpegPrecision(bytes: Uint8Array): number | undefined {
  for (let i = 2; i + 4 < bytes.length; ) {
    if (bytes[i] !== 0xff) return undefined;
    const marker = bytes[i + 1]!;
    if (marker === 0xff) {
      i++;
      continue;
    }
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) return bytes[i + 4];
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7)) {
      i += 2;
      continue;
    }
    i += 2 + ((bytes[i + 2]! << 8) | bytes[i + 3]!);
  }
  return undefined;
}

/** JPEG Baseline and Extended: 8-bit samples on libjpeg-turbo, 12-bit ones on Resight's own decoder. */
export async function decodeJpegBaseline(encoded: Uint8Array): Promise<CodecOutput> {
  const precision = jpegPrecision(encoded);
  if (precision !== undefined && precision > 8) return decodeJpegExtended(encoded);
  return runWasm('libjpeg', 'JPEGDecoder', encoded, false);
}

export function decodeJpegLossless(encoded: Uint8Array, bytesPerSample: number): CodecOutput {
  const precision = jpegPrecision(encoded);
  const decoder = new LosslessJpegDecoder();
  let out: Uint8Array | Uint16Array;
  try {
    const copy = encoded.slice();
    out = decoder.decode(copy.buffer, 0, copy.byteLength, precision !== undefined && precision > 8 ? 2 : bytesPerSample);
  } catch {
    throw corrupt();
  }
  const d = decoder as unknown as { xDim: number; yDim: number; numComp: number };
  const bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  return { width: d.xDim, height: d.yDim, components: d.numComp, bytesPerSample: out.BYTES_PER_ELEMENT, signed: false, bits: precision ?? 8 * out.BYTES_PER_ELEMENT, bytes };
}

/**
 * RLE Lossless: a 64-byte header of segment offsets, one PackBits segment per byte plane (most
 * significant byte first) per sample.
 */
export function decodeRle(encoded: Uint8Array, width: number, height: number, samples: number, bytesPerSample: number): CodecOutput {
  if (encoded.length < 64) throw corrupt();
  const view = new DataView(encoded.buffer, encoded.byteOffset, encoded.byteLength);
  const segments = view.getUint32(0, true);
  if (segments !== samples * bytesPerSample || segments > 15) throw corrupt();
  const pixels = width * height;
  const step = samples * bytesPerSample;
  const out = new Uint8Array(pixels * step);
  for (let s = 0; s < segments; s++) {
    const start = view.getUint32(4 + 4 * s, true);
    const end = s + 1 < segments ? view.getUint32(8 + 4 * s, true) : encoded.length;
    if (start < 64 || start > end || end > encoded.length) throw corrupt();
    const sample = Math.floor(s / bytesPerSample);
    const byteInSample = bytesPerSample - 1 - (s % bytesPerSample);
    let o = sample * bytesPerSample + byteInSample;
    let written = 0;
    let i = start;
    while (i < end && written < pixels) {
      const n = (encoded[i++]! << 24) >> 24;
      if (n >= 0) {
        for (let k = 0; k <= n && i < end && written < pixels; k++, written++, o += step) out[o] = encoded[i++]!;
      } else if (n !== -128) {
        const value = encoded[i++]!;
        for (let k = 0; k < 1 - n && written < pixels; k++, written++, o += step) out[o] = value;
      }
    }
    if (written < pixels) throw corrupt();
  }
  return { width, height, components: samples, bytesPerSample, signed: false, bits: 8 * bytesPerSample, bytes: out };
}
