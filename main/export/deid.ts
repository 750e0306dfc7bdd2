// Runs in main, the CLI and tests. De-identification of DICOM Part 10 files per PS3.15 Annex E:
// the Basic Application Level Confidentiality Profile with the Retain Longitudinal Temporal
// Information option (dates shifted per patient by default, kept with keepDates), UIDs remapped
// with a keyed hash (so every file of an export, and the SR/SC written from them, agree), private
// tags removed. The action table is deid-table.ts; docs/deidentification.md explains the choices.
import { createHmac, randomBytes } from 'node:crypto';
import { ResightError } from '../../preload/api';
import { ruleFor, type DeidAction } from './deid-table';
import { element, firstString, items, keyedUid, newMeta, readPart10, writePart10, type DicomDataset, type DicomElement } from './dicom-write';

export interface DeidOptions {
  /** Retain dates unshifted (Full Dates option); default false: shift per patient. */
  keepDates?: boolean;
  /** Keep the original UIDs (Retain UIDs option); default false: remap them. */
  retainUids?: boolean;
  /** De-identify images marked BurnedInAnnotation = YES (with a warning) instead of refusing them. */
  allowBurnedIn?: boolean;
}

export interface MethodCode {
  value: string;
  scheme: 'DCM';
  meaning: string;
}

const CODES = {
  basic: { value: '113100', scheme: 'DCM', meaning: 'Basic Application Confidentiality Profile' },
  cleanStructuredContent: { value: '113104', scheme: 'DCM', meaning: 'Clean Structured Content Option' },
  fullDates: { value: '113106', scheme: 'DCM', meaning: 'Retain Longitudinal Temporal Information Full Dates Option' },
  modifiedDates: { value: '113107', scheme: 'DCM', meaning: 'Retain Longitudinal Temporal Information Modified Dates Option' },
  retainUids: { value: '113110', scheme: 'DCM', meaning: 'Retain UIDs Option' },
} as const satisfies Record<string, MethodCode>;

/** UI attributes that name kinds of things (classes, syntaxes, schemes), not instances: never remapped. */
const CLASS_UID_TAGS = new Set([
  '00020002', '00020010', '00020012', '00041510', '00041512', '00080016', '0008001A', '0008001B', '00080062', '0008010C',
  '00080117', '00080118', '00081150', '04000010', '04000510',
]);
const STANDARD_UID_ROOT = '1.2.840.10008.';

/** TEXT content items Resight's own SR writes that carry no patient data (TID 4019 Algorithm Identification). */
const SAFE_TEXT_CONCEPTS = new Set(['111001', '111002', '111003']);

const DUMMY = 'ANONYMIZED';
const TEXT_VRS = new Set(['AE', 'AS', 'CS', 'LO', 'LT', 'SH', 'ST', 'UC', 'UT']);
const MIN_SHIFT_DAYS = 365;
const MAX_SHIFT_DAYS = 3650;
const DAY_MS = 86_400_000;

interface FileContext {
  patientId: string;
  cleanedContent: boolean;
}

export class Deidentifier {
  readonly method: string;
  readonly methodCodes: MethodCode[];
  private readonly options: Required<DeidOptions>;
  private readonly secret: Uint8Array;
  private readonly uids = new Map<string, string>();

  constructor(options: DeidOptions = {}, secret: Uint8Array = randomBytes(32)) {
    this.options = { keepDates: Boolean(options.keepDates), retainUids: Boolean(options.retainUids), allowBurnedIn: Boolean(options.allowBurnedIn) };
    this.secret = Uint8Array.from(secret);
    this.methodCodes = [CODES.basic, this.options.keepDates ? CODES.fullDates : CODES.modifiedDates, ...(this.options.retainUids ? [CODES.retainUids] : [])];
    const dates = this.options.keepDates ? 'Retain Longitudinal Temporal Information with Full Dates Option' : 'Retain Longitudinal Temporal Information with Modified Dates Option';
    this.method = `PS3.15 Annex E Basic Application Level Confidentiality Profile; ${dates}${this.options.retainUids ? '; Retain UIDs Option' : ''} (Resight ${__RESIGHT_VERSION__})`;
  }

  mapUid(uid: string): string {
    if (this.options.retainUids) return uid;
    const key = uid.trim().replace(/\0+$/, '');
    let mapped = this.uids.get(key);
    if (!mapped) {
      mapped = keyedUid(this.secret, key);
      this.uids.set(key, mapped);
    }
    return mapped;
  }

  /** Days (negative) this patient's dates move by: from the keyed hash, so stable for the session. */
  private shiftDays(patientId: string): number {
    const h = createHmac('sha256', this.secret).update(`date-shift\0${patientId.trim()}`).digest();
    return -(MIN_SHIFT_DAYS + (h.readUInt32BE(0) % (MAX_SHIFT_DAYS - MIN_SHIFT_DAYS + 1)));
  }

  shiftDate(patientId: string, date: string): string {
    const m = /^(\d{4})(\d{2})(\d{2})$/.exec(date.trim());
    if (!m) throw new ResightError('INVALID_ARGUMENT', 'A date must be given as YYYYMMDD.');
    const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
    if (Number.isNaN(t)) throw new ResightError('INVALID_ARGUMENT', 'A date must be given as YYYYMMDD.');
    return new Date(t + this.shiftDays(patientId) * DAY_MS).toISOString().slice(0, 10).replace(/-/g, '');
  }

