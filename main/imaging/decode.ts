// Runs in the decode worker (and tests). One switch on the transfer syntax picks the codec; one
// shared path then turns the codec's samples into stored values (BitsStored masking, sign
// extension, planar and 4:2:2 layouts) and, for colour, into the RGB the viewer shows.
import { ResightError, type PixelDataType } from '../../preload/api';
import { decodeHTJ2K, decodeJ2K, decodeJpegBaseline, decodeJpegLossless, decodeJpegLS, decodeRle, type CodecOutput, type TargetSize } from './codecs';
import { nativeFrameBytes, TS, type ParsedFile } from './dicom';
import type { DicomHeader, StoredArray } from './types';

/** Transfer syntaxes Resight decodes, with the names used in messages. */
export const TRANSFER_SYNTAXES: Record<string, string> = {
  [TS.implicitLittle]: 'Implicit VR Little Endian',
  [TS.explicitLittle]: 'Explicit VR Little Endian',
  [TS.deflated]: 'Deflated Explicit VR Little Endian',
  [TS.explicitBig]: 'Explicit VR Big Endian',
  '1.2.840.10008.1.2.5': 'RLE Lossless',
  '1.2.840.10008.1.2.4.50': 'JPEG Baseline (Process 1)',
  '1.2.840.10008.1.2.4.51': 'JPEG Extended (Process 2 & 4)',
  '1.2.840.10008.1.2.4.57': 'JPEG Lossless (Process 14)',
  '1.2.840.10008.1.2.4.70': 'JPEG Lossless (Process 14, SV1)',
  '1.2.840.10008.1.2.4.80': 'JPEG-LS Lossless',
  '1.2.840.10008.1.2.4.81': 'JPEG-LS Near-Lossless',
  '1.2.840.10008.1.2.4.90': 'JPEG 2000 Lossless',
  '1.2.840.10008.1.2.4.91': 'JPEG 2000',
  '1.2.840.10008.1.2.4.201': 'HTJ2K Lossless',
  '1.2.840.10008.1.2.4.202': 'HTJ2K Lossless RPCL',
  '1.2.840.10008.1.2.4.203': 'HTJ2K',
};

const KNOWN_OTHERS: Record<string, string> = {
  '1.2.840.10008.1.2.4.92': 'JPEG 2000 Part 2 Multi-component Lossless',
  '1.2.840.10008.1.2.4.93': 'JPEG 2000 Part 2 Multi-component',
  '1.2.840.10008.1.2.4.100': 'MPEG2 video',
  '1.2.840.10008.1.2.4.102': 'MPEG-4 AVC/H.264 video',
  '1.2.840.10008.1.2.4.110': 'JPEG XL Lossless',
  '1.2.840.10008.1.2.4.112': 'JPEG XL',
};

const NATIVE = new Set<string>([TS.implicitLittle, TS.explicitLittle, TS.deflated, TS.explicitBig]);
const JPEG_LOSSY = new Set(['1.2.840.10008.1.2.4.50', '1.2.840.10008.1.2.4.51']);

export function transferSyntaxName(uid: string): string {
  return TRANSFER_SYNTAXES[uid] ?? KNOWN_OTHERS[uid] ?? `UID ${uid.replace(/[^0-9.]/g, '').slice(0, 64)}`;
}

export function pixelDataType(h: DicomHeader): PixelDataType {
  const signed = h.pixelRepresentation === 1;
  if (h.bitsAllocated <= 8) return signed ? 'int8' : 'uint8';
  if (h.bitsAllocated === 16) return signed ? 'int16' : 'uint16';
  return signed ? 'int32' : 'uint32';
}

/** Bytes the stored values of all frames take once decoded (what the memory limit guards). */
export function decodedBytes(h: DicomHeader): number {
  const bytes = h.bitsAllocated <= 8 ? 1 : h.bitsAllocated / 8;
  const colour = h.samplesPerPixel === 3 || h.palette ? 2 : 1; // colour keeps stored + RGB copies
  return h.rows * h.columns * h.samplesPerPixel * bytes * h.frames * colour;
}

