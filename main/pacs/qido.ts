// Runs in main, the CLI and tests. QIDO-RS: the filters Resight searches by (validated before they
// reach a URL), the DICOM JSON model the server answers in (validated with zod), and the study,
// series and instance summaries made from it.
import { z } from 'zod';
import { ResightError } from '../../preload/api';

export const Uid = z.string().regex(/^[0-9]+(\.[0-9]+)*$/, 'a DICOM UID is digits and dots').max(64);
/** DICOM date range: `YYYYMMDD`, `YYYYMMDD-YYYYMMDD`, or open at either end. */
export const DateRange = z
  .string()
  .regex(/^(\d{8})?-?(\d{8})?$/, 'give dates as YYYYMMDD or YYYYMMDD-YYYYMMDD')
  .refine((s) => /\d/.test(s) && (s.includes('-') || s.length === 8), 'give dates as YYYYMMDD or YYYYMMDD-YYYYMMDD')
  .refine((s) => {
    const [from, to] = s.split('-');
    return !from || !to || from <= to;
  }, 'the first date comes after the second');
/** The StudyDate range for an optional first and last day (YYYYMMDD each). */
export function studyDateRange(from?: string, to?: string): string | undefined {
  return from === undefined && to === undefined ? undefined : `${from ?? ''}-${to ?? ''}`;
}
/** Matching keys allow DICOM wildcards (* and ?) but no backslash (a value separator). */
const MatchText = z.string().min(1).max(64).regex(/^[^\\\u0000-\u001f]*$/, 'no backslashes or control characters');

export const StudyFilters = z
  .object({
    patientName: MatchText.optional(),
    patientId: MatchText.optional(),
    studyDate: DateRange.optional(),
    modality: z.string().regex(/^[A-Z0-9_]{1,16}$/, 'a modality is a code such as CR, DX or CT').optional(),
    accession: MatchText.optional(),
    studyUid: Uid.optional(),
  })
  .strict();
export type StudyFilters = z.infer<typeof StudyFilters>;

export const Paging = z
  .object({
    limit: z.number().int().min(1).max(100_000).optional(),
    offset: z.number().int().min(0).optional(),
  })
  .strict();
export type Paging = z.infer<typeof Paging>;

const Attribute = z.object({
  vr: z.string().regex(/^[A-Z]{2}$/),
  Value: z.array(z.unknown()).optional(),
  BulkDataURI: z.string().optional(),
  InlineBinary: z.string().optional(),
});
export const DicomJsonDataset = z.record(z.string().regex(/^[0-9A-Fa-f]{8}$/), Attribute);
export type DicomJsonDataset = z.infer<typeof DicomJsonDataset>;
export const QidoResponse = z.array(DicomJsonDataset);

export const badJson = (what: string): ResightError =>
  new ResightError('PACS_BAD_RESPONSE', `The PACS answered a ${what} with something that is not valid DICOM JSON. Ask your PACS administrator to check the server's DICOMweb service.`);

/** Parses a QIDO-RS body (empty for no matches, some servers answer 204). */
export function parseQido(body: Buffer, what: string): DicomJsonDataset[] {
  if (body.length === 0) return [];
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    throw badJson(what);
  }
  const r = QidoResponse.safeParse(json);
  if (!r.success) throw badJson(what);
  return r.data;
}

function attr(ds: DicomJsonDataset, tag: string): unknown[] {
  return ds[tag]?.Value ?? ds[tag.toLowerCase()]?.Value ?? [];
}

export function text(ds: DicomJsonDataset, tag: string): string | null {
  const v = attr(ds, tag)[0];
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : null;
}

function texts(ds: DicomJsonDataset, tag: string): string[] {
  return attr(ds, tag).filter((v): v is string => typeof v === 'string');
}

/** IS and DS arrive as JSON numbers or as strings, depending on the server. */
function num(ds: DicomJsonDataset, tag: string): number | null {
  const v = attr(ds, tag)[0];
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() ? Number(v) : NaN;
  return Number.isFinite(n) ? n : null;
}

function personName(ds: DicomJsonDataset, tag: string): string | null {
  const v = attr(ds, tag)[0] as { Alphabetic?: unknown } | undefined;
  return v && typeof v === 'object' && typeof v.Alphabetic === 'string' ? v.Alphabetic : null;
}

function uid(ds: DicomJsonDataset, tag: string, what: string): string {
  const v = attr(ds, tag)[0];
  if (typeof v !== 'string' || !Uid.safeParse(v).success) throw badJson(what);
  return v;
}

