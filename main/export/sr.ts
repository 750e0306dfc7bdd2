// Runs in main, the CLI and tests. Writes the model's findings on one image as a DICOM
// Comprehensive SR in the shape of TID 1500 (Measurement Report): one measurement group per label
// with the algorithm identification of TID 4019, the probability, the threshold, the model's
// qualitative result and the reader's assessment, all referencing the source image.
import { ResightError } from '../../preload/api';
import { daTm, derivedDataset, element, firstString, hashedUid, newMeta, newUid, readPart10, writePart10, type DicomDataset } from './dicom-write';

export interface SrFinding {
  labelId: string;
  name: string;
  probability: number;
  threshold: number;
  positive: boolean;
  reader?: { name: string; assessment: 'present' | 'absent' | 'uncertain' };
}

export interface SrInput {
  /** The source image's Part 10 bytes (patient/study modules copied from it; referenced by SOP Class/Instance UID). */
  source: Uint8Array;
  model: { id: string; version: string; sha256: string; provider: string };
  findings: SrFinding[];
  observedAt?: Date;
}

export const COMPREHENSIVE_SR = '1.2.840.10008.5.1.4.1.1.88.33';

type Code = [value: string, scheme: string, meaning: string];

const C = {
  report: ['126000', 'DCM', 'Imaging Measurement Report'],
  language: ['121049', 'DCM', 'Language of Content Item and Descendants'],
  english: ['en-US', 'RFC5646', 'English (United States)'],
  observerType: ['121005', 'DCM', 'Observer Type'],
  device: ['121007', 'DCM', 'Device'],
  deviceUid: ['121012', 'DCM', 'Device Observer UID'],
  procedure: ['121058', 'DCM', 'Procedure reported'],
  radiography: ['363680008', 'SCT', 'Radiographic imaging procedure'],
  imageLibrary: ['111028', 'DCM', 'Image Library'],
  imageLibraryGroup: ['126200', 'DCM', 'Image Library Group'],
  measurements: ['126010', 'DCM', 'Imaging Measurements'],
  group: ['125007', 'DCM', 'Measurement Group'],
  trackingUid: ['112040', 'DCM', 'Tracking Unique Identifier'],
  algorithmName: ['111001', 'DCM', 'Algorithm Name'],
  algorithmVersion: ['111003', 'DCM', 'Algorithm Version'],
  algorithmParameters: ['111002', 'DCM', 'Algorithm Parameters'],
  finding: ['121071', 'DCM', 'Finding'],
  sourceImage: ['260753009', 'SCT', 'Source'],
  personObserver: ['121008', 'DCM', 'Person Observer Name'],
  present: ['52101004', 'SCT', 'Present'],
  absent: ['2667000', 'SCT', 'Absent'],
  probability: ['probability', '99RESIGHT', 'Probability of finding (model output)'],
  threshold: ['threshold', '99RESIGHT', 'Decision threshold'],
  modelResult: ['model-result', '99RESIGHT', 'Model result at threshold'],
  readerAssessment: ['reader-assess', '99RESIGHT', "Reader's assessment"],
  uncertain: ['uncertain', '99RESIGHT', 'Uncertain'],
  unity: ['1', 'UCUM', 'no units'],
} satisfies Record<string, Code>;

// Code Value is SH (16 characters); longer ones, such as some label ids, go in Long Code Value.
const code = ([value, scheme, meaning]: Code): DicomDataset => ({
  ...(value.length > 16 ? { '00080119': element('UC', value) } : { '00080100': element('SH', value) }),
  '00080102': element('SH', scheme),
  '00080104': element('LO', meaning.slice(0, 64)),
});

type Relationship = 'CONTAINS' | 'HAS OBS CONTEXT' | 'HAS CONCEPT MOD' | 'INFERRED FROM';

function item(relationship: Relationship | undefined, valueType: string, concept: Code, value: DicomDataset): DicomDataset {
  return {
    ...(relationship ? { '0040A010': element('CS', relationship) } : {}),
    '0040A040': element('CS', valueType),
    '0040A043': element('SQ', code(concept)),
    ...value,
  };
}

const container = (rel: Relationship | undefined, concept: Code, children: DicomDataset[]): DicomDataset =>
  item(rel, 'CONTAINER', concept, { '0040A050': element('CS', 'SEPARATE'), '0040A730': element('SQ', ...children) });
const codeItem = (rel: Relationship, concept: Code, value: Code): DicomDataset => item(rel, 'CODE', concept, { '0040A168': element('SQ', code(value)) });
const text = (rel: Relationship, concept: Code, value: string): DicomDataset => item(rel, 'TEXT', concept, { '0040A160': element('UT', value) });
const uidref = (rel: Relationship, concept: Code, uid: string): DicomDataset => item(rel, 'UIDREF', concept, { '0040A124': element('UI', uid) });
const num = (rel: Relationship, concept: Code, value: number): DicomDataset =>
  item(rel, 'NUM', concept, { '0040A300': element('SQ', { '004008EA': element('SQ', code(C.unity)), '0040A30A': element('DS', ds(value)) }) });

