// Runs in main, the CLI and tests. Shared Part 10 plumbing for the export room: read a file into
// dcmjs's tag-keyed dataset with the pixel data kept aside as the original bytes, write it back,
// make UIDs, and the few element accessors the writers need.
import { createHash, createHmac, randomUUID } from 'node:crypto';
import { data, log, type DicomDataset, type DicomElement } from 'dcmjs';
import dicomParser from 'dicom-parser';
import { ResightError } from '../../preload/api';

// dcmjs logs parse quirks (e.g. an implicit-VR overlay's "ox" VR) to the console; the CLI's
// output is its interface, and the quirks are handled.
log.setLevel('silent');
log.getLogger('validation.dcmjs').setLevel('silent');

export type { DicomDataset, DicomElement };

export const IMPLICIT_VR_LE = '1.2.840.10008.1.2';
export const EXPLICIT_VR_LE = '1.2.840.10008.1.2.1';
const EXPLICIT_VR_BE = '1.2.840.10008.1.2.2';
const DEFLATED = '1.2.840.10008.1.2.1.99';
export const RESIGHT_IMPLEMENTATION_UID = '2.25.196470946384614315377474839116553640683';
export const RESIGHT_IMPLEMENTATION_VERSION = `RESIGHT_${__RESIGHT_VERSION__}`.slice(0, 16);

export interface Part10 {
  meta: DicomDataset;
  dict: DicomDataset;
  transferSyntax: string;
  /**
   * The top-level Pixel Data element exactly as it was in the file (tag, VR, length, value or
   * encapsulated fragments). dcmjs would re-fragment encapsulated data on write, so it never
   * parses or writes this: it is appended byte for byte.
   */
  pixelElement?: Uint8Array;
}

export function isPart10(bytes: Uint8Array): boolean {
  return bytes.length >= 132 && bytes[128] === 0x44 && bytes[129] === 0x49 && bytes[130] === 0x43 && bytes[131] === 0x4d;
}

/** Reads a Part 10 file. Throws INVALID_DICOM (no patient data in the message) for anything else. */
export function readPart10(bytes: Uint8Array): Part10 {
  if (!isPart10(bytes)) throw new ResightError('INVALID_DICOM', 'This file is not a DICOM Part 10 file (no DICM preamble).');
  const damaged = (): ResightError => new ResightError('INVALID_DICOM', 'This DICOM file could not be parsed; it may be damaged or truncated.');
  let syntax: string;
  try {
    syntax = dicomParser.readPart10Header(bytes).string('x00020010') ?? '';
  } catch {
    throw damaged();
  }
  // The byte-exact pixel splice below needs offsets in the file itself, which a deflated data set lacks.
  if (syntax === DEFLATED) throw new ResightError('UNSUPPORTED_TRANSFER_SYNTAX', 'Deflated DICOM files are not supported here; convert them to an uncompressed transfer syntax first.');
  let parsed: dicomParser.DataSet;
  try {
    parsed = dicomParser.parseDicom(bytes);
  } catch {
    throw damaged();
  }
  const pixel = parsed.elements['x7fe00010'];
  let datasetEnd = bytes.length;
  let pixelElement: Uint8Array | undefined;
  if (pixel) {
    const header = syntax === IMPLICIT_VR_LE ? 8 : 12;
    const start = pixel.dataOffset - header;
    const tagBytes = syntax === EXPLICIT_VR_BE ? [0x7f, 0xe0, 0x00, 0x10] : [0xe0, 0x7f, 0x10, 0x00];
    if (start < 132 || tagBytes.some((b, i) => bytes[start + i] !== b) || pixel.dataOffset + pixel.length > bytes.length)
      throw new ResightError('INVALID_DICOM', 'The pixel data of this DICOM file could not be located.');
    datasetEnd = start;
    pixelElement = bytes.slice(start, pixel.dataOffset + pixel.length);
  }
  try {
    const head = bytes.slice(0, datasetEnd);
    const dicom = data.DicomMessage.readFile(head.buffer);
    return { meta: dicom.meta, dict: dicom.dict, transferSyntax: syntax, pixelElement };
  } catch {
    throw damaged();
  }
}

