// Runs in main, the CLI and tests. `exportCases`: the store's cases, images and findings written to
// one zip — a case-review bundle (manifest, cases.csv, report.html, images, CAM overlays), COCO
// annotations, or DICOM Structured Reports. De-identified unless asked otherwise; always naming
// the model (id, version, sha256, provider) behind every result. The database is opened read-only
// (an older schema is migrated on a private copy), so an export never changes what it reads.
import Database from 'better-sqlite3-multiple-ciphers';
import { Zip, ZipDeflate, ZipPassThrough } from 'fflate';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { mkdtemp, readFile, rename, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { z } from 'zod';
import { ResightError, type Review } from '../../preload/api';
import { renderDisplay } from '../imaging/export';
import { loadImage } from '../imaging/load';
import type { LoadedImage } from '../imaging/types';
import { ModelRegistry } from '../inference/registry';
import { cohenKappa, fleissKappa, pairAgreement, unanimity } from '../store/agreement';
import { applyKey, backupDatabase, openDatabase, SCHEMA_VERSION, type DatabaseKey, type Db } from '../store/database';
import { looksEncrypted } from '../store/encryption';
import { Store, type StoredResult } from '../store/repositories';
import { ReviewStore } from '../store/reviews';
import { casesCsv } from './cases-csv';
import { cocoDocument } from './coco';
import { Deidentifier } from './deid';
import { Manifest, MANIFEST_SCHEMA, readerCall, type LabelAgreementStats, type LabelMetrics, type ManifestCase } from './manifest';
import { auroc, referenceLabel, sensitivity, specificity } from './metrics';
import { overlayPng } from './overlay-png';
import { reportHtml } from './report-html';
import { writeFindingsSr, type SrFinding } from './sr';

export interface ExportOptions {
  format?: 'bundle' | 'coco' | 'sr';
  identified?: boolean;
  allowBurnedIn?: boolean;
  /** Subset; default all cases with a model result or review. */
  imageIds?: string[];
  /** Where the installed models live (<appRoot>/models): their cards' notices go into the manifest and report. */
  appRoot?: string;
  /** The key of an encrypted database (main/store/encryption.ts); absent for a plain one. */
  dbKey?: DatabaseKey;
}
export interface ExportSummary {
  cases: number;
  excluded: Array<{ case: string; reason: string }>;
  out: string;
  format: string;
}

const Options = z
  .object({
    format: z.enum(['bundle', 'coco', 'sr']).default('bundle'),
    identified: z.boolean().default(false),
    allowBurnedIn: z.boolean().default(false),
    imageIds: z.array(z.string().regex(/^[0-9a-f]{64}$/)).max(1_000_000).optional(),
    appRoot: z.string().optional(),
    dbKey: z.instanceof(Buffer).optional(),
  })
  .strict();

const NOTICE = 'Model findings are decision support, not a diagnosis. Each model’s card states its intended use and limitations.';
const THUMB_WIDTH = 320;

// ───────────── reading the store ─────────────

interface StoredCase {
  imageId: string;
  format: 'dicom' | 'png' | 'jpeg';
  fileName: string;
  path: string;
  size: { width: number; height: number } | undefined;
  result: StoredResult | undefined;
  reviews: Review[];
  feedback: Array<{ reader: string; labelId: string | null; verdict: 'agree' | 'disagree' | 'uncertain'; version: number; savedAt: string; note: string }>;
  adjudications: Array<{ labelId: string; present: boolean; reader: string; decidedAt: string; note: string }>;
}

const ImageRow = z.object({ image_id: z.string(), format: z.enum(['dicom', 'png', 'jpeg']), file_name: z.string(), path: z.string() });
const FeedbackRow = z.object({ image_id: z.string(), reader: z.string(), label_id: z.string().nullable(), verdict: z.enum(['agree', 'disagree', 'uncertain']), version: z.number(), saved_at: z.string(), note: z.string() });
const AdjudicationRow = z.object({ image_id: z.string(), label_id: z.string(), present: z.number(), reader: z.string(), decided_at: z.string(), note: z.string() });

/** Map.groupBy, which Node 20 lacks. */
function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}