export const TAG = {
  studyDate: '00080020',
  accession: '00080050',
  modalitiesInStudy: '00080061',
  modality: '00080060',
  sopClass: '00080016',
  sopInstance: '00080018',
  studyDescription: '00081030',
  seriesDescription: '0008103E',
  patientName: '00100010',
  patientId: '00100020',
  studyUid: '0020000D',
  seriesUid: '0020000E',
  seriesNumber: '00200011',
  instanceNumber: '00200013',
  studySeries: '00201206',
  studyInstances: '00201208',
  seriesInstances: '00201209',
  frames: '00280008',
  rows: '00280010',
  columns: '00280011',
} as const;

export interface StudySummary {
  StudyInstanceUID: string;
  PatientID: string | null;
  /** For the app's study browser; the CLI never prints it. */
  PatientName: string | null;
  StudyDate: string | null;
  StudyDescription: string | null;
  AccessionNumber: string | null;
  ModalitiesInStudy: string[];
  NumberOfStudyRelatedSeries: number | null;
  NumberOfStudyRelatedInstances: number | null;
}

export interface SeriesSummary {
  StudyInstanceUID: string;
  SeriesInstanceUID: string;
  Modality: string | null;
  SeriesNumber: number | null;
  SeriesDescription: string | null;
  NumberOfSeriesRelatedInstances: number | null;
}

export interface InstanceSummary {
  StudyInstanceUID: string;
  SeriesInstanceUID: string;
  SOPInstanceUID: string;
  SOPClassUID: string | null;
  InstanceNumber: number | null;
  NumberOfFrames: number | null;
  Rows: number | null;
  Columns: number | null;
}

export function studySummary(ds: DicomJsonDataset): StudySummary {
  return {
    StudyInstanceUID: uid(ds, TAG.studyUid, 'study search'),
    PatientID: text(ds, TAG.patientId),
    PatientName: personName(ds, TAG.patientName),
    StudyDate: text(ds, TAG.studyDate),
    StudyDescription: text(ds, TAG.studyDescription),
    AccessionNumber: text(ds, TAG.accession),
    ModalitiesInStudy: texts(ds, TAG.modalitiesInStudy),
    NumberOfStudyRelatedSeries: num(ds, TAG.studySeries),
    NumberOfStudyRelatedInstances: num(ds, TAG.studyInstances),
  };
}

export function seriesSummary(ds: DicomJsonDataset, studyUid: string): SeriesSummary {
  return {
    StudyInstanceUID: text(ds, TAG.studyUid) ?? studyUid,
    SeriesInstanceUID: uid(ds, TAG.seriesUid, 'series search'),
    Modality: text(ds, TAG.modality),
    SeriesNumber: num(ds, TAG.seriesNumber),
    SeriesDescription: text(ds, TAG.seriesDescription),
    NumberOfSeriesRelatedInstances: num(ds, TAG.seriesInstances),
  };
}

export function instanceSummary(ds: DicomJsonDataset, studyUid: string, seriesUid?: string): InstanceSummary {
  const series = text(ds, TAG.seriesUid) ?? seriesUid;
  if (!series) throw badJson('instance search');
  return {
    StudyInstanceUID: text(ds, TAG.studyUid) ?? studyUid,
    SeriesInstanceUID: series,
    SOPInstanceUID: uid(ds, TAG.sopInstance, 'instance search'),
    SOPClassUID: text(ds, TAG.sopClass),
    InstanceNumber: num(ds, TAG.instanceNumber),
    NumberOfFrames: num(ds, TAG.frames),
    Rows: num(ds, TAG.rows),
    Columns: num(ds, TAG.columns),
  };
}

/** QIDO-RS query parameters for a study search. */
export function studyQuery(filters: StudyFilters, paging: Paging): URLSearchParams {
  const q = new URLSearchParams();
  if (filters.patientName) q.set('PatientName', filters.patientName);
  if (filters.patientId) q.set('PatientID', filters.patientId);
  if (filters.studyDate) q.set('StudyDate', filters.studyDate);
  if (filters.modality) q.set('ModalitiesInStudy', filters.modality);
  if (filters.accession) q.set('AccessionNumber', filters.accession);
  if (filters.studyUid) q.set('StudyInstanceUID', filters.studyUid);
  for (const tag of [TAG.studyDescription, TAG.modalitiesInStudy, TAG.studySeries, TAG.studyInstances]) q.append('includefield', tag);
  return withPaging(q, paging);
}

export function withPaging(q: URLSearchParams, paging: Paging): URLSearchParams {
  if (paging.limit !== undefined) q.set('limit', String(paging.limit));
  if (paging.offset !== undefined) q.set('offset', String(paging.offset));
  return q;
}
