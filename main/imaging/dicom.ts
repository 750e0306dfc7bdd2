// Runs in the decode worker (and tests). Parses a DICOM file with dicom-parser into the attributes
// the pixel pipeline needs and the encoded bytes of each frame. Decoding lives in decode.ts.
import dicomParser from 'dicom-parser';
import { inflateRawSync } from 'node:zlib';
import { ResightError } from '../../preload/api';
import type { DicomHeader, Lut, Spacing } from './types';

export const TS = {
  implicitLittle: '1.2.840.10008.1.2',
  explicitLittle: '1.2.840.10008.1.2.1',
  deflated: '1.2.840.10008.1.2.1.99',
  explicitBig: '1.2.840.10008.1.2.2',
} as const;

/** The pieces a decoder needs from a parsed file. */
export interface ParsedFile {
  header: DicomHeader;
  /** Encoded bytes of one frame: a view into the file for native data, the joined fragments otherwise. */
  encodedFrame(index: number): Uint8Array;
}

const truncated = (): ResightError =>
  new ResightError('TRUNCATED_FILE', 'This DICOM file is cut short (it ends before its data does). Copy it again from the source.');
const invalid = (): ResightError =>
  new ResightError('INVALID_DICOM', 'This file could not be read as DICOM. It may be damaged or not a DICOM image.');

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

const text = (ds: dicomParser.DataSet, tag: string): string | undefined => ds.string(tag)?.trim() || undefined;

/** Files written without the 128-byte preamble, or as a bare data set, are still DICOM. */
function rawDataSetSyntax(bytes: Uint8Array): string | undefined {
  if (bytes.length < 8) return undefined;
  const group = bytes[0]! | (bytes[1]! << 8);
  // A bare data set starts with a low group (0002..0008, or a length-to-end group); anything else is not DICOM.
  if (group < 0x0002 || group > 0x0010) return undefined;
  const vr = String.fromCharCode(bytes[4]!, bytes[5]!);
  return /^[A-Z]{2}$/.test(vr) ? TS.explicitLittle : TS.implicitLittle;
}

export function parseDataSet(bytes: Uint8Array): dicomParser.DataSet {
  let input = bytes;
  const options: dicomParser.ParseDicomOptions & { TransferSyntaxUID?: string; inflater?: unknown } = {
    inflater: (arr: Uint8Array, position: number) => {
      const inflated = inflateRawSync(arr.subarray(position));
      const out = new Uint8Array(position + inflated.length);
      out.set(arr.subarray(0, position), 0);
      out.set(inflated, position);
      return out;
    },
  };
  const hasPreamble = bytes.length >= 132 && bytes[128] === 0x44 && bytes[129] === 0x49 && bytes[130] === 0x43 && bytes[131] === 0x4d;
  if (!hasPreamble) {
    if (bytes.length >= 4 && bytes[0] === 0x44 && bytes[1] === 0x49 && bytes[2] === 0x43 && bytes[3] === 0x4d) {
      input = new Uint8Array(bytes.length + 128);
      input.set(bytes, 128);
    } else {
      const ts = rawDataSetSyntax(bytes);
      if (!ts) throw new ResightError('UNSUPPORTED_FORMAT', 'This file is not a DICOM file, a PNG or a JPEG, so Resight cannot open it.');
      options.TransferSyntaxUID = ts;
    }
  }
  try {
    return dicomParser.parseDicom(input, options as dicomParser.ParseDicomOptions);
  } catch (err) {
    const cause = (err as { exception?: unknown })?.exception ?? err;
    const message = typeof cause === 'string' ? cause : cause instanceof Error ? cause.message : '';
    if (/overread|end of buffer|beyond|overrun|out of range|outside the bounds/i.test(message)) throw truncated();
    throw invalid();
  }
}

function readLut(item: dicomParser.DataSet, signedInput: boolean): Lut | undefined {
  const desc = item.elements['x00283002'];
  const data = item.elements['x00283006'];
  if (!desc || !data || desc.length < 6) return undefined;
  const count = item.uint16('x00283002', 0) || 65536;
  const first = signedInput ? item.int16('x00283002', 1)! : item.uint16('x00283002', 1)!;
  const bits = item.uint16('x00283002', 2)!;
  if (bits < 8 || bits > 16) throw invalid();
  const values = lutValues(item, data, count, bits);
  return { first, bits, data: values, explanation: text(item, 'x00283003') };
}