interface OpenedStore {
  store: Store;
  close(): Promise<void>;
}

/** Read-only; a database from an older Resight is migrated on a private copy, never in place. */
async function openReadOnly(dbPath: string, key: DatabaseKey | undefined): Promise<OpenedStore> {
  try {
    if (!(await stat(dbPath)).isFile()) throw new Error('not a file');
  } catch {
    throw new ResightError('FILE_NOT_FOUND', 'The database file could not be found. Check the --db path; nothing was created.');
  }
  let db: Db;
  let version: number;
  try {
    db = new Database(dbPath, { readonly: true, fileMustExist: true });
    if (key) applyKey(db, key);
    db.pragma('busy_timeout = 5000');
    version = db.pragma('user_version', { simple: true }) as number;
    db.prepare('SELECT COUNT(*) FROM sqlite_master').get();
  } catch {
    if (!key && looksEncrypted(dbPath)) {
      throw new ResightError('DATABASE_ENCRYPTED', 'This database is encrypted: export from it in the Resight desktop app that encrypted it. Nothing was changed.');
    }
    throw new ResightError('STORE_FAILED', 'The database could not be read. Check that it is a Resight database and that you may read it.');
  }
  if (version > SCHEMA_VERSION) {
    db.close();
    throw new ResightError('DATABASE_TOO_NEW', 'This database was written by a newer version of Resight. Update Resight to export from it; nothing was changed.');
  }
  if (version === SCHEMA_VERSION) return { store: new Store(db), close: async () => { db.close(); } };
  const dir = await mkdtemp(path.join(os.tmpdir(), 'resight-export-'));
  try {
    backupDatabase(db, path.join(dir, 'copy.sqlite'));
  } finally {
    db.close();
  }
  const copy = new Store(await openDatabase(path.join(dir, 'copy.sqlite'), { key }));
  return {
    store: copy,
    close: async () => {
      copy.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function readCases(store: Store, imageIds: readonly string[] | undefined): StoredCase[] {
  const db = store.db;
  const reviewStore = new ReviewStore(store);
  const images = db.prepare('SELECT image_id, format, file_name, path FROM images ORDER BY first_seen, image_id').all().map((r) => ImageRow.parse(r));
  const latestResult = new Map(
    (db.prepare('SELECT image_id, MAX(result_id) AS result_id FROM model_results GROUP BY image_id').all() as Array<{ image_id: string; result_id: number }>).map((r) => [r.image_id, r.result_id]),
  );
  const reviews = groupBy(reviewStore.latestReviews(), (r) => r.imageId);
  const feedback = groupBy(
    db
      .prepare(
        `SELECT f.image_id, f.reader, f.label_id, f.verdict, f.version, f.saved_at, f.note FROM feedback f
         JOIN (SELECT image_id, reader, MAX(version) AS v FROM feedback GROUP BY image_id, reader) t ON f.image_id = t.image_id AND f.reader = t.reader AND f.version = t.v
         ORDER BY f.reader`,
      )
      .all()
      .map((r) => FeedbackRow.parse(r)),
    (r) => r.image_id,
  );
  const adjudications = groupBy(
    db
      .prepare(
        `SELECT a.image_id, a.label_id, a.present, a.reader, a.decided_at, a.note FROM adjudications a
         WHERE a.adjudication_id = (SELECT MAX(b.adjudication_id) FROM adjudications b WHERE b.image_id = a.image_id AND b.label_id = a.label_id)
         ORDER BY a.label_id`,
      )
      .all()
      .map((r) => AdjudicationRow.parse(r)),
    (r) => r.image_id,
  );
  const wanted = imageIds ? new Set(imageIds) : undefined;
  return images
    .filter((img) => (wanted ? wanted.has(img.image_id) : latestResult.has(img.image_id) || reviews.has(img.image_id)))
    .map((img) => {
      const resultId = latestResult.get(img.image_id);
      return {
        imageId: img.image_id,
        format: img.format,
        fileName: img.file_name,
        path: img.path,
        size: store.imageSize(img.image_id),
        result: resultId === undefined ? undefined : store.result(resultId),
        reviews: reviews.get(img.image_id) ?? [],
        feedback: (feedback.get(img.image_id) ?? []).map((f) => ({ reader: f.reader, labelId: f.label_id, verdict: f.verdict, version: f.version, savedAt: f.saved_at, note: f.note })),
        adjudications: (adjudications.get(img.image_id) ?? []).map((a) => ({ labelId: a.label_id, present: a.present === 1, reader: a.reader, decidedAt: a.decided_at, note: a.note })),
      };
    });
}

// ───────────── derived figures ─────────────

/** label → reader → call (present/absent only) for one case. */
function readerCalls(c: StoredCase): Map<string, Map<string, boolean>> {
  const out = new Map<string, Map<string, boolean>>();
  for (const review of c.reviews) {
    for (const l of review.labels) {
      if (l.present === null) continue;
      const m = out.get(l.labelId) ?? new Map<string, boolean>();
      out.set(l.labelId, m);
      m.set(review.reader, l.present);
    }
  }
  return out;
}

/** Agreement over the exported cases only, computed as ReviewStore.agreement does for the whole store. */
function agreementStats(cases: readonly StoredCase[]): LabelAgreementStats[] {
  const calls = cases.map((c) => ({ model: new Map(c.result?.findings.map((f) => [f.labelId, f.positive]) ?? []), calls: readerCalls(c) }));
  const labelIds = [...new Set(calls.flatMap((c) => [...c.calls.keys()]))].sort();
  return labelIds.map((labelId) => {
    const perCase = calls.map((c) => ({ model: c.model.get(labelId), byReader: c.calls.get(labelId) ?? new Map<string, boolean>() })).filter((c) => c.byReader.size > 0);
    const raters = [...new Set(perCase.flatMap((c) => [...c.byReader.keys()]))].sort();
    const raw = unanimity(perCase.map((c) => [...c.byReader.values()]));
    const complete = perCase.filter((c) => raters.every((r) => c.byReader.has(r)));
    let method: LabelAgreementStats['method'] = null;
    let kappa: number | null = null;
    if (raters.length === 2) {
      method = 'cohen';
      kappa = cohenKappa(complete.map((c) => [c.byReader.get(raters[0]!)!, c.byReader.get(raters[1]!)!] as const));
    } else if (raters.length > 2) {
      method = 'fleiss';
      kappa = fleissKappa(complete.map((c) => [[...c.byReader.values()].filter((v) => !v).length, [...c.byReader.values()].filter((v) => v).length]));
    }
    const modelVsReader = raters.map((reader) => {
      const pairs = perCase.filter((c) => c.byReader.has(reader) && c.model !== undefined).map((c) => [c.model!, c.byReader.get(reader)!] as const);
      return { reader, cases: pairs.length, agreement: pairAgreement(pairs), kappa: cohenKappa(pairs) };
    });
    return { labelId, raters, cases: raw.cases, rawAgreement: raw.rate, method, kappa, kappaCases: method ? complete.length : 0, modelVsReader };
  });
}

function labelMetrics(cases: readonly ManifestCase[], labels: ReadonlyArray<{ id: string; name: string }>): LabelMetrics[] {
  return labels.map(({ id, name }) => {
    const reference = { adjudicated: 0, unanimous: 0, majority: 0, undetermined: 0 };
    const scored: Array<{ probability: number; positive: boolean; truth: boolean }> = [];
    for (const c of cases) {
      const f = c.result?.findings.find((x) => x.labelId === id);
      const ref = c.reference.find((r) => r.labelId === id);
      if (!f || !ref) continue;
      if (ref.present === null || ref.source === null) {
        reference.undetermined++;
        continue;
      }
      reference[ref.source]++;
      scored.push({ probability: f.probability, positive: f.positive, truth: ref.present });
    }
    return { labelId: id, name, cases: scored.length, positives: scored.filter((s) => s.truth).length, reference, auroc: auroc(scored), sensitivity: sensitivity(scored), specificity: specificity(scored) };
  });
}

/** Each exported model's own notice (intended use, synthetic-data warning), where its card is installed. */
async function modelNotices(appRoot: string | undefined, models: ReadonlyArray<{ sha256: string }>): Promise<string[]> {
  if (!appRoot) return [];
  const wanted = new Set(models.map((m) => m.sha256));
  const installed = await new ModelRegistry([path.join(appRoot, 'models')]).list();
  return [...new Set(installed.filter((m) => wanted.has(m.sha256)).map((m) => `${m.card.id} ${m.card.version}: ${m.summary.notice}`))];
}

// ───────────── files ─────────────

const caseName = (i: number): string => `case-${String(i + 1).padStart(4, '0')}`;
/** Label ids come from model cards; keep them to characters safe in any file system. */
const safePart = (s: string): string => s.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64);

/** PNG/JPEG source as a PNG made from its decoded pixels alone: no text chunks, EXIF or ICC travel with it. */
async function pixelsOnlyPng(image: LoadedImage): Promise<Buffer> {
  const { width, height, samplesPerPixel, pixelDataType } = image.info;
  const pixels = image.storedFrame(0);
  const img = sharp(pixels, { raw: { width, height, channels: samplesPerPixel === 3 ? 3 : 1 } });
  return (samplesPerPixel === 3 ? img : img.toColourspace(pixelDataType === 'uint16' ? 'grey16' : 'b-w')).png().toBuffer();
}

async function thumbnail(png: Buffer): Promise<string> {
  const small = await sharp(png).resize({ width: THUMB_WIDTH, withoutEnlargement: true }).png().toBuffer();
  return `data:image/png;base64,${small.toString('base64')}`;
}

/** Streams entries into `<out>.partial-…`, renamed to the final name only when complete. */
class ZipWriter {
  private readonly fd: number;
  private readonly zip: Zip;
  private error: Error | null = null;
  private done = false;

  constructor(readonly tmpPath: string) {
    this.fd = openSync(tmpPath, 'wx', 0o600);
    this.zip = new Zip((err, chunk, final) => {
      if (err) this.error = err;
      else writeSync(this.fd, chunk);
      if (final) this.done = true;
    });
  }

  add(name: string, bytes: Uint8Array | string, compress: boolean): void {
    const data = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
    const entry = compress ? new ZipDeflate(name, { level: 6 }) : new ZipPassThrough(name);
    this.zip.add(entry);
    entry.push(data, true);
    if (this.error) throw this.error;
  }

  finish(): void {
    this.zip.end();
    closeSync(this.fd);
    if (this.error || !this.done) throw this.error ?? new Error('zip not finished');
  }

  abort(): void {
    try {
      closeSync(this.fd);
    } catch {
      // Already closed by finish().
    }
  }
}

// ───────────── export ─────────────

type CamOverlap = ReturnType<ReviewStore['camOverlap']>['cases'][number];

interface Exported {
  manifestCase: ManifestCase;
  files: Array<{ name: string; bytes: Uint8Array; compress: boolean }>;
  thumbnail?: string;
}

function srFindings(c: StoredCase, result: StoredResult): SrFinding[] {
  return result.findings.map((f) => {
    const adjudicated = c.adjudications.find((a) => a.labelId === f.labelId);
    const lastCall = c.reviews
      .map((r) => ({ reader: r.reader, savedAt: r.savedAt, call: r.labels.find((l) => l.labelId === f.labelId) }))
      .filter((r) => r.call && readerCall(r.call) !== null)
      .sort((a, b) => b.savedAt.localeCompare(a.savedAt))[0];
    const reader = adjudicated
      ? { name: adjudicated.reader, assessment: adjudicated.present ? ('present' as const) : ('absent' as const) }
      : lastCall
        ? { name: lastCall.reader, assessment: readerCall(lastCall.call!)! }
        : undefined;
    return { labelId: f.labelId, name: f.name, probability: f.probability, threshold: f.threshold, positive: f.positive, ...(reader ? { reader } : {}) };
  });
}

export async function exportCases(dbPath: string, outZip: string, options: ExportOptions = {}): Promise<ExportSummary> {
  const parsed = Options.safeParse(options);
  if (!parsed.success) throw new ResightError('INVALID_ARGUMENT', `The export options were not understood (${parsed.error.issues[0]?.path.join('.') || 'options'}).`);
  const opts = parsed.data;
  const out = path.resolve(outZip);
  if (out === path.resolve(dbPath)) throw new ResightError('INVALID_ARGUMENT', 'The --out file cannot be the database itself. Choose another file name.');
  try {
    if (!(await stat(path.dirname(out))).isDirectory()) throw new Error('not a folder');
  } catch {
    throw new ResightError('INVALID_ARGUMENT', 'The folder for the --out file does not exist. Create it first, or choose another place.');
  }
  if (await stat(out).then(() => true, () => false)) {
    throw new ResightError('INVALID_ARGUMENT', 'A file with that name already exists. Choose another name; Resight never overwrites a file.');
  }

  const opened = await openReadOnly(path.resolve(dbPath), opts.dbKey);
  let stored: StoredCase[];
  let camOverlap: Map<string, CamOverlap[]>;
  try {
    // One read transaction: a snapshot, consistent even while the app keeps saving reviews.
    ({ stored, camOverlap } = opened.store.db.transaction(() => {
      const cases = readCases(opened.store, opts.imageIds);
      return { stored: cases, camOverlap: groupBy(cases.some((c) => c.reviews.length) ? new ReviewStore(opened.store).camOverlap().cases : [], (o) => o.imageId) };
    })());
  } finally {
    await opened.close();
  }
  if (stored.length === 0) throw new ResightError('NOTHING_TO_EXPORT', 'The database has no cases with a model result or a review to export.');

  const deid = opts.identified ? null : new Deidentifier({ allowBurnedIn: opts.allowBurnedIn });
  const labels = new Map<string, string>();
  for (const c of stored) for (const f of c.result?.findings ?? []) if (!labels.has(f.labelId)) labels.set(f.labelId, f.name);
  for (const c of stored) for (const r of c.reviews) for (const l of r.labels) if (!labels.has(l.labelId)) labels.set(l.labelId, l.labelId);

  const tmp = `${out}.partial-${randomBytes(4).toString('hex')}`;
  let writer: ZipWriter;
  try {
    writer = new ZipWriter(tmp);
  } catch {
    throw new ResightError('EXPORT_FAILED', 'The export file could not be created. Check that you may write to its folder.');
  }
  try {
    const excluded: ExportSummary['excluded'] = [];
    const exported: Array<Omit<Exported, 'files'>> = [];
    for (const [i, c] of stored.entries()) {
      const name = caseName(i);
      let done: Exported | null;
      try {
        done = await exportCase(c, name, opts.format, deid, labels, camOverlap.get(c.imageId) ?? []);
      } catch (err) {
        // Only the code's meaning goes into the reason: a ResightError's sentence is written for this file, never its contents.
        excluded.push({ case: name, reason: exclusionReason(err) });
        continue;
      }
      if (!done) {
        excluded.push({ case: name, reason: 'not DICOM or no model result (nothing for an SR)' });
        continue;
      }
      // Written as each case is done, so memory holds one case's images, not the whole export's.
      for (const f of done.files) writer.add(f.name, f.bytes, f.compress);
      exported.push({ manifestCase: done.manifestCase, thumbnail: done.thumbnail });
    }
    if (exported.length === 0) {
      throw new ResightError('NOTHING_TO_EXPORT', `None of the ${stored.length} case(s) could be exported (${[...new Set(excluded.map((e) => e.reason))].join('; ')}).`);
    }

    const cases = exported.map((e) => e.manifestCase);
    const names = new Set(cases.map((c) => c.case));
    const labelList = [...labels].map(([id, n]) => ({ id, name: n }));
    const models = new Map<string, { id: string; version: string; sha256: string; provider: string }>();
    for (const c of cases) if (c.result) models.set(JSON.stringify(c.result.model), c.result.model);
    const notes = deid
      ? [
          'Images are named by case number; original file names, paths and store ids are left out.',
          'Free-text notes are left out: a note may name the patient.',
          'Times of results, reviews and adjudications are left out: they would date the imaging that the DICOM date shift hides.',
          'PNG and JPEG sources are re-encoded from their pixels alone (no metadata). Text burned into their pixels cannot be detected or removed (DICOM PS3.15 E.1); review the images before sharing.',
        ]
      : ['Identified export: DICOM images, file names, notes and times are as stored. Do not share outside the care team.'];
    const manifest = Manifest.parse({
      schema: MANIFEST_SCHEMA,
      app: { name: 'Resight', version: __RESIGHT_VERSION__ },
      exportedAt: new Date().toISOString(),
      format: opts.format,
      identified: opts.identified,
      deidentification: { method: deid ? deid.method : null, codes: deid ? deid.methodCodes : [], notes },
      notice: [NOTICE, ...(await modelNotices(opts.appRoot, [...models.values()]))].join(' '),
      models: [...models.values()],
      labels: labelList,
      readers: [...new Set(cases.flatMap((c) => [...c.reviews.map((r) => r.reader), ...c.feedback.map((f) => f.reader)]))].sort(),
      cases,
      excluded,
      agreement: agreementStats(stored.filter((_, i) => names.has(caseName(i)))),
      metrics: labelMetrics(cases, labelList),
    });

    writer.add('manifest.json', JSON.stringify(manifest, null, 2), true);
    if (opts.format === 'bundle') {
      writer.add('cases.csv', casesCsv(manifest), true);
      writer.add('report.html', reportHtml(manifest, { thumbnails: new Map(exported.filter((e) => e.thumbnail).map((e) => [e.manifestCase.case, e.thumbnail!])) }), true);
    }
    if (opts.format === 'coco') writer.add('annotations.json', JSON.stringify(cocoDocument(manifest), null, 2), true);
    writer.finish();
    await rename(tmp, out);
    return { cases: exported.length, excluded, out, format: opts.format };
  } catch (err) {
    writer.abort();
    await rm(tmp, { force: true });
    if (err instanceof ResightError) throw err;
    throw new ResightError('EXPORT_FAILED', 'The export file could not be written completely. Check free disk space; no partial file was left.');
  }
}

function exclusionReason(err: unknown): string {
  if (!(err instanceof ResightError)) return 'unexpected error while exporting';
  switch (err.code) {
    case 'BURNED_IN_ANNOTATION':
      return 'burned-in annotation';
    case 'FILE_NOT_FOUND':
      return 'image file missing';
    default:
      return `image could not be read (${err.code})`;
  }
}

/** The DICOM file as stored: de-identification and the SR work on its bytes (PNG and JPEG cases only need their pixels). */
async function dicomSource(file: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(file));
  } catch {
    throw new ResightError('FILE_NOT_FOUND', 'The image file is no longer where it was opened from.');
  }
}

