// Runs in tests. Readers, per-label reviews with regions, signing, the worklist, agreement,
// adjudication and CAM overlap on real SQLite files; every bad input refused with a code and
// nothing written.
import Database from 'better-sqlite3-multiple-ciphers';
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CamMap, Finding, ImageInfo } from '../../preload/api';
import { pngInfo } from '../testing/fixtures';
import { auditCount } from './audit';
import { MIGRATIONS, openDatabase, SCHEMA_VERSION } from './database';
import { Store } from './repositories';
import { ReviewStore } from './reviews';

const LABELS = ['opacity', 'nodule', 'effusion'];
const tmp = (): string => mkdtempSync(path.join(os.tmpdir(), 'resight-reviews-'));

const image = (ch: string, width = 200, height = 100): ImageInfo => pngInfo(ch, width, height);

const finding = (labelId: string, positive: boolean): Finding => ({ labelId, name: labelId, probability: positive ? 0.9 : 0.1, logit: 0, threshold: 0.5, positive });

/** A 4 × 4 CAM over the whole image, hot in the cell range given (inclusive). */
const cam = (labelId: string, hot: [number, number], w: number, h: number): CamMap => ({
  labelId,
  method: 'gradcam',
  width: 4,
  height: 4,
  values: Array.from({ length: 16 }, (_, i) => (i % 4 >= hot[0] && i % 4 <= hot[1] && Math.floor(i / 4) >= hot[0] && Math.floor(i / 4) <= hot[1] ? 1 : 0)),
  rawMax: 1,
  extent: { x0: 0, y0: 0, x1: w, y1: h },
});

