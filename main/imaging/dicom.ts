// Runs in main, the server, the CLI and tests. Parses a DICOM Part 10 file with dicom-parser and
// decodes native (uncompressed) pixel data. Compressed transfer syntaxes are refused with a typed
// error until their codecs land (Imaging issue).
import dicomParser from 'dicom-parser';
import { inflateRawSync } from 'node:zlib';
import { ResightError, type ImageInfo, type PixelDataType, type VoiWindow } from '../../preload/api';
import type { StoredArray } from './types';
import { windowFromHistogram } from './voi';

const TS = {
  implicitLittle: '1.2.840.10008.1.2',
  explicitLittle: '1.2.840.10008.1.2.1',
  deflated: '1.2.840.10008.1.2.1.99',
  explicitBig: '1.2.840.10008.1.2.2',
} as const;
const NATIVE = new Set<string>(Object.values(TS));

export interface ParsedDicom {
  info: Omit<ImageInfo, 'imageId' | 'fileName'>;
  frame(index: number): StoredArray;
}

function numbers(ds: dicomParser.DataSet, tag: string): number[] {
  const s = ds.string(tag);
  if (!s) return [];
  return s
    .split('\\')
    .map((p) => Number.parseFloat(p))
    .filter((v) => Number.isFinite(v));
}

function strings(ds: dicomParser.DataSet, tag: string): string[] {
  const s = ds.string(tag);
  return s ? s.split('\\').map((p) => p.trim()) : [];
}

function parse(bytes: Uint8Array): dicomParser.DataSet {
  try {
    return dicomParser.parseDicom(bytes, {
      inflater: (arr: Uint8Array, position: number) => {
        const inflated = inflateRawSync(arr.subarray(position));
        const out = new Uint8Array(position + inflated.length);
        out.set(arr.subarray(0, position), 0);
        out.set(inflated, position);
        return out;
      },
    } as dicomParser.ParseDicomOptions);
  } catch (err) {
    const text = typeof err === 'string' ? err : err instanceof Error ? err.message : String((err as { exception?: unknown })?.exception ?? '');
    if (/buffer overread|end of buffer|beyond|overrun/i.test(text)) {
      throw new ResightError('TRUNCATED_FILE', 'This DICOM file is cut short (it ends before its data does). Copy it again from the source.');
    }
    throw new ResightError('INVALID_DICOM', 'This file could not be read as DICOM. It may be damaged or not a DICOM image.');
  }
}