  deidentify(bytes: Uint8Array): { bytes: Uint8Array; warnings: string[] } {
    const part = readPart10(bytes);
    const ds = part.dict;
    const warnings: string[] = [];
    if (firstString(ds, '00280301')?.trim().toUpperCase() === 'YES') {
      if (!this.options.allowBurnedIn)
        throw new ResightError('BURNED_IN_ANNOTATION', 'This image is marked as having burned-in annotation, which may show patient data in the pixels; it was left out.');
      warnings.push('This image is marked as having burned-in annotation: the pixels may still show patient data.');
    }
    const sopClass = firstString(ds, '00080016') ?? firstString(part.meta, '00020002');
    const sopInstance = firstString(ds, '00080018') ?? firstString(part.meta, '00020003');
    if (!sopClass || !sopInstance) throw new ResightError('INVALID_DICOM', 'This DICOM file has no SOP Class or SOP Instance UID.');

    const ctx: FileContext = { patientId: firstString(ds, '00100020') ?? '', cleanedContent: false };
    this.clean(ds, ctx);

    const codes = [...this.methodCodes, ...(ctx.cleanedContent ? [CODES.cleanStructuredContent] : [])];
    ds['00120062'] = element('CS', 'YES');
    ds['00120063'] = element('LO', ...codes.map((c) => c.meaning), `Resight ${__RESIGHT_VERSION__}`);
    ds['00120064'] = element(
      'SQ',
      ...codes.map((c) => ({ '00080100': element('SH', c.value), '00080102': element('SH', c.scheme), '00080104': element('LO', c.meaning) })),
    );
    ds['00280303'] = element('CS', this.options.keepDates ? 'UNMODIFIED' : 'MODIFIED');
    const meta = newMeta(sopClass, this.mapUid(sopInstance), part.transferSyntax);
    return { bytes: writePart10({ meta, dict: ds, pixelElement: part.pixelElement }), warnings };
  }

  private clean(ds: DicomDataset, ctx: FileContext, inContent = false): void {
    for (const tag of Object.keys(ds)) {
      const el = ds[tag]!;
      const group = parseInt(tag.slice(0, 4), 16);
      // Private groups go (the profile's default); group lengths would be wrong once values change.
      if (group % 2 === 1 || tag.endsWith('0000')) {
        delete ds[tag];
        continue;
      }
      const action: DeidAction = ruleFor(tag)?.action ?? (el.vr === 'UI' ? 'U' : el.vr === 'DA' || el.vr === 'DT' ? 'C' : 'K');
      switch (action) {
        case 'X':
          delete ds[tag];
          break;
        case 'Z':
          set(el, []);
          break;
        case 'D':
          set(el, dummy(el.vr));
          break;
        case 'K':
          this.recurse(el, ctx, inContent);
          break;
        case 'U':
          if (el.vr === 'UI' && !CLASS_UID_TAGS.has(tag)) set(el, strings(el).map((u) => (u.startsWith(STANDARD_UID_ROOT) ? u : this.mapUid(u))));
          this.recurse(el, ctx, inContent);
          break;
        case 'C':
          this.cleanValue(tag, el, ds, ctx, inContent);
          break;
      }
    }
  }

  private recurse(el: DicomElement, ctx: FileContext, inContent: boolean): void {
    if (el.vr === 'SQ') for (const item of (el.Value ?? []) as DicomDataset[]) this.clean(item, ctx, inContent);
  }

  private cleanValue(tag: string, el: DicomElement, item: DicomDataset, ctx: FileContext, inContent: boolean): void {
    if (el.vr === 'DA' || el.vr === 'DT') {
      if (!this.options.keepDates) set(el, strings(el).map((v) => this.shiftTemporal(ctx.patientId, el.vr, v)).filter((v) => v !== ''));
    } else if (tag === '0040A730') {
      // Clean Structured Content: the items stay, with this table applied inside them.
      ctx.cleanedContent = true;
      this.recurse(el, ctx, true);
    } else if (tag === '0040A160') {
      if (!(inContent && isSafeTextItem(item))) set(el, [DUMMY]);
    } else {
      delete item[tag];
    }
  }

  /** Shifts a DA or DT value; the time and offset of a DT are kept. Unparseable dates are emptied. */
  private shiftTemporal(patientId: string, vr: string, value: string): string {
    const v = value.trim();
    const m = /^(\d{4})(\d{2})?(\d{2})?(.*)$/.exec(v);
    if (!m || (vr === 'DA' && m[4])) return '';
    const full = `${m[1]}${m[2] ?? '01'}${m[3] ?? '01'}`;
    let shifted: string;
    try {
      shifted = this.shiftDate(patientId, full);
    } catch {
      return '';
    }
    const precision = 4 + (m[2] ? 2 : 0) + (m[3] ? 2 : 0);
    return shifted.slice(0, precision) + (m[4] ?? '');
  }
}

function set(el: DicomElement, values: unknown[]): void {
  el.Value = values;
  delete el._rawValue;
}

function strings(el: DicomElement): string[] {
  return (el.Value ?? []).filter((v): v is string => typeof v === 'string');
}

function dummy(vr: string): unknown[] {
  if (vr === 'PN') return [{ Alphabetic: DUMMY }];
  if (TEXT_VRS.has(vr)) return [DUMMY];
  if (vr === 'DA') return ['19000101'];
  if (vr === 'TM') return ['000000'];
  if (vr === 'DT') return ['19000101000000'];
  // Sequences and binary values: emptied, a made-up item would mean nothing.
  return [];
}

function isSafeTextItem(item: DicomDataset): boolean {
  const concept = items(item, '0040A043')[0];
  return !!concept && firstString(concept, '00080102') === 'DCM' && SAFE_TEXT_CONCEPTS.has(firstString(concept, '00080100') ?? '');
}