async function setup(file = path.join(tmp(), 'db.sqlite')) {
  const store = new Store(await openDatabase(file));
  const reviews = new ReviewStore(store);
  for (const ch of ['a', 'b', 'c']) store.recordImage(image(ch), `/data/${ch}.png`, 'os-user');
  const result = store.saveResult(
    {
      imageId: 'a'.repeat(64),
      frame: 0,
      modelId: 'm',
      modelVersion: '1',
      modelSha256: 'f'.repeat(64),
      providerRequested: 'cpu',
      providerUsed: 'cpu',
      findings: [finding('opacity', true), finding('nodule', false), finding('effusion', false)],
      cams: Object.fromEntries(LABELS.map((l) => [l, cam(l, [0, 1], 200, 100)])),
      inferenceMs: 1,
    },
    'os-user',
  );
  return { file, store, reviews, resultId: result.resultId };
}

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const C = 'c'.repeat(64);
const count = (store: Store, table: string) => (store.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;

describe('readers', () => {
  it('creates profiles, refuses duplicates and bad names, and remembers the current reader across a reopen', async () => {
    const { file, store, reviews } = await setup();
    const a = reviews.createReader({ name: 'Dr Adams', role: 'clinician' }, 'os-user');
    reviews.createReader({ name: 'Ann Baker', role: 'annotator' }, 'os-user');
    expect(() => reviews.createReader({ name: 'dr adams', role: 'annotator' }, 'os-user')).toThrow(expect.objectContaining({ code: 'READER_EXISTS' }));
    for (const bad of [{ name: '', role: 'clinician' }, { name: 'x'.repeat(65), role: 'clinician' }, { name: 'X', role: 'admin' }, { name: 'a\u0000b', role: 'clinician' }, { name: 'Y', role: 'clinician', password: 'p' }]) {
      expect(() => reviews.createReader(bad, 'os-user')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    }
    expect(() => reviews.setCurrent(99, 'os-user')).toThrow(expect.objectContaining({ code: 'READER_NOT_FOUND' }));
    expect(reviews.currentReaderName('os-user')).toBe('os-user');
    reviews.setCurrent(a.readerId, 'os-user');
    store.close();

    const again = new ReviewStore(new Store(await openDatabase(file)));
    expect(again.readersState()).toMatchObject({ current: { name: 'Dr Adams', role: 'clinician' }, readers: [{ name: 'Dr Adams' }, { name: 'Ann Baker' }] });
    expect(again.currentReaderName('os-user')).toBe('Dr Adams');
  });
});

describe('reviews', () => {
  it('derives corrected labels from verdicts, signs, and makes a new version on a later edit', async () => {
    const { store, reviews, resultId } = await setup();
    const signed = reviews.saveReview(
      {
        imageId: A,
        resultId,
        labels: [
          { labelId: 'opacity', verdict: 'agree' },
          { labelId: 'nodule', verdict: 'disagree' },
          { labelId: 'effusion', verdict: 'uncertain' },
        ],
        confidence: 4,
        note: 'nodule in the right upper zone',
        timeSpentMs: 30_000,
        sign: true,
      },
      'Dr Adams',
      LABELS,
    );
    expect(signed).toMatchObject({ version: 1, signed: true, confidence: 4, timeSpentMs: 30_000 });
    expect(signed.labels).toEqual([
      { labelId: 'opacity', verdict: 'agree', present: true },
      { labelId: 'nodule', verdict: 'disagree', present: true },
      { labelId: 'effusion', verdict: 'uncertain', present: null },
    ]);
    const edit = reviews.saveReview({ imageId: A, resultId, labels: [{ labelId: 'opacity', verdict: 'agree' }], timeSpentMs: 5_000 }, 'Dr Adams', LABELS);
    expect(edit).toMatchObject({ version: 2, signed: false, timeSpentMs: 35_000 });
    // The signed version stays as it was.
    expect(reviews.history(A, 'Dr Adams').map((r) => [r.version, r.signed, r.note, r.timeSpentMs])).toEqual([
      [1, true, 'nodule in the right upper zone', 30_000],
      [2, false, '', 35_000],
    ]);
    expect(() => store.db.prepare('UPDATE reviews SET signed = 0').run()).toThrow(/never edited/);
    expect(() => store.db.prepare('DELETE FROM reviews').run()).toThrow(/never deleted/);
    const audit = store.db.prepare("SELECT action, before_json, after_json FROM audit_log WHERE entity = 'review' ORDER BY audit_id").all() as Array<{ action: string; before_json: string | null; after_json: string }>;
    expect(audit.map((a) => a.action)).toEqual(['review.sign', 'review.revise']);
    expect(JSON.parse(audit[1]!.before_json!)).toMatchObject({ version: 1, signed: true });
    expect(JSON.parse(audit[1]!.after_json)).toMatchObject({ version: 2 });
  });

  it('keeps regions in image pixels, with boxes normalised', async () => {
    const { reviews } = await setup();
    const r = reviews.saveReview(
      {
        imageId: B,
        labels: [{ labelId: 'nodule', present: true }],
        regions: [
          { kind: 'box', labelId: 'nodule', x0: 150, y0: 80, x1: 100, y1: 20 },
          { kind: 'polygon', labelId: 'nodule', points: [{ x: 0, y: 0 }, { x: 200, y: 0 }, { x: 0, y: 100 }] },
          { kind: 'point', labelId: 'opacity', x: 10.5, y: 99 },
        ],
      },
      'Ann Baker',
      LABELS,
    );
    expect(r.regions[0]).toEqual({ kind: 'box', labelId: 'nodule', x0: 100, y0: 20, x1: 150, y1: 80 });
    expect(reviews.latestReview(B, 'Ann Baker')?.regions).toHaveLength(3);
  });

  it('refuses bad input with a code and changes nothing', async () => {
    const { store, reviews, resultId } = await setup();
    const box = (x0: number, y0: number, x1: number, y1: number) => ({ kind: 'box', labelId: 'nodule', x0, y0, x1, y1 });
    const cases: Array<[string, unknown]> = [
      ['INVALID_ARGUMENT', { imageId: B, note: 'x'.repeat(20_001) }],
      ['INVALID_ARGUMENT', { imageId: B, labels: 'opacity' }],
      ['INVALID_ARGUMENT', { imageId: B, labels: [{ labelId: 'opacity', present: 'yes' }] }],
      ['INVALID_ARGUMENT', { imageId: B, confidence: 6 }],
      ['INVALID_ARGUMENT', { imageId: B, confidence: 2.5 }],
      ['INVALID_ARGUMENT', { imageId: B, timeSpentMs: -1 }],
      ['INVALID_ARGUMENT', { imageId: B, extra: true }],
      ['INVALID_ARGUMENT', { imageId: 'not-an-id' }],
      ['INVALID_ARGUMENT', { imageId: B, regions: [{ kind: 'box', labelId: 'nodule', x0: 0, y0: 0, x1: Number.NaN, y1: 5 }] }],
      ['INVALID_ARGUMENT', { imageId: B, regions: [{ kind: 'circle', labelId: 'nodule', x: 1, y: 1, r: 3 }] }],
      ['INVALID_ARGUMENT', { imageId: B, regions: [{ kind: 'polygon', labelId: 'nodule', points: [{ x: 1, y: 1 }, { x: 2, y: 2 }] }] }],
      ['INVALID_ARGUMENT', { imageId: B, regions: [box(10, 10, 10, 50)] }],
      ['INVALID_ARGUMENT', { imageId: B, labels: [{ labelId: 'opacity', present: true }, { labelId: 'opacity', present: false }] }],
      ['REGION_OUTSIDE_IMAGE', { imageId: B, regions: [box(10, 10, 201, 50)] }],
      ['REGION_OUTSIDE_IMAGE', { imageId: B, regions: [box(-1, 10, 20, 50)] }],
      ['REGION_OUTSIDE_IMAGE', { imageId: B, regions: [{ kind: 'point', labelId: 'nodule', x: 5, y: 100.5 }] }],
      ['REGION_OUTSIDE_IMAGE', { imageId: B, regions: [{ kind: 'polygon', labelId: 'nodule', points: [{ x: 1, y: 1 }, { x: 2, y: 2 }, { x: 300, y: 2 }] }] }],
      ['UNKNOWN_LABEL', { imageId: B, labels: [{ labelId: 'fracture', present: true }] }],
      ['UNKNOWN_LABEL', { imageId: B, regions: [{ kind: 'point', labelId: 'fracture', x: 5, y: 5 }] }],
      ['IMAGE_NOT_OPEN', { imageId: 'd'.repeat(64) }],
      ['NOT_FOUND', { imageId: B, resultId }],
      ['NOT_FOUND', { imageId: A, resultId: resultId + 100 }],
    ];
    const before = [count(store, 'reviews'), auditCount(store.db)];
    for (const [code, input] of cases) {
      expect(() => reviews.saveReview(input, 'Ann Baker', LABELS), JSON.stringify(input).slice(0, 120)).toThrow(expect.objectContaining({ code }));
    }
    expect(() => reviews.setFlag('d'.repeat(64), true, 'Ann Baker')).toThrow(expect.objectContaining({ code: 'IMAGE_NOT_OPEN' }));
    expect(() => reviews.worklist({ status: 'done' }, 'Ann Baker')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => reviews.decide({ imageId: A, labelId: 'opacity', present: true, note: '' }, 'Ann Baker')).toThrow(expect.objectContaining({ code: 'NOT_ADJUDICATOR' }));
    expect([count(store, 'reviews'), auditCount(store.db)]).toEqual(before);
    expect(count(store, 'adjudications') + count(store, 'case_flags')).toBe(0);
  });
});

describe('worklist', () => {
  it('gives status, time per case, progress, and filters by status, label and model–reader disagreement', async () => {
    const { reviews, resultId } = await setup();
    expect(reviews.worklist({}, 'Ann').progress).toEqual({ done: 0, total: 3 });
    // Model says opacity positive on A; the reader says it is absent: a disagreement.
    reviews.saveReview({ imageId: A, resultId, labels: [{ labelId: 'opacity', present: false }], timeSpentMs: 12_000 }, 'Ann', LABELS);
    reviews.saveReview({ imageId: B, labels: [{ labelId: 'nodule', present: true }], timeSpentMs: 8_000 }, 'Ann', LABELS);
    reviews.setFlag(C, true, 'Ann');
    const all = reviews.worklist({}, 'Ann');
    expect(all.progress).toEqual({ done: 3, total: 3 });
    expect(all.cases.map((c) => [c.fileName, c.status, c.timeSpentMs, c.disagreement])).toEqual([
      ['a.png', 'read', 12_000, true],
      ['b.png', 'read', 8_000, false],
      ['c.png', 'flagged', 0, false],
    ]);
    expect(all.cases[0]).toMatchObject({ modelPositive: ['opacity'], readerPositive: [] });
    expect(reviews.worklist({ status: 'flagged' }, 'Ann').cases.map((c) => c.fileName)).toEqual(['c.png']);
    expect(reviews.worklist({ disagreement: true }, 'Ann').cases.map((c) => c.fileName)).toEqual(['a.png']);
    expect(reviews.worklist({ labelId: 'nodule' }, 'Ann').cases.map((c) => c.fileName)).toEqual(['b.png']);
    // Another reader's worklist is their own.
    expect(reviews.worklist({ status: 'unread' }, 'Bob').cases).toHaveLength(3);
    reviews.setFlag(C, false, 'Ann');
    expect(reviews.worklist({}, 'Ann').cases[2]!.status).toBe('unread');
  });
});

describe('agreement and adjudication', () => {
  it("gives Cohen's kappa for two readers, Fleiss' for three, model agreement, and an adjudication queue", async () => {
    const { store, reviews, resultId } = await setup();
    const call = (reader: string, imageId: string, nodule: boolean) =>
      reviews.saveReview({ imageId, resultId: imageId === A ? resultId : null, labels: [{ labelId: 'nodule', present: nodule }] }, reader, LABELS);
    // Readers 1 and 2: agree on A and B, differ on C. 2×2 over 3 cases: po = 2/3.
    call('r1', A, true);
    call('r1', B, false);
    call('r1', C, true);
    call('r2', A, true);
    call('r2', B, false);
    call('r2', C, false);
    let s = reviews.agreement();
    const nodule = s.labels.find((l) => l.labelId === 'nodule')!;
    // r1 yes 2/3, r2 yes 1/3: pe = 2/9 + 2/9 = 4/9; κ = (2/3 − 4/9)/(5/9) = 0.4.
    expect(nodule).toMatchObject({ method: 'cohen', raters: ['r1', 'r2'], cases: 3, kappaCases: 3 });
    expect(nodule.rawAgreement).toBeCloseTo(2 / 3, 12);
    expect(nodule.kappa).toBeCloseTo(0.4, 12);
    // The model said nodule absent on A; both readers say present (one pair: pₒ = pₑ = 0, κ = 0).
    expect(nodule.modelVsReader).toEqual([
      { reader: 'r1', cases: 1, agreement: 0, kappa: 0 },
      { reader: 'r2', cases: 1, agreement: 0, kappa: 0 },
    ]);
    let queue = reviews.adjudicationQueue();
    expect(queue.items.map((i) => [i.fileName, i.labelId, i.votes.length])).toEqual([['c.png', 'nodule', 2]]);
    expect(queue.pending).toBe(1);

    call('r3', A, true);
    call('r3', B, true);
    call('r3', C, false);
    s = reviews.agreement();
    // Rows (absent, present): A (0,3), B (2,1), C (2,1): P̄ = (1 + 1/3 + 1/3)/3 = 5/9; p = (4/9, 5/9): pe = 41/81; κ = (45/81 − 41/81)/(40/81) = 0.1.
    expect(s.labels.find((l) => l.labelId === 'nodule')).toMatchObject({ method: 'fleiss', raters: ['r1', 'r2', 'r3'] });
    expect(s.labels.find((l) => l.labelId === 'nodule')!.kappa).toBeCloseTo(0.1, 12);
    queue = reviews.adjudicationQueue();
    expect(queue.items.map((i) => i.fileName)).toEqual(['b.png', 'c.png']);

    const r1 = reviews.createReader({ name: 'r1', role: 'clinician' }, 'os');
    reviews.setAdjudicator(r1.readerId, 'os');
    expect(() => reviews.decide({ imageId: B, labelId: 'nodule', present: false, note: '' }, 'r2')).toThrow(expect.objectContaining({ code: 'NOT_ADJUDICATOR' }));
    expect(() => reviews.decide({ imageId: A, labelId: 'nodule', present: false, note: '' }, 'r1')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    const decided = reviews.decide({ imageId: B, labelId: 'nodule', present: false, note: 'no nodule on review' }, 'r1');
    expect(decided.final).toMatchObject({ present: false, reader: 'r1', note: 'no nodule on review' });
    queue = reviews.adjudicationQueue();
    expect(queue.pending).toBe(1);
    expect(queue.items.map((i) => [i.fileName, i.final?.present ?? null])).toEqual([
      ['c.png', null],
      ['b.png', false],
    ]);
    expect(auditCount(store.db, 'adjudication')).toBe(1);
  });
});

describe('heatmap against annotation', () => {
  it('scores boxes drawn for positive labels against the stored Grad-CAM', async () => {
    const { reviews, resultId } = await setup();
    // The CAM is hot in cells 0..1 of 4: x in [0, 100), y in [0, 50) of a 200 × 100 image.
    reviews.saveReview(
      {
        imageId: A,
        resultId,
        labels: [
          { labelId: 'opacity', present: true },
          { labelId: 'nodule', present: true },
          { labelId: 'effusion', present: false },
        ],
        regions: [
          { kind: 'box', labelId: 'opacity', x0: 0, y0: 0, x1: 100, y1: 50 },
          { kind: 'box', labelId: 'nodule', x0: 150, y0: 60, x1: 200, y1: 100 },
          // A region for a label the reader called absent is not scored.
          { kind: 'box', labelId: 'effusion', x0: 0, y0: 0, x1: 100, y1: 50 },
        ],
      },
      'Ann',
      LABELS,
    );
    const report = reviews.camOverlap();
    expect(report.cases.map((c) => [c.labelId, c.hit])).toEqual([
      ['opacity', true],
      ['nodule', false],
    ]);
    expect(report.cases[0]!.iou).toBeGreaterThan(0.6);
    expect(report.cases[1]!.iou).toBe(0);
    expect(report.overall).toMatchObject({ regions: 2, pointingGame: 0.5 });
    expect(report.perLabel.map((l) => l.labelId)).toEqual(['nodule', 'opacity']);
  });
});

describe('migration to the review schema', () => {
  it('upgrades a version-2 database in place, keeps its rows, takes a backup, and learns image sizes on the next open', async () => {
    const dir = tmp();
    const file = path.join(dir, 'db.sqlite');
    const raw = new Database(file);
    for (const sql of MIGRATIONS.slice(0, 2)) raw.exec(sql);
    raw.pragma('user_version = 2');
    raw.prepare("INSERT INTO images (image_id, format, file_name, path, first_seen, last_opened) VALUES (?, 'png', 'old.png', '/old.png', 'then', 'then')").run(A);
    raw.prepare("INSERT INTO feedback (image_id, result_id, label_id, verdict, note, reader, version, saved_at) VALUES (?, NULL, NULL, 'agree', 'kept', 'dr-a', 1, 'then')").run(A);
    raw.close();

    const store = new Store(await openDatabase(file));
    expect(store.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(existsSync(`${file}.before-v${SCHEMA_VERSION}.bak`)).toBe(true);
    expect(store.latestFeedback(A, 'dr-a')).toMatchObject({ note: 'kept' });
    const reviews = new ReviewStore(store);
    // No size yet: a region cannot be checked, so the review is refused until the image is read again.
    expect(store.imageSize(A)).toBeUndefined();
    expect(() => reviews.saveReview({ imageId: A }, 'dr-a', LABELS)).toThrow(expect.objectContaining({ code: 'IMAGE_NOT_OPEN' }));
    store.recordImage(image('a'), '/old.png', 'dr-a');
    expect(store.imageSize(A)).toEqual({ width: 200, height: 100 });
    expect(reviews.saveReview({ imageId: A, labels: [{ labelId: 'opacity', present: true }] }, 'dr-a', LABELS).version).toBe(1);
    store.close();
  });
});