export function assertSupported(h: DicomHeader): void {
  if (!NATIVE.has(h.transferSyntax) && !TRANSFER_SYNTAXES[h.transferSyntax]) {
    throw new ResightError(
      'UNSUPPORTED_TRANSFER_SYNTAX',
      `This image is encoded as ${transferSyntaxName(h.transferSyntax)}, which Resight cannot decode. Ask for it in another encoding (e.g. Explicit VR Little Endian or JPEG 2000).`,
    );
  }
  const colourOk = ['RGB', 'YBR_FULL', 'YBR_FULL_422', 'YBR_RCT', 'YBR_ICT'].includes(h.photometric);
  const greyOk = ['MONOCHROME1', 'MONOCHROME2', 'PALETTE COLOR'].includes(h.photometric);
  if ((h.samplesPerPixel === 3 && !colourOk) || (h.samplesPerPixel === 1 && !greyOk)) {
    throw new ResightError('UNSUPPORTED_FORMAT', `Images with photometric interpretation ${h.photometric.replace(/[^A-Z0-9_ ]/g, '').slice(0, 32)} and ${h.samplesPerPixel} sample(s) per pixel are not supported.`);
  }
  if (h.photometric === 'YBR_FULL_422' && NATIVE.has(h.transferSyntax) && (h.columns % 2 !== 0 || h.bitsAllocated !== 8)) {
    throw new ResightError('INVALID_DICOM', 'This YBR_FULL_422 image has an odd width or more than 8 bits per sample, which the standard does not allow.');
  }
  if (h.bitsAllocated === 1 && (!NATIVE.has(h.transferSyntax) || h.samplesPerPixel !== 1)) {
    throw new ResightError('UNSUPPORTED_FORMAT', 'This 1-bit image is stored in a way Resight does not display.');
  }
}

const lengthMismatch = (): ResightError =>
  new ResightError(
    'LENGTH_MISMATCH',
    'The pixel data in this file does not match its declared rows, columns and frames, so the image cannot be shown. The file may have been written incorrectly.',
  );

const J2K = new Set(['1.2.840.10008.1.2.4.90', '1.2.840.10008.1.2.4.91']);
const HTJ2K = new Set(['1.2.840.10008.1.2.4.201', '1.2.840.10008.1.2.4.202', '1.2.840.10008.1.2.4.203']);

/** Whether images in this transfer syntax can be decoded at a reduced resolution level directly. */
export function decodesReduced(transferSyntax: string): boolean {
  return J2K.has(transferSyntax) || HTJ2K.has(transferSyntax);
}

/**
 * One frame's stored values at the smallest resolution level covering `target` (JPEG 2000 and
 * HTJ2K; `level` says how many were skipped); other encodings, and codestreams that refuse the
 * reduced decode, come back in full (level 0) for the caller to shrink.
 */
export async function decodeStoredForSize(
  parsed: ParsedFile,
  index: number,
  target: TargetSize,
): Promise<{ stored: StoredArray; width: number; height: number; level: number }> {
  const h = parsed.header;
  const full = async () => ({ stored: await decodeStored(parsed, index), width: h.columns, height: h.rows, level: 0 });
  if (!decodesReduced(h.transferSyntax)) return full();
  if (index < 0 || index >= h.frames) throw new ResightError('NOT_FOUND', `This image has ${h.frames} frame(s); frame ${index + 1} does not exist.`);
  const encoded = parsed.encodedFrame(index);
  if (encoded.length === 0) throw new ResightError('NO_PIXEL_DATA', 'This DICOM image has an empty Pixel Data element, so there is nothing to show.');
  const reduce = { width: h.columns, height: h.rows, target };
  const signed = h.pixelRepresentation === 1;
  let out: CodecOutput;
  try {
    out = J2K.has(h.transferSyntax) ? await decodeJ2K(encoded, signed, reduce) : await decodeHTJ2K(encoded, signed, reduce);
  } catch (err) {
    // A tile or component with fewer levels than the main header declares: decode it all instead.
    if (err instanceof ResightError && err.code === 'DECODE_FAILED') return full();
    throw err;
  }
  const bytesPerSample = h.bitsAllocated <= 8 ? 1 : h.bitsAllocated / 8;
  if (out.components !== h.samplesPerPixel || out.bytesPerSample > bytesPerSample || out.width > h.columns || out.height > h.rows) throw lengthMismatch();
  const stored = storedValues({ ...h, rows: out.height, columns: out.width }, out.bytes, out.bytesPerSample, false, out.signed, out.bits);
  return { stored, width: out.width, height: out.height, level: Math.round(Math.log2(h.columns / out.width)) };
}