export function parseDicomImage(bytes: Uint8Array): ParsedDicom {
  const ds = parse(bytes);
  const ts = ds.string('x00020010')?.trim() ?? TS.implicitLittle;
  const pixel = ds.elements['x7fe00010'];
  if (!pixel) throw new ResightError('UNSUPPORTED_FORMAT', 'This DICOM object has no image (no Pixel Data); it may be a report or a structured document.');
  if (!NATIVE.has(ts) || pixel.encapsulatedPixelData) {
    throw new ResightError('UNSUPPORTED_TRANSFER_SYNTAX', `This image is compressed with a transfer syntax (${ts}) Resight cannot decode yet.`);
  }
  const rows = ds.uint16('x00280010') ?? 0;
  const columns = ds.uint16('x00280011') ?? 0;
  const bitsAllocated = ds.uint16('x00280100') ?? 0;
  const bitsStored = ds.uint16('x00280101') ?? bitsAllocated;
  const signed = (ds.uint16('x00280103') ?? 0) === 1;
  const samplesPerPixel = ds.uint16('x00280002') ?? 1;
  const photometric = ds.string('x00280004')?.trim() ?? (samplesPerPixel === 3 ? 'RGB' : 'MONOCHROME2');
  const planar = ds.uint16('x00280006') ?? 0;
  const frames = Math.max(1, Number.parseInt(ds.string('x00280008') ?? '1', 10) || 1);
  if (!rows || !columns || ![8, 16, 32].includes(bitsAllocated) || bitsStored > bitsAllocated || ![1, 3].includes(samplesPerPixel)) {
    throw new ResightError('INVALID_DICOM', 'This DICOM image describes its pixels inconsistently (rows, columns or bit depth), so it cannot be shown.');
  }
  if (!['MONOCHROME1', 'MONOCHROME2', 'RGB'].includes(photometric)) {
    throw new ResightError('UNSUPPORTED_FORMAT', `Images with photometric interpretation ${photometric} are not supported yet.`);
  }
  if (samplesPerPixel === 3 && bitsAllocated !== 8) {
    throw new ResightError('UNSUPPORTED_FORMAT', 'Colour images with more than 8 bits per sample are not supported yet.');
  }
  const bytesPerSample = bitsAllocated / 8;
  const frameBytes = rows * columns * samplesPerPixel * bytesPerSample;
  // dicom-parser may have inflated a deflated file into a new buffer; read pixels from that one.
  const source: Uint8Array = ds.byteArray;
  if (pixel.dataOffset + frameBytes * frames > source.length || pixel.length < frameBytes * frames) {
    throw new ResightError('TRUNCATED_FILE', 'This DICOM file is cut short (its pixel data is incomplete). Copy it again from the source.');
  }
  const bigEndian = ts === TS.explicitBig;
  const pixelDataType: PixelDataType =
    bitsAllocated === 8 ? (signed ? 'int8' : 'uint8') : bitsAllocated === 16 ? (signed ? 'int16' : 'uint16') : signed ? 'int32' : 'uint32';

  const decodeFrame = (index: number): StoredArray => {
    if (index < 0 || index >= frames) throw new ResightError('NOT_FOUND', `This image has ${frames} frame(s); frame ${index + 1} does not exist.`);
    const start = pixel.dataOffset + index * frameBytes;
    const raw = source.slice(start, start + frameBytes);
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const n = rows * columns * samplesPerPixel;
    const out = makeArray(pixelDataType, n);
    const shift = 32 - bitsStored;
    for (let i = 0; i < n; i++) {
      let v: number;
      if (bytesPerSample === 1) v = view.getUint8(i);
      else if (bytesPerSample === 2) v = view.getUint16(2 * i, !bigEndian);
      else v = view.getUint32(4 * i, !bigEndian);
      // Mask to BitsStored (high bits may hold overlays or garbage), then sign-extend.
      v = signed ? (v << shift) >> shift : bitsStored === 32 ? v >>> 0 : v & ((1 << bitsStored) - 1);
      out[i] = v;
    }
    if (samplesPerPixel === 3 && planar === 1) return interleave(out as Uint8Array, rows * columns);
    return out;
  };

  const slope = numbers(ds, 'x00281053')[0] ?? 1;
  const intercept = numbers(ds, 'x00281052')[0] ?? 0;
  const centers = numbers(ds, 'x00281050');
  const widths = numbers(ds, 'x00281051');
  const explanations = strings(ds, 'x00281055');
  const windows: VoiWindow[] = [];
  for (let i = 0; i < Math.min(centers.length, widths.length); i++) {
    if (widths[i]! > 0) windows.push({ center: centers[i]!, width: widths[i]!, ...(explanations[i] ? { explanation: explanations[i] } : {}) });
  }
  if (windows.length === 0) {
    const padding = ds.elements['x00280120'] ? (signed ? ds.int16('x00280120') : ds.uint16('x00280120')) : undefined;
    windows.push(
      samplesPerPixel === 3 ? { center: 128, width: 256, explanation: 'Full range' } : windowFromHistogram(decodeFrame(0), slope, intercept, padding),
    );
  }
  const pixelSpacing = numbers(ds, 'x00280030');
  const imagerSpacing = numbers(ds, 'x00181164');
  const spacing =
    pixelSpacing.length === 2
      ? { row: pixelSpacing[0]!, column: pixelSpacing[1]!, source: 'PixelSpacing' as const }
      : imagerSpacing.length === 2
        ? { row: imagerSpacing[0]!, column: imagerSpacing[1]!, source: 'ImagerPixelSpacing' as const }
        : undefined;
  const opt = (tag: string): string | undefined => ds.string(tag)?.trim() || undefined;
  const patientName = opt('x00100010');
  const patientId = opt('x00100020');

  return {
    info: {
      format: 'dicom',
      width: columns,
      height: rows,
      frames,
      samplesPerPixel,
      bitsStored,
      pixelDataType,
      photometric,
      modality: opt('x00080060'),
      rescaleSlope: slope,
      rescaleIntercept: intercept,
      windows,
      spacing,
      sopInstanceUid: opt('x00080018'),
      studyInstanceUid: opt('x0020000d'),
      seriesInstanceUid: opt('x0020000e'),
      patient: patientName || patientId ? { name: patientName, id: patientId } : undefined,
      studyDate: opt('x00080020'),
      studyDescription: opt('x00081030'),
    },
    frame: decodeFrame,
  };
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

function interleave(planes: Uint8Array, pixels: number): Uint8Array {
  const out = new Uint8Array(planes.length);
  for (let i = 0; i < pixels; i++) {
    out[3 * i] = planes[i]!;
    out[3 * i + 1] = planes[pixels + i]!;
    out[3 * i + 2] = planes[2 * pixels + i]!;
  }
  return out;
}