/** LUT Data: one 16-bit word per entry, or (8-bit tables written as OB) one byte per entry. */
function lutValues(ds: dicomParser.DataSet, el: dicomParser.Element, count: number, bits: number): Uint16Array {
  const out = new Uint16Array(count);
  const bytesAvailable = el.length;
  if (bits === 8 && bytesAvailable >= count && bytesAvailable < 2 * count) {
    for (let i = 0; i < count; i++) out[i] = ds.byteArray[el.dataOffset + i]!;
    return out;
  }
  if (bytesAvailable < 2 * count) throw invalid();
  const mask = bits === 16 ? 0xffff : (1 << bits) - 1;
  for (let i = 0; i < count; i++) out[i] = ds.uint16(el.tag, i)! & mask;
  return out;
}

function paletteLut(ds: dicomParser.DataSet, colour: 'x00281101' | 'x00281102' | 'x00281103', dataTag: string): Lut {
  const desc = ds.elements[colour];
  const data = ds.elements[dataTag];
  if (!desc || !data) {
    throw new ResightError('INVALID_DICOM', 'This PALETTE COLOR image has no colour lookup table, so its colours cannot be shown.');
  }
  const count = ds.uint16(colour, 0) || 65536;
  const first = ds.uint16(colour, 1) ?? 0;
  const bits = ds.uint16(colour, 2) ?? 16;
  if (bits !== 8 && bits !== 16) throw invalid();
  return { first, bits, data: lutValues(ds, data, count, bits) };
}

function spacingOf(ds: dicomParser.DataSet): Spacing | undefined {
  const pixel = numbers(ds, 'x00280030');
  const imager = numbers(ds, 'x00181164');
  const magnification = numbers(ds, 'x00181114')[0];
  const calibrationType = text(ds, 'x00280a02');
  if (pixel.length === 2 && pixel[0]! > 0 && pixel[1]! > 0) {
    return { row: pixel[0]!, column: pixel[1]!, source: 'PixelSpacing', ...(calibrationType ? { calibrationType } : {}) };
  }
  if (imager.length === 2 && imager[0]! > 0 && imager[1]! > 0) {
    // Imager spacing is at the detector; dividing by the magnification gives spacing at the patient.
    const m = magnification && magnification > 0 ? magnification : undefined;
    return {
      row: m ? imager[0]! / m : imager[0]!,
      column: m ? imager[1]! / m : imager[1]!,
      source: 'ImagerPixelSpacing',
      ...(m ? { magnificationFactor: m } : {}),
    };
  }
  return undefined;
}

/**
 * A functional group of an enhanced multi-frame file (PS3.3 C.7.6.16): from the shared groups, else
 * from the first frame's own groups. Display and measurement use one value per image, so a value
 * that varies from frame to frame is taken from the first frame.
 */
function functionalGroup(ds: dicomParser.DataSet, sequence: string): dicomParser.DataSet | undefined {
  const inItem = (groups: string): dicomParser.DataSet | undefined => ds.elements[groups]?.items?.[0]?.dataSet?.elements[sequence]?.items?.[0]?.dataSet;
  return inItem('x52009229') ?? inItem('x52009230');
}