/** Writes a Part 10 file in the meta's transfer syntax, with the kept pixel element appended. */
export function writePart10(part: Pick<Part10, 'meta' | 'dict' | 'pixelElement'>): Uint8Array {
  const dicom = new data.DicomDict(part.meta);
  dicom.dict = part.dict;
  const head = new Uint8Array(dicom.write({ allowInvalidVRLength: false }));
  if (!part.pixelElement) return head;
  const out = new Uint8Array(head.length + part.pixelElement.length);
  out.set(head, 0);
  out.set(part.pixelElement, head.length);
  return out;
}

/** File meta for a new instance written by Resight (explicit VR little endian unless told). */
export function newMeta(sopClassUid: string, sopInstanceUid: string, transferSyntax = EXPLICIT_VR_LE): DicomDataset {
  return {
    '00020001': { vr: 'OB', Value: [new Uint8Array([0, 1]).buffer] },
    '00020002': { vr: 'UI', Value: [sopClassUid] },
    '00020003': { vr: 'UI', Value: [sopInstanceUid] },
    '00020010': { vr: 'UI', Value: [transferSyntax] },
    '00020012': { vr: 'UI', Value: [RESIGHT_IMPLEMENTATION_UID] },
    '00020013': { vr: 'SH', Value: [RESIGHT_IMPLEMENTATION_VERSION] },
  };
}

const bigDecimal = (bytes: Uint8Array): string => BigInt(`0x${Buffer.from(bytes).toString('hex')}`).toString(10);

/** A fresh UID in the 2.25 (UUID-derived) root. */
export function newUid(): string {
  return `2.25.${BigInt(`0x${randomUUID().replace(/-/g, '')}`).toString(10)}`;
}

/** The UID a keyed session maps `uid` to: 2.25.<first 16 bytes of HMAC-SHA256(secret, uid)>. */
export function keyedUid(secret: Uint8Array, uid: string): string {
  return `2.25.${bigDecimal(createHmac('sha256', secret).update(`uid\0${uid}`).digest().subarray(0, 16))}`;
}

/** A UID derived from content, for writers that must give the same output for the same input. */
export function hashedUid(...parts: string[]): string {
  return `2.25.${bigDecimal(createHash('sha256').update(parts.join('\0')).digest().subarray(0, 16))}`;
}

export function element(vr: string, ...values: unknown[]): DicomElement {
  return { vr, Value: values };
}

/** The first value of a string-like element, PN flattened to its alphabetic form. */
export function firstString(ds: DicomDataset, tag: string): string | undefined {
  const v = ds[tag]?.Value?.[0];
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  if (v && typeof v === 'object' && 'Alphabetic' in v) return String((v as { Alphabetic?: string }).Alphabetic ?? '');
  return undefined;
}

export function items(ds: DicomDataset, tag: string): DicomDataset[] {
  const el = ds[tag];
  return el?.vr === 'SQ' ? ((el.Value ?? []) as DicomDataset[]) : [];
}

/** DICOM DA and TM for a moment, in UTC (the writers state no timezone). */
export function daTm(at: Date): { date: string; time: string; dateTime: string } {
  const iso = at.toISOString();
  const date = iso.slice(0, 10).replace(/-/g, '');
  const time = iso.slice(11, 19).replace(/:/g, '');
  return { date, time, dateTime: `${date}${time}` };
}

/** Patient and General Study module attributes copied from a source image into a derived instance. */
const PATIENT_STUDY: ReadonlyArray<[tag: string, vr: string, type2: boolean]> = [
  ['00100010', 'PN', true],
  ['00100020', 'LO', true],
  ['00100030', 'DA', true],
  ['00100040', 'CS', true],
  ['0020000D', 'UI', false],
  ['00080020', 'DA', true],
  ['00080030', 'TM', true],
  ['00080090', 'PN', true],
  ['00200010', 'SH', true],
  ['00080050', 'SH', true],
  ['00081030', 'LO', false],
];

/** A new dataset holding the source's patient and study (Type 2 attributes present even when empty). */
export function derivedDataset(source: DicomDataset): DicomDataset {
  const ds: DicomDataset = { '00080005': element('CS', 'ISO_IR 192') };
  for (const [tag, vr, type2] of PATIENT_STUDY) {
    const el = source[tag];
    if (el) ds[tag] = { vr: el.vr, Value: structuredClone(el.Value ?? []) };
    else if (type2) ds[tag] = { vr, Value: [] };
  }
  if (!firstString(ds, '0020000D')) throw new ResightError('INVALID_DICOM', 'The source image has no Study Instance UID.');
  return ds;
}