/** A DS value (at most 16 characters) for a number in [0, 1] or thereabouts. */
function ds(value: number): string {
  if (!Number.isFinite(value)) throw new ResightError('INVALID_ARGUMENT', 'A finding has a probability or threshold that is not a number.');
  return Number(value.toPrecision(8)).toString().slice(0, 16);
}

function imageItem(rel: Relationship, concept: Code, sopClass: string, sopInstance: string): DicomDataset {
  return item(rel, 'IMAGE', concept, { '00081199': element('SQ', { '00081150': element('UI', sopClass), '00081155': element('UI', sopInstance) }) });
}

const ASSESSMENT: Record<NonNullable<SrFinding['reader']>['assessment'], Code> = { present: C.present, absent: C.absent, uncertain: C.uncertain };

export function writeFindingsSr(input: SrInput): Uint8Array {
  // TID 1500's Imaging Measurements needs at least one group: without findings there is no report.
  if (input.findings.length === 0) throw new ResightError('NOTHING_TO_EXPORT', 'There are no findings to write into a report.');
  const source = readPart10(input.source).dict;
  const sopClass = firstString(source, '00080016');
  const sopInstance = firstString(source, '00080018');
  const series = firstString(source, '0020000E');
  if (!sopClass || !sopInstance || !series) throw new ResightError('INVALID_DICOM', 'The source image lacks the UIDs a report must reference.');
  const study = firstString(source, '0020000D')!;
  const now = daTm(input.observedAt ?? new Date());
  const sr = derivedDataset(source);
  const srInstance = newUid();
  const m = input.model;

  const groups = input.findings.map((f) =>
    container('CONTAINS', C.group, [
      uidref('HAS OBS CONTEXT', C.trackingUid, newUid()),
      ...(f.reader ? [item('HAS OBS CONTEXT', 'PNAME', C.personObserver, { '0040A123': element('PN', { Alphabetic: f.reader.name }) })] : []),
      text('CONTAINS', C.algorithmName, m.id),
      text('CONTAINS', C.algorithmVersion, m.version),
      text('CONTAINS', C.algorithmParameters, `onnx sha256=${m.sha256}; provider=${m.provider}`),
      codeItem('CONTAINS', C.finding, [f.labelId, '99RESIGHT', f.name]),
      num('CONTAINS', C.probability, f.probability),
      num('CONTAINS', C.threshold, f.threshold),
      codeItem('CONTAINS', C.modelResult, f.positive ? C.present : C.absent),
      ...(f.reader ? [codeItem('CONTAINS', C.readerAssessment, ASSESSMENT[f.reader.assessment])] : []),
      imageItem('CONTAINS', C.sourceImage, sopClass, sopInstance),
    ]),
  );

  Object.assign(sr, {
    '00080012': element('DA', now.date),
    '00080013': element('TM', now.time),
    '00080016': element('UI', COMPREHENSIVE_SR),
    '00080018': element('UI', srInstance),
    '00080023': element('DA', now.date),
    '00080033': element('TM', now.time),
    '00080060': element('CS', 'SR'),
    '00080070': element('LO', 'Resight'),
    '0008103E': element('LO', `Findings of ${m.id} ${m.version}`.slice(0, 64)),
    '00081111': element('SQ'),
    '00181020': element('LO', `Resight ${__RESIGHT_VERSION__}`.slice(0, 64)),
    '0020000E': element('UI', newUid()),
    '00200011': element('IS', '1'),
    '00200013': element('IS', '1'),
    '0040A491': element('CS', 'COMPLETE'),
    '0040A493': element('CS', 'UNVERIFIED'),
    '0040A372': element('SQ'),
    '0040A375': element('SQ', {
      '0020000D': element('UI', study),
      '00081115': element('SQ', {
        '0020000E': element('UI', series),
        '00081199': element('SQ', { '00081150': element('UI', sopClass), '00081155': element('UI', sopInstance) }),
      }),
    }),
    '0040A504': element('SQ', { '00080105': element('CS', 'DCMR'), '0040DB00': element('CS', '1500') }),
    ...container(undefined, C.report, [
      codeItem('HAS CONCEPT MOD', C.language, C.english),
      codeItem('HAS OBS CONTEXT', C.observerType, C.device),
      uidref('HAS OBS CONTEXT', C.deviceUid, hashedUid('resight-device', m.id, m.version, m.sha256)),
      codeItem('HAS CONCEPT MOD', C.procedure, C.radiography),
      container('CONTAINS', C.imageLibrary, [container('CONTAINS', C.imageLibraryGroup, [imageItem('CONTAINS', C.sourceImage, sopClass, sopInstance)])]),
      container('CONTAINS', C.measurements, groups),
    ]),
  });
  return writePart10({ meta: newMeta(COMPREHENSIVE_SR, srInstance), dict: sr });
}