export function parseDicomFile(bytes: Uint8Array): ParsedFile {
  const ds = parseDataSet(bytes);
  const transferSyntax = text(ds, 'x00020010') ?? TS.implicitLittle;
  const pixel = ds.elements['x7fe00010'] ?? ds.elements['x7fe00008'] ?? ds.elements['x7fe00009'];
  if (!pixel) {
    throw new ResightError('NO_PIXEL_DATA', 'This DICOM object has no image (no Pixel Data); it may be a report, a structured document or a DICOMDIR.');
  }
  if (pixel.tag !== 'x7fe00010') throw new ResightError('UNSUPPORTED_FORMAT', 'This DICOM image stores floating-point pixels, which Resight does not display yet.');
  const rows = ds.uint16('x00280010') ?? 0;
  const columns = ds.uint16('x00280011') ?? 0;
  const bitsAllocated = ds.uint16('x00280100') ?? 0;
  const bitsStored = ds.uint16('x00280101') ?? bitsAllocated;
  const pixelRepresentation = ds.uint16('x00280103') ?? 0;
  const samplesPerPixel = ds.uint16('x00280002') ?? 1;
  const photometric = (text(ds, 'x00280004') ?? (samplesPerPixel === 3 ? 'RGB' : 'MONOCHROME2')).toUpperCase();
  const planarConfiguration = ds.uint16('x00280006') ?? 0;
  const framesText = text(ds, 'x00280008');
  const frames = framesText === undefined ? 1 : Number.parseInt(framesText, 10);
  if (
    !rows ||
    !columns ||
    !Number.isInteger(frames) ||
    frames < 1 ||
    ![1, 8, 16, 32].includes(bitsAllocated) ||
    bitsStored < 1 ||
    bitsStored > bitsAllocated ||
    ![1, 3].includes(samplesPerPixel) ||
    pixelRepresentation > 1
  ) {
    throw new ResightError('INVALID_DICOM', 'This DICOM image describes its pixels inconsistently (rows, columns, frames or bit depth), so it cannot be shown.');
  }
  const signed = pixelRepresentation === 1;

  const pvt = functionalGroup(ds, 'x00289145');
  const voiGroup = functionalGroup(ds, 'x00289132');
  const measures = functionalGroup(ds, 'x00289110');
  const spacingSource = ds.elements['x00280030'] || !measures?.elements['x00280030'] ? ds : measures;
  const from = (tag: string): dicomParser.DataSet => (ds.elements[tag] ? ds : tag.startsWith('x002810') && pvt?.elements[tag] ? pvt : voiGroup?.elements[tag] ? voiGroup : ds);

  const modalitySeq = ds.elements['x00283000']?.items?.[0]?.dataSet;
  const modalityLut = modalitySeq ? readLut(modalitySeq, signed) : undefined;
  const rescaleSlope = numbers(from('x00281053'), 'x00281053')[0] ?? 1;
  const rescaleIntercept = numbers(from('x00281052'), 'x00281052')[0] ?? 0;
  // The VOI LUT's first mapped value is signed when modality values can be negative.
  const voiInputSigned = modalityLut === undefined && (signed || rescaleIntercept < 0);
  const voiLuts = (ds.elements['x00283010']?.items ?? []).flatMap((item) => {
    const lut = item.dataSet ? readLut(item.dataSet, voiInputSigned) : undefined;
    return lut ? [lut] : [];
  });
  const centers = numbers(from('x00281050'), 'x00281050');
  const widths = numbers(from('x00281051'), 'x00281051');
  const explanations = strings(from('x00281055'), 'x00281055');
  const voiFunction = (text(from('x00281056'), 'x00281056') ?? 'LINEAR').toUpperCase();
  // LINEAR and SIGMOID need a width of at least 1, LINEAR_EXACT above 0 (PS3.3 C.11.2.1.2-3); other pairs are skipped.
  const minWidth = voiFunction === 'LINEAR_EXACT' ? Number.MIN_VALUE : 1;
  const windows = [];
  for (let i = 0; i < Math.min(centers.length, widths.length); i++) {
    if (widths[i]! >= minWidth) windows.push({ center: centers[i]!, width: widths[i]!, ...(explanations[i] ? { explanation: explanations[i] } : {}) });
  }
  const paddingEl = ds.elements['x00280120'];
  const readPadding = (tag: string): number | undefined =>
    ds.elements[tag] && ds.elements[tag]!.length >= 2 ? (signed ? ds.int16(tag) : ds.uint16(tag)) : undefined;
  const shape = text(ds, 'x20500020')?.toUpperCase();

  const header: DicomHeader = {
    transferSyntax,
    rows,
    columns,
    frames,
    samplesPerPixel,
    bitsAllocated,
    bitsStored,
    highBit: ds.uint16('x00280102') ?? bitsStored - 1,
    pixelRepresentation,
    photometric,
    planarConfiguration,
    modality: text(ds, 'x00080060'),
    rescaleSlope,
    rescaleIntercept,
    modalityLut,
    windows,
    voiLutFunction: voiFunction === 'SIGMOID' || voiFunction === 'LINEAR_EXACT' ? voiFunction : 'LINEAR',
    voiLuts,
    presentationLutShape: shape === 'INVERSE' || shape === 'IDENTITY' ? shape : undefined,
    paddingValue: paddingEl ? readPadding('x00280120') : undefined,
    paddingLimit: readPadding('x00280121'),
    palette:
      photometric === 'PALETTE COLOR'
        ? {
            red: paletteLut(ds, 'x00281101', 'x00281201'),
            green: paletteLut(ds, 'x00281102', 'x00281202'),
            blue: paletteLut(ds, 'x00281103', 'x00281203'),
          }
        : undefined,
    spacing: spacingOf(spacingSource) ?? spacingOf(ds),
    pixelSpacing: numbers(spacingSource, 'x00280030'),
    imagerPixelSpacing: numbers(ds, 'x00181164'),
    sopInstanceUid: text(ds, 'x00080018'),
    studyInstanceUid: text(ds, 'x0020000d'),
    seriesInstanceUid: text(ds, 'x0020000e'),
    instanceNumber: numbers(ds, 'x00200013')[0],
    imagePosition: numbers(ds, 'x00200032'),
    imageOrientation: numbers(ds, 'x00200037'),
    patientName: text(ds, 'x00100010'),
    patientId: text(ds, 'x00100020'),
    studyDate: text(ds, 'x00080020'),
    studyDescription: text(ds, 'x00081030'),
    seriesNumber: numbers(ds, 'x00200011')[0],
    seriesDescription: text(ds, 'x0008103e'),
  };

  const source: Uint8Array = ds.byteArray;
  if (!pixel.encapsulatedPixelData) {
    // A value length past the end of the file means the copy is incomplete.
    if (pixel.dataOffset + pixel.length > source.length) throw truncated();
    return {
      header,
      encodedFrame: (index) => {
        const size = nativeFrameBytes(header);
        const start = pixel.dataOffset + index * size;
        const end = Math.min(start + size, pixel.dataOffset + pixel.length);
        return source.subarray(Math.min(start, end), end);
      },
    };
  }

  const fragments = pixel.fragments ?? [];
  const bot = pixel.basicOffsetTable ?? [];
  const lastFragment = fragments[fragments.length - 1];
  if (lastFragment && lastFragment.position + lastFragment.length > source.length) throw truncated();
  const starts = frameStartFragments(source, fragments, frames, transferSyntax);
  return {
    header,
    encodedFrame: (index) => {
      if (fragments.length === 0) return new Uint8Array(0);
      try {
        if (bot.length === frames && frames > 1) return dicomParser.readEncapsulatedImageFrame(ds, pixel, index);
        if (frames === 1) return dicomParser.readEncapsulatedPixelDataFromFragments(ds, pixel, 0, fragments.length);
        const first = starts?.[index];
        if (first === undefined) return new Uint8Array(0);
        const next = starts![index + 1] ?? fragments.length;
        return dicomParser.readEncapsulatedPixelDataFromFragments(ds, pixel, first, next - first);
      } catch {
        throw invalid();
      }
    },
  };
}