async function exportCase(
  c: StoredCase,
  name: string,
  format: 'bundle' | 'coco' | 'sr',
  deid: Deidentifier | null,
  labels: ReadonlyMap<string, string>,
  camOverlap: readonly CamOverlap[],
): Promise<Exported | null> {
  if (format === 'sr' && (c.format !== 'dicom' || !c.result)) return null;
  const files: Exported['files'] = [];
  const overlays: ManifestCase['overlays'] = [];
  const warnings: string[] = [];
  let imageEntry: string | null = null;
  let size = c.size;
  let thumb: string | undefined;

  if (format === 'sr') {
    const r = c.result!;
    const sr = writeFindingsSr({
      source: await dicomSource(c.path),
      model: { id: r.modelId, version: r.modelVersion, sha256: r.modelSha256, provider: r.providerUsed },
      findings: srFindings(c, r),
      observedAt: new Date(r.createdAt),
    });
    // Through the same Deidentifier as the images, so the SR's references map to the same new UIDs.
    const clean = deid ? deid.deidentify(sr) : { bytes: sr, warnings: [] };
    warnings.push(...clean.warnings);
    imageEntry = `sr/${name}.dcm`;
    files.push({ name: imageEntry, bytes: clean.bytes, compress: true });
  } else {
    let dicomBytes: Uint8Array | undefined;
    if (c.format === 'dicom') {
      const source = await dicomSource(c.path);
      const clean = deid ? deid.deidentify(source) : { bytes: source, warnings: [] };
      warnings.push(...clean.warnings);
      dicomBytes = clean.bytes;
    }
    const image = await loadImage(c.path);
    size = { width: image.info.width, height: image.info.height };
    imageEntry = `images/${name}.${dicomBytes ? 'dcm' : 'png'}`;
    files.push({ name: imageEntry, bytes: dicomBytes ?? (await pixelsOnlyPng(image)), compress: !!dicomBytes });
    if (format === 'bundle') {
      const frame = c.result?.frame ?? 0;
      const display = renderDisplay(image, frame < image.info.frames ? frame : 0);
      let first: Buffer | undefined;
      for (const f of c.result?.findings.filter((x) => x.positive) ?? []) {
        const cam = c.result!.cams[f.labelId];
        if (!cam) continue;
        const png = await overlayPng({ display, width: size.width, height: size.height, cam, model: { id: c.result!.modelId, version: c.result!.modelVersion }, labelName: f.name });
        const file = `overlays/${name}.${safePart(f.labelId)}.png`;
        files.push({ name: file, bytes: png, compress: false });
        overlays.push({ labelId: f.labelId, file, camMethod: cam.method });
        first ??= png;
      }
      thumb = await thumbnail(first ?? (await sharp(display.pixels, { raw: { width: size.width, height: size.height, channels: display.channels } }).png().toBuffer()));
    }
  }
  if (!size) throw new ResightError('IMAGE_NOT_OPEN', 'The image size is unknown.');

  const r = c.result;
  const identified = deid === null;
  const calls = readerCalls(c);
  const manifestCase: ManifestCase = {
    case: name,
    format: c.format,
    image: imageEntry,
    width: size.width,
    height: size.height,
    ...(identified ? { source: { imageId: c.imageId, fileName: c.fileName } } : {}),
    result: r
      ? {
          model: { id: r.modelId, version: r.modelVersion, sha256: r.modelSha256, provider: r.providerUsed },
          providerRequested: r.providerRequested,
          frame: r.frame,
          ...(identified ? { createdAt: r.createdAt } : {}),
          findings: r.findings.map(({ labelId, name: n, probability, threshold, positive }) => ({ labelId, name: n, probability, threshold, positive })),
        }
      : null,
    overlays,
    feedback: c.feedback.map((f) => ({ reader: f.reader, labelId: f.labelId, verdict: f.verdict, version: f.version, ...(identified ? { savedAt: f.savedAt, note: f.note } : {}) })),
    reviews: c.reviews.map((rv) => ({
      reader: rv.reader,
      version: rv.version,
      signed: rv.signed,
      confidence: rv.confidence,
      timeSpentMs: rv.timeSpentMs,
      labels: rv.labels.map((l) => ({ labelId: l.labelId, call: readerCall(l), verdict: l.verdict })),
      regions: rv.regions,
      ...(identified ? { savedAt: rv.savedAt, note: rv.note } : {}),
    })),
    adjudications: c.adjudications.map((a) => ({ labelId: a.labelId, present: a.present, reader: a.reader, ...(identified ? { decidedAt: a.decidedAt, note: a.note } : {}) })),
    reference: [...labels.keys()]
      .filter((id) => calls.has(id) || c.adjudications.some((a) => a.labelId === id))
      .map((labelId) => ({ labelId, ...referenceLabel(c.adjudications.find((a) => a.labelId === labelId)?.present, [...(calls.get(labelId)?.values() ?? [])]) })),
    camOverlap: camOverlap.map(({ reader, labelId, regionKind, hit, iou }) => ({ reader, labelId, regionKind, hit, iou })),
    warnings,
  };
  return { manifestCase, files, thumbnail: thumb };
}