/** Decodes one frame to stored values, samples interleaved. */
export async function decodeStored(parsed: ParsedFile, index: number): Promise<StoredArray> {
  const h = parsed.header;
  if (index < 0 || index >= h.frames) throw new ResightError('NOT_FOUND', `This image has ${h.frames} frame(s); frame ${index + 1} does not exist.`);
  const encoded = parsed.encodedFrame(index);
  const ts = h.transferSyntax;
  const signed = h.pixelRepresentation === 1;
  const bytesPerSample = h.bitsAllocated <= 8 ? 1 : h.bitsAllocated / 8;
  if (NATIVE.has(ts)) {
    if (encoded.length < nativeFrameBytes(h)) throw lengthMismatch();
    if (h.bitsAllocated === 1) return unpackBits(encoded, h.rows * h.columns);
    if (h.photometric === 'YBR_FULL_422') return storedValues(h, expand422(encoded, h.rows, h.columns), 1, false, false);
    const samples = storedValues(h, encoded, bytesPerSample, ts === TS.explicitBig, false);
    return h.samplesPerPixel === 3 && h.planarConfiguration === 1 ? interleave(samples, h.rows * h.columns) : samples;
  }
  if (encoded.length === 0) throw new ResightError('NO_PIXEL_DATA', 'This DICOM image has an empty Pixel Data element, so there is nothing to show.');
  let out: CodecOutput;
  switch (ts) {
    case '1.2.840.10008.1.2.5':
      out = decodeRle(encoded, h.columns, h.rows, h.samplesPerPixel, bytesPerSample);
      break;
    case '1.2.840.10008.1.2.4.50':
    case '1.2.840.10008.1.2.4.51':
      out = await decodeJpegBaseline(encoded);
      break;
    case '1.2.840.10008.1.2.4.57':
    case '1.2.840.10008.1.2.4.70':
      out = decodeJpegLossless(encoded, bytesPerSample);
      break;
    case '1.2.840.10008.1.2.4.80':
    case '1.2.840.10008.1.2.4.81':
      out = await decodeJpegLS(encoded, signed);
      break;
    case '1.2.840.10008.1.2.4.90':
    case '1.2.840.10008.1.2.4.91':
      out = await decodeJ2K(encoded, signed);
      break;
    case '1.2.840.10008.1.2.4.201':
    case '1.2.840.10008.1.2.4.202':
    case '1.2.840.10008.1.2.4.203':
      out = await decodeHTJ2K(encoded, signed);
      break;
    default:
      throw new ResightError('UNSUPPORTED_TRANSFER_SYNTAX', `This image is encoded as ${transferSyntaxName(ts)}, which Resight cannot decode.`);
  }
  if (out.width !== h.columns || out.height !== h.rows || out.components !== h.samplesPerPixel) throw lengthMismatch();
  if (out.bytesPerSample > bytesPerSample) throw lengthMismatch();
  return storedValues(h, out.bytes, out.bytesPerSample, false, out.signed, out.bits);
}

function makeArray(type: PixelDataType, n: number): StoredArray {
  switch (type) {
    case 'uint8':
      return new Uint8Array(n);
    case 'int8':
      return new Int8Array(n);
    case 'uint16':
      return new Uint16Array(n);
    case 'int16':
      return new Int16Array(n);
    case 'uint32':
      return new Uint32Array(n);
    case 'int32':
      return new Int32Array(n);
    case 'float32':
      return new Float32Array(n);
  }
}