/** Bytes one native frame occupies in the file. */
export function nativeFrameBytes(h: DicomHeader): number {
  const pixels = h.rows * h.columns;
  if (h.bitsAllocated === 1) return Math.ceil(pixels / 8);
  // YBR_FULL_422 stores two luma and one pair of chroma samples for each two pixels.
  if (h.photometric === 'YBR_FULL_422') return pixels * 2 * (h.bitsAllocated / 8);
  return pixels * h.samplesPerPixel * (h.bitsAllocated / 8);
}

/**
 * Without a Basic Offset Table the frames are found from the fragments: one fragment per frame
 * when the counts agree, otherwise a new frame begins at each fragment that opens a codestream.
 */
function frameStartFragments(source: Uint8Array, fragments: dicomParser.Fragment[], frames: number, ts: string): number[] | undefined {
  if (frames === 1) return [0];
  if (fragments.length === frames) return fragments.map((_, i) => i);
  const starts: number[] = [];
  fragments.forEach((f, i) => {
    const b0 = source[f.position];
    const b1 = source[f.position + 1];
    const jpeg = b0 === 0xff && b1 === 0xd8;
    const j2k = b0 === 0xff && b1 === 0x4f;
    const jp2 = f.length >= 8 && source[f.position + 4] === 0x6a && source[f.position + 5] === 0x50;
    if (jpeg || j2k || jp2 || (i === 0 && ts === '1.2.840.10008.1.2.5')) starts.push(i);
  });
  return starts.length === frames ? starts : undefined;
}
