// Runs in main, the server and the CLI. Opens a folder (recursively) or a DICOMDIR and groups its
// images patient → study → series → instance, instances ordered by Instance Number, then by
// position along the slice normal, then by file name. Reads headers only (never pixel data), one
// file at a time with async I/O, so the caller's loop stays responsive.
import dicomParser from 'dicom-parser';
import { open, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { ResightError } from '../../preload/api';
import { sniffFormat } from './load';

export interface InstanceEntry {
  path: string;
  sopInstanceUid?: string;
  instanceNumber?: number;
  /** Position along the slice normal (mm), when position and orientation are given. */
  slicePosition?: number;
  frames: number;
}

export interface SeriesEntry {
  seriesInstanceUid: string;
  seriesNumber?: number;
  modality?: string;
  description?: string;
  instances: InstanceEntry[];
}

export interface StudyEntry {
  studyInstanceUid: string;
  studyDate?: string;
  description?: string;
  series: SeriesEntry[];
}

/** Patient attributes are for display only; never logged. */
export interface PatientEntry {
  patientId?: string;
  patientName?: string;
  studies: StudyEntry[];
}

export interface FolderScan {
  patients: PatientEntry[];
  /** PNG and JPEG files found (not DICOM, so not grouped). */
  rasters: string[];
  /** Files that were neither readable DICOM nor PNG/JPEG. */
  skipped: number;
}

interface Found {
  file: string;
  patientId?: string;
  patientName?: string;
  studyInstanceUid?: string;
  studyDate?: string;
  studyDescription?: string;
  seriesInstanceUid?: string;
  seriesNumber?: number;
  modality?: string;
  seriesDescription?: string;
  instance: InstanceEntry;
}

/** Enough of a file for its header in nearly every radiograph; longer headers read the whole file. */
const HEAD_BYTES = 256 * 1024;
const MAX_FILES = 100_000;

const str = (ds: dicomParser.DataSet, tag: string): string | undefined => ds.string(tag)?.trim() || undefined;
const num = (ds: dicomParser.DataSet, tag: string): number | undefined => {
  const v = Number.parseFloat(ds.string(tag) ?? '');
  return Number.isFinite(v) ? v : undefined;
};
const nums = (ds: dicomParser.DataSet, tag: string): number[] =>
  (ds.string(tag) ?? '')
    .split('\\')
    .map(Number.parseFloat)
    .filter(Number.isFinite);

function slicePosition(ds: dicomParser.DataSet): number | undefined {
  const p = nums(ds, 'x00200032');
  const o = nums(ds, 'x00200037');
  if (p.length !== 3 || o.length !== 6) return undefined;
  // The slice normal is row × column direction.
  const n = [o[1]! * o[5]! - o[2]! * o[4]!, o[2]! * o[3]! - o[0]! * o[5]!, o[0]! * o[4]! - o[1]! * o[3]!];
  return p[0]! * n[0]! + p[1]! * n[1]! + p[2]! * n[2]!;
}

async function readHead(file: string, bytes: number): Promise<Uint8Array> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const { bytesRead } = await fh.read(buf, 0, bytes, 0);
    return new Uint8Array(buf.buffer, buf.byteOffset, bytesRead);
  } finally {
    await fh.close();
  }
}

function parseHeader(bytes: Uint8Array): dicomParser.DataSet {
  return dicomParser.parseDicom(bytes, { untilTag: 'x7fe00010' } as dicomParser.ParseDicomOptions);
}

/**
 * Rows and columns of a DICOM file from its header alone, or undefined when the header is not
 * readable that way (the caller then decodes as usual and learns them there).
 */
export async function peekDicomSize(file: string): Promise<{ rows: number; columns: number; transferSyntax?: string } | undefined> {
  try {
    const head = await readHead(file, HEAD_BYTES);
    if (sniffFormat(head) !== 'dicom') return undefined;
    const ds = parseHeader(head);
    const rows = ds.uint16('x00280010');
    const columns = ds.uint16('x00280011');
    const transferSyntax = ds.string('x00020010')?.replace(/\0/g, '').trim();
    return rows && columns ? { rows, columns, ...(transferSyntax ? { transferSyntax } : {}) } : undefined;
  } catch {
    return undefined;
  }
}

