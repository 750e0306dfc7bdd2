// Runs in main (and the CLI/server). The DICOM data set as a tree for the tag browser: every
// element but the pixel data, sequences as nested items, values as short display strings.
// Patient attributes are included because the reader sees them in the viewer anyway; the tree is
// only ever returned to the renderer, never logged.
import type dicomParser from 'dicom-parser';
import type { TagNode } from '../../preload/api';
import { parseDataSet } from './dicom';

/** Names of the attributes readers look for most; others show their tag and VR only. */
const NAMES: Record<string, string> = {
  x00020010: 'Transfer Syntax UID', x00080005: 'Specific Character Set', x00080008: 'Image Type', x00080016: 'SOP Class UID',
  x00080018: 'SOP Instance UID', x00080020: 'Study Date', x00080021: 'Series Date', x00080023: 'Content Date', x00080030: 'Study Time',
  x00080050: 'Accession Number', x00080060: 'Modality', x00080070: 'Manufacturer', x00080080: 'Institution Name',
  x00080090: "Referring Physician's Name", x00081030: 'Study Description', x0008103e: 'Series Description',
  x00081090: "Manufacturer's Model Name", x00100010: "Patient's Name", x00100020: 'Patient ID', x00100030: "Patient's Birth Date",
  x00100040: "Patient's Sex", x00101010: "Patient's Age", x00180015: 'Body Part Examined', x00180050: 'Slice Thickness',
  x00180060: 'KVP', x00181110: 'Distance Source to Detector', x00181111: 'Distance Source to Patient',
  x00181114: 'Estimated Radiographic Magnification Factor', x00181150: 'Exposure Time', x00181152: 'Exposure',
  x00181164: 'Imager Pixel Spacing', x00185101: 'View Position', x0020000d: 'Study Instance UID', x0020000e: 'Series Instance UID',
  x00200010: 'Study ID', x00200011: 'Series Number', x00200013: 'Instance Number', x00200020: 'Patient Orientation',
  x00200032: 'Image Position (Patient)', x00200037: 'Image Orientation (Patient)', x00280002: 'Samples per Pixel',
  x00280004: 'Photometric Interpretation', x00280008: 'Number of Frames', x00280010: 'Rows', x00280011: 'Columns',
  x00280030: 'Pixel Spacing', x00280100: 'Bits Allocated', x00280101: 'Bits Stored', x00280102: 'High Bit',
  x00280103: 'Pixel Representation', x00280a02: 'Pixel Spacing Calibration Type', x00281050: 'Window Center',
  x00281051: 'Window Width', x00281052: 'Rescale Intercept', x00281053: 'Rescale Slope', x00281054: 'Rescale Type',
  x00281055: 'Window Center & Width Explanation', x00281056: 'VOI LUT Function', x00283000: 'Modality LUT Sequence',
  x00283010: 'VOI LUT Sequence', x20500020: 'Presentation LUT Shape', x00400275: 'Request Attributes Sequence',
  x00082218: 'Anatomic Region Sequence', x00080100: 'Code Value', x00080102: 'Coding Scheme Designator', x00080104: 'Code Meaning',
};

const PIXEL_DATA = 'x7fe00010';
const MAX_NODES = 5000;
const MAX_DEPTH = 8;
const MAX_VALUE = 200;
const BINARY_VRS = new Set(['OB', 'OW', 'OF', 'OD', 'OL', 'OV', 'UN']);
const NUMERIC: Record<string, [number, (ds: dicomParser.DataSet, tag: string, i: number) => number | undefined]> = {
  US: [2, (ds, t, i) => ds.uint16(t, i)],
  SS: [2, (ds, t, i) => ds.int16(t, i)],
  UL: [4, (ds, t, i) => ds.uint32(t, i)],
  SL: [4, (ds, t, i) => ds.int32(t, i)],
  FL: [4, (ds, t, i) => ds.float(t, i)],
  FD: [8, (ds, t, i) => ds.double(t, i)],
};

const clip = (s: string) => (s.length > MAX_VALUE ? `${s.slice(0, MAX_VALUE)}…` : s);
const printable = (s: string) => /^[\x20-\x7e\u00a0-\uffff\r\n\t\\]*$/.test(s);

function valueOf(ds: dicomParser.DataSet, el: dicomParser.Element): string {
  const vr = el.vr ?? '';
  if (el.length === 0) return '';
  const numeric = NUMERIC[vr];
  if (numeric) {
    const count = Math.min(Math.floor(el.length / numeric[0]), 16);
    const values = Array.from({ length: count }, (_, i) => numeric[1](ds, el.tag, i));
    return clip(values.join('\\') + (el.length / numeric[0] > count ? '\\…' : ''));
  }
  if (BINARY_VRS.has(vr) || el.length > 4096) return `(${el.length} bytes)`;
  const s = ds.string(el.tag) ?? '';
  // Implicit VR files carry no VR: show text when it reads as text, a byte count otherwise.
  return printable(s) ? clip(s.trim()) : `(${el.length} bytes)`;
}

function walk(ds: dicomParser.DataSet, depth: number, budget: { left: number }): TagNode[] {
  const out: TagNode[] = [];
  for (const tag of Object.keys(ds.elements).sort()) {
    if (tag === PIXEL_DATA) continue;
    if (budget.left-- <= 0) break;
    const el = ds.elements[tag] as dicomParser.Element;
    const pretty = `(${tag.slice(1, 5)},${tag.slice(5, 9)})`.toUpperCase();
    const name = NAMES[tag] ?? (parseInt(tag.slice(1, 5), 16) % 2 === 1 ? 'Private' : '');
    if (el.items) {
      const items = depth < MAX_DEPTH ? el.items.map((item) => (item.dataSet ? walk(item.dataSet, depth + 1, budget) : [])) : [];
      out.push({ tag: pretty, name, vr: 'SQ', value: `${el.items.length} item${el.items.length === 1 ? '' : 's'}`, items });
    } else {
      out.push({ tag: pretty, name, vr: el.vr ?? '', value: valueOf(ds, el) });
    }
  }
  return out;
}

/** The data set of a DICOM file's bytes as a tree, without the pixel data. */
export function tagTree(bytes: Uint8Array): TagNode[] {
  return walk(parseDataSet(bytes), 0, { left: MAX_NODES });
}