const BYTES: Record<PixelDataType, number> = { uint8: 1, int8: 1, uint16: 2, int16: 2, uint32: 4, int32: 4, float32: 4 };

function view(type: PixelDataType, bytes: Uint8Array, n: number): StoredArray {
  const { buffer, byteOffset } = bytes;
  switch (type) {
    case 'uint8':
      return new Uint8Array(buffer, byteOffset, n);
    case 'int8':
      return new Int8Array(buffer, byteOffset, n);
    case 'uint16':
      return new Uint16Array(buffer, byteOffset, n);
    case 'int16':
      return new Int16Array(buffer, byteOffset, n);
    case 'uint32':
      return new Uint32Array(buffer, byteOffset, n);
    case 'int32':
      return new Int32Array(buffer, byteOffset, n);
    case 'float32':
      return new Float32Array(buffer, byteOffset, n);
  }
}

const UNSIGNED: Record<PixelDataType, PixelDataType> = { uint8: 'uint8', int8: 'uint8', uint16: 'uint16', int16: 'uint16', uint32: 'uint32', int32: 'uint32', float32: 'float32' };

/**
 * Samples of `bytesPerSample` bytes → the array for BitsAllocated and Pixel Representation, keeping
 * BitsStored bits below HighBit (higher bits may hold overlays) and sign-extending signed data.
 * Codec output whose values already fit BitsStored is used as it is, without a copy.
 */
function storedValues(h: DicomHeader, bytes: Uint8Array, bytesPerSample: number, bigEndian: boolean, codecSigned: boolean, codecBits?: number): StoredArray {
  const n = h.rows * h.columns * h.samplesPerPixel;
  const type = pixelDataType(h);
  const signed = h.pixelRepresentation === 1;
  const bits = h.bitsStored;
  const lowBit = Math.max(0, Math.min(h.highBit + 1 - bits, 32 - bits));
  const shift = 32 - bits;
  const mask = bits >= 32 ? 0xffffffff : (1 << bits) - 1;
  const size = BYTES[type];
  if (!bigEndian && lowBit === 0 && bytesPerSample === size && bytes.byteLength >= n * size) {
    const aligned = bytes.byteOffset % size === 0 ? bytes : bytes.slice(0, n * size);
    const fromCodec = codecBits !== undefined;
    if (fromCodec && codecBits <= bits && codecSigned === signed) return view(type, aligned, n);
    if (bits === 8 * size) return view(type, fromCodec ? aligned : aligned.slice(0, n * size), n);
    const raw = view(UNSIGNED[type], aligned, n);
    // Codec output is ours to change; native data is a view into the file, so it is copied.
    const out = fromCodec ? view(type, aligned, n) : makeArray(type, n);
    if (signed) for (let i = 0; i < n; i++) out[i] = (raw[i]! << shift) >> shift;
    else if (size === 2 && out.byteOffset % 4 === 0) {
      // Two 16-bit samples per 32-bit word: half the iterations over a radiograph's millions.
      if (!fromCodec) out.set(raw);
      const pairs = new Uint32Array(out.buffer, out.byteOffset, n >> 1);
      const both = (mask | (mask << 16)) >>> 0;
      for (let i = 0; i < pairs.length; i++) pairs[i] = pairs[i]! & both;
      if (n & 1) out[n - 1] = raw[n - 1]! & mask;
    } else for (let i = 0; i < n; i++) out[i] = raw[i]! & mask;
    return out;
  }
  const out = makeArray(type, n);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = !bigEndian;
  for (let i = 0; i < n; i++) {
    let v = bytesPerSample === 1 ? dv.getUint8(i) : bytesPerSample === 2 ? dv.getUint16(2 * i, le) : dv.getUint32(4 * i, le);
    if (codecSigned && bytesPerSample === 1) v = (v << 24) >> 24;
    else if (codecSigned && bytesPerSample === 2) v = (v << 16) >> 16;
    if (lowBit) v >>>= lowBit;
    out[i] = signed ? (v << shift) >> shift : bits >= 32 ? v >>> 0 : v & mask;
  }
  return out;
}