async function readInstance(file: string, size: number): Promise<Found | 'raster' | undefined> {
  let head = await readHead(file, Math.min(size, HEAD_BYTES));
  const format = sniffFormat(head);
  if (format === 'png' || format === 'jpeg') return 'raster';
  if (format !== 'dicom') return undefined;
  let ds: dicomParser.DataSet;
  try {
    ds = parseHeader(head);
  } catch {
    if (size <= HEAD_BYTES) return undefined;
    try {
      head = await readHead(file, size);
      ds = parseHeader(head);
    } catch {
      return undefined;
    }
  }
  if (str(ds, 'x00041430') !== undefined || str(ds, 'x00020002') === '1.2.840.10008.1.3.10') return undefined; // a DICOMDIR
  return {
    file,
    patientId: str(ds, 'x00100020'),
    patientName: str(ds, 'x00100010'),
    studyInstanceUid: str(ds, 'x0020000d'),
    studyDate: str(ds, 'x00080020'),
    studyDescription: str(ds, 'x00081030'),
    seriesInstanceUid: str(ds, 'x0020000e'),
    seriesNumber: num(ds, 'x00200011'),
    modality: str(ds, 'x00080060'),
    seriesDescription: str(ds, 'x0008103e'),
    instance: {
      path: file,
      sopInstanceUid: str(ds, 'x00080018'),
      instanceNumber: num(ds, 'x00200013'),
      slicePosition: slicePosition(ds),
      frames: Math.max(1, Math.trunc(num(ds, 'x00280008') ?? 1)),
    },
  };
}

async function walk(dir: string, out: string[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    if (out.length >= MAX_FILES) return;
    const full = path.join(dir, e.name);
    // Symbolic links are not followed, so a link back up the tree cannot loop.
    if (e.isDirectory()) await walk(full, out);
    else if (e.isFile()) out.push(full);
  }
}

const byNumberThenText = <T>(num: (t: T) => number | undefined, text: (t: T) => string) => (a: T, b: T): number => {
  const na = num(a);
  const nb = num(b);
  if (na !== undefined && nb !== undefined && na !== nb) return na - nb;
  if ((na === undefined) !== (nb === undefined)) return na === undefined ? 1 : -1;
  return text(a) < text(b) ? -1 : text(a) > text(b) ? 1 : 0;
};

function orderInstances(list: InstanceEntry[]): InstanceEntry[] {
  return list.sort((a, b) => {
    if (a.instanceNumber !== undefined && b.instanceNumber !== undefined && a.instanceNumber !== b.instanceNumber) return a.instanceNumber - b.instanceNumber;
    if (a.slicePosition !== undefined && b.slicePosition !== undefined && a.slicePosition !== b.slicePosition) return a.slicePosition - b.slicePosition;
    return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
  });
}

/** Groups found instances; files lacking UIDs still get a group of their own. */
function group(found: Found[]): PatientEntry[] {
  const patients = new Map<string, PatientEntry & { byStudy: Map<string, StudyEntry & { bySeries: Map<string, SeriesEntry> }> }>();
  for (const f of found) {
    const pKey = `${f.patientId ?? ''}\u0000${f.patientName ?? ''}`;
    let p = patients.get(pKey);
    if (!p) {
      p = { patientId: f.patientId, patientName: f.patientName, studies: [], byStudy: new Map() };
      patients.set(pKey, p);
    }
    const studyUid = f.studyInstanceUid ?? `unknown-study:${f.file}`;
    let s = p.byStudy.get(studyUid);
    if (!s) {
      s = { studyInstanceUid: studyUid, studyDate: f.studyDate, description: f.studyDescription, series: [], bySeries: new Map() };
      p.byStudy.set(studyUid, s);
    }
    const seriesUid = f.seriesInstanceUid ?? `unknown-series:${f.file}`;
    let se = s.bySeries.get(seriesUid);
    if (!se) {
      se = { seriesInstanceUid: seriesUid, seriesNumber: f.seriesNumber, modality: f.modality, description: f.seriesDescription, instances: [] };
      s.bySeries.set(seriesUid, se);
    }
    se.instances.push(f.instance);
  }
  return [...patients.values()]
    .map(({ byStudy, ...p }) => ({
      ...p,
      studies: [...byStudy.values()]
        .map(({ bySeries, ...s }) => ({
          ...s,
          series: [...bySeries.values()]
            .map((se) => ({ ...se, instances: orderInstances(se.instances) }))
            .sort(byNumberThenText((x) => x.seriesNumber, (x) => x.seriesInstanceUid)),
        }))
        .sort(byNumberThenText(() => undefined, (x) => `${x.studyDate ?? ''}${x.studyInstanceUid}`)),
    }))
    .sort(byNumberThenText(() => undefined, (x) => `${x.patientName ?? ''}\u0000${x.patientId ?? ''}`));
}