function interleave(planes: StoredArray, pixels: number): StoredArray {
  const out = makeArrayLike(planes);
  for (let i = 0; i < pixels; i++) {
    out[3 * i] = planes[i]!;
    out[3 * i + 1] = planes[pixels + i]!;
    out[3 * i + 2] = planes[2 * pixels + i]!;
  }
  return out;
}

function makeArrayLike(a: StoredArray): StoredArray {
  return new (a.constructor as new (n: number) => StoredArray)(a.length);
}

/** Y1 Y2 Cb Cr per pixel pair → Y Cb Cr per pixel (chroma repeated, as pydicom and dcmtk do). */
function expand422(bytes: Uint8Array, rows: number, columns: number): Uint8Array {
  const out = new Uint8Array(rows * columns * 3);
  for (let p = 0, s = 0; p < rows * columns; p += 2, s += 4) {
    const cb = bytes[s + 2]!;
    const cr = bytes[s + 3]!;
    out.set([bytes[s]!, cb, cr, bytes[s + 1]!, cb, cr], 3 * p);
  }
  return out;
}

function unpackBits(bytes: Uint8Array, pixels: number): Uint8Array {
  const out = new Uint8Array(pixels);
  for (let i = 0; i < pixels; i++) out[i] = (bytes[i >> 3]! >> (i & 7)) & 1;
  return out;
}

/** Whether the codec already turned the file's colour space into RGB. */
function codecMadeRgb(h: DicomHeader): boolean {
  if (h.photometric === 'YBR_RCT' || h.photometric === 'YBR_ICT') return true;
  return JPEG_LOSSY.has(h.transferSyntax) && h.photometric.startsWith('YBR');
}

/** Whether frames need a display copy (colour) or are shown as their stored values (grey). */
export function isColour(h: DicomHeader): boolean {
  return h.samplesPerPixel === 3 || h.photometric === 'PALETTE COLOR';
}

/** The photometric interpretation of stored values after the codec (what `decode --stage stored` writes). */
export function storedPhotometric(h: DicomHeader): string {
  return codecMadeRgb(h) ? 'RGB' : h.photometric;
}

const clamp8 = (v: number): number => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));

/** Stored colour (RGB, YBR_FULL, PALETTE COLOR) → 8-bit RGB, samples interleaved. */
export function toRgb8(h: DicomHeader, stored: StoredArray): Uint8Array {
  const pixels = h.rows * h.columns;
  const out = new Uint8Array(pixels * 3);
  if (h.palette) {
    const { red, green, blue } = h.palette;
    const pick = (lut: typeof red, v: number): number => {
      const i = Math.min(Math.max(v - lut.first, 0), lut.data.length - 1);
      // 16-bit entries keep their top 8 bits; 8-bit entries are used as they are.
      return lut.bits === 16 ? lut.data[i]! >> 8 : lut.data[i]! & 0xff;
    };
    for (let p = 0; p < pixels; p++) {
      const v = stored[p]!;
      out[3 * p] = pick(red, v);
      out[3 * p + 1] = pick(green, v);
      out[3 * p + 2] = pick(blue, v);
    }
    return out;
  }
  const down = Math.max(0, h.bitsStored - 8);
  const ybr = !codecMadeRgb(h) && (h.photometric === 'YBR_FULL' || h.photometric === 'YBR_FULL_422');
  for (let p = 0; p < pixels; p++) {
    const a = stored[3 * p]! >> down;
    const b = stored[3 * p + 1]! >> down;
    const c = stored[3 * p + 2]! >> down;
    if (ybr) {
      // PS3.3 C.7.6.3.1.2 YBR_FULL → RGB.
      out[3 * p] = clamp8(a + 1.402 * (c - 128));
      out[3 * p + 1] = clamp8(a - 0.344136 * (b - 128) - 0.714136 * (c - 128));
      out[3 * p + 2] = clamp8(a + 1.772 * (b - 128));
    } else {
      out[3 * p] = a;
      out[3 * p + 1] = b;
      out[3 * p + 2] = c;
    }
  }
  return out;
}