/** Scans a folder recursively; a DICOMDIR at its top is used instead of the walk. */
export async function scanFolder(dir: string): Promise<FolderScan> {
  const s = await stat(dir).catch(() => undefined);
  if (!s?.isDirectory()) throw new ResightError('FILE_NOT_FOUND', 'The folder could not be found. Check that it still exists and try again.');
  const dicomdir = path.join(dir, 'DICOMDIR');
  if (await stat(dicomdir).then((d) => d.isFile(), () => false)) return readDicomdir(dicomdir);
  const files: string[] = [];
  await walk(dir, files);
  const found: Found[] = [];
  const rasters: string[] = [];
  let skipped = 0;
  for (const file of files) {
    const size = (await stat(file)).size;
    const r = await readInstance(file, size).catch(() => undefined);
    if (r === 'raster') rasters.push(file);
    else if (r) found.push(r);
    else skipped++;
  }
  return { patients: group(found), rasters, skipped };
}

/**
 * A DICOMDIR (PS3.10 / PS3.3 F.3): directory records linked by byte offsets, PATIENT → STUDY →
 * SERIES → IMAGE; each IMAGE names its file by a Referenced File ID relative to the DICOMDIR.
 * Grouping comes from the records; ordering from each file's header.
 */
export async function readDicomdir(file: string): Promise<FolderScan> {
  let ds: dicomParser.DataSet;
  try {
    const size = (await stat(file)).size;
    ds = dicomParser.parseDicom(await readHead(file, size));
  } catch {
    throw new ResightError('INVALID_DICOM', 'The DICOMDIR on this media could not be read; it may be damaged. Open the folder of images instead.');
  }
  const items = ds.elements['x00041220']?.items ?? [];
  // Offsets in the records count from the start of the file to each item's tag.
  const byOffset = new Map<number, dicomParser.DataSet>();
  for (const item of items) if (item.dataSet) byOffset.set(item.dataOffset - 8, item.dataSet);
  const root = path.dirname(file);
  const found: Found[] = [];
  let skipped = 0;
  const visited = new Set<number>();
  const chain = (offset: number | undefined): dicomParser.DataSet[] => {
    const out: dicomParser.DataSet[] = [];
    while (offset && byOffset.has(offset) && !visited.has(offset)) {
      visited.add(offset);
      const rec = byOffset.get(offset)!;
      out.push(rec);
      offset = rec.uint32('x00041400');
    }
    return out;
  };
  const type = (rec: dicomParser.DataSet): string => str(rec, 'x00041430') ?? '';
  for (const patient of chain(ds.uint32('x00041200'))) {
    if (type(patient) !== 'PATIENT') continue;
    for (const study of chain(patient.uint32('x00041420'))) {
      if (type(study) !== 'STUDY') continue;
      for (const series of chain(study.uint32('x00041420'))) {
        if (type(series) !== 'SERIES') continue;
        for (const image of chain(series.uint32('x00041420'))) {
          const id = str(image, 'x00041500');
          if (!id) continue;
          const parts = id.split('\\').filter((p) => p && p !== '..' && p !== '.');
          const target = path.join(root, ...parts);
          const size = await stat(target).then((t) => (t.isFile() ? t.size : undefined), () => undefined);
          // The file's own header orders the instances: writers may invent record Instance Numbers.
          const own = size === undefined ? undefined : await readInstance(target, size).catch(() => undefined);
          if (!own || own === 'raster') {
            skipped++;
            continue;
          }
          found.push({
            ...own,
            patientId: str(patient, 'x00100020') ?? own.patientId,
            patientName: str(patient, 'x00100010') ?? own.patientName,
            studyInstanceUid: str(study, 'x0020000d') ?? own.studyInstanceUid,
            studyDate: str(study, 'x00080020') ?? own.studyDate,
            studyDescription: str(study, 'x00081030') ?? own.studyDescription,
            seriesInstanceUid: str(series, 'x0020000e') ?? own.seriesInstanceUid,
            seriesNumber: num(series, 'x00200011') ?? own.seriesNumber,
            modality: str(series, 'x00080060') ?? own.modality,
          });
        }
      }
    }
  }
  return { patients: group(found), rasters: [], skipped };
}
