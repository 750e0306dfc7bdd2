// Runs in tests. exportCases on a real SQLite store with real images: a DICOM study carrying
// identifying values, one marked as having burned-in annotation, and a PNG with EXIF text. Every
// entry of every export is decompressed and searched for the identifying values; the database's
// bytes must not change.
import Database from 'better-sqlite3-multiple-ciphers';
import { unzipSync } from 'fflate';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CamMap, Finding } from '../../preload/api';
import { loadImage } from '../imaging/load';
import { auditCount } from '../store/audit';
import { MIGRATIONS, openDatabase } from '../store/database';
import { Store } from '../store/repositories';
import { ReviewStore } from '../store/reviews';
import { samplesDir } from '../testing/fixtures';
import { exportCases } from './bundle';
import { CocoDocument } from './coco';
import { Manifest } from './manifest';

const LABELS = ['opacity', 'nodule', 'effusion', 'cardiomegaly'];
const IDENTIFYING = ['DOE^JANE', 'MRN-7734521', '19700101', 'ACC-99812', 'SMITH^JOHN', 'SMITH_JOHN', 'DOE_JANE'];

const finding = (labelId: string, probability: number): Finding => ({ labelId, name: `${labelId} name`, probability, logit: 0, threshold: 0.5, positive: probability >= 0.5 });
/** A 4 × 4 CAM over the whole image, hot in its top-left quarter. */
const cam = (labelId: string, width: number, height: number): CamMap => ({
  labelId,
  method: 'gradcam',
  width: 4,
  height: 4,
  values: Array.from({ length: 16 }, (_, i) => (i % 4 < 2 && i < 8 ? 1 : 0)),
  rawMax: 1,
  extent: { x0: 0, y0: 0, x1: width, y1: height },
});

const dump = (file: string, tag: string): string => /\[(.*?)\]/.exec(execFileSync('dcmdump', ['+P', tag, file], { encoding: 'utf8' }))![1]!;
const sha = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');
const entries = (zip: string): Record<string, Uint8Array> => unzipSync(new Uint8Array(readFileSync(zip)));

function pngTextChunks(png: Uint8Array): string[] {
  const found: string[] = [];
  const view = Buffer.from(png);
  for (let at = 8; at + 8 <= view.length; ) {
    const length = view.readUInt32BE(at);
    const type = view.toString('latin1', at + 4, at + 8);
    if (['tEXt', 'zTXt', 'iTXt', 'eXIf', 'iCCP'].includes(type)) found.push(type);
    at += 12 + length;
  }
  return found;
}

let dir: string;
let db: string;
let dicomFile: string;
let originalUids: string[];
let imageIds: string[];

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'resight-export-'));
  // File names that are themselves identifying: none may reach the export. The samples are marked
  // BurnedInAnnotation YES; this copy says NO so it can be exported.
  dicomFile = path.join(dir, 'DOE^JANE MRN-7734521.dcm');
  copyFileSync(path.join(samplesDir, 'cxr-opacity-dx.dcm'), dicomFile);
  execFileSync('dcmodify', ['-nb', '-m', '(0010,0010)=DOE^JANE', '-m', '(0010,0020)=MRN-7734521', '-m', '(0010,0030)=19700101', '-m', '(0008,0050)=ACC-99812', '-m', '(0028,0301)=NO', dicomFile]);
  originalUids = ['0008,0018', '0020,000d', '0020,000e'].map((t) => dump(dicomFile, t));
  const burned = path.join(dir, 'DOE_JANE burned.dcm');
  copyFileSync(path.join(samplesDir, 'cxr-normal-cr.dcm'), burned);
  execFileSync('dcmodify', ['-nb', '-m', '(0010,0010)=DOE^JANE', '-m', '(0028,0301)=YES', burned]);
  const png = path.join(dir, 'SMITH_JOHN.png');
  await sharp(readFileSync(path.join(samplesDir, 'cxr-effusion-8bit.png')))
    .withExif({ IFD0: { ImageDescription: 'SMITH^JOHN MRN-7734521' } })
    .png()
    .toFile(png);

  db = path.join(dir, 'resight.sqlite');
  const store = new Store(await openDatabase(db));
  const reviews = new ReviewStore(store);
  const ids: string[] = [];
  const results: number[] = [];
  for (const [file, probs] of [
    [dicomFile, [0.91, 0.62, 0.1, 0.2]],
    [burned, [0.1, 0.1, 0.1, 0.8]],
    [png, [0.3, 0.05, 0.88, 0.1]],
  ] as const) {
    const image = await loadImage(file);
    store.recordImage(image.info, file, 'os-user');
    ids.push(image.info.imageId);
    const { width, height } = image.info;
    results.push(
      store.saveResult(
        {
          imageId: image.info.imageId,
          frame: 0,
          modelId: 'resnet18-test',
          modelVersion: '1.2.3',
          modelSha256: 'ab'.repeat(32),
          providerRequested: 'auto',
          providerUsed: 'cpu',
          findings: LABELS.map((l, i) => finding(l, probs[i]!)),
          cams: Object.fromEntries(LABELS.map((l) => [l, cam(l, width, height)])),
          inferenceMs: 12,
        },
        'os-user',
      ).resultId,
    );
  }
  imageIds = ids;
  const [dcm, , pngId] = ids as [string, string, string];
  reviews.saveReview(
    {
      imageId: dcm,
      resultId: results[0]!,
      labels: [
        { labelId: 'opacity', present: true },
        { labelId: 'nodule', present: true },
      ],
      regions: [
        { kind: 'box', labelId: 'opacity', x0: 0, y0: 0, x1: 320, y1: 192 },
        { kind: 'polygon', labelId: 'nodule', points: [{ x: 10, y: 10 }, { x: 110, y: 10 }, { x: 10, y: 60 }] },
        { kind: 'point', labelId: 'nodule', x: 400, y: 500 },
      ],
      note: 'Mrs DOE^JANE, see previous film',
      sign: true,
    },
    'Dr Adams',
    LABELS,
  );
  reviews.saveReview({ imageId: dcm, resultId: results[0]!, labels: [{ labelId: 'opacity', present: true }, { labelId: 'nodule', present: false }] }, 'Dr Baker', LABELS);
  reviews.saveReview({ imageId: pngId, resultId: results[2]!, labels: [{ labelId: 'effusion', verdict: 'agree' }, { labelId: 'opacity', present: false }] }, 'Dr Adams', LABELS);
  const adams = reviews.createReader({ name: 'Dr Adams', role: 'clinician' }, 'os-user');
  reviews.setAdjudicator(adams.readerId, 'os-user');
  reviews.decide({ imageId: dcm, labelId: 'nodule', present: false, note: 'DOE^JANE: no nodule' }, 'Dr Adams');
  store.saveFeedback({ imageId: dcm, resultId: results[0]!, labelId: null, verdict: 'agree', note: 'MRN-7734521 ok' }, 'Dr Adams');
  store.close();
});

function expectClean(files: Record<string, Uint8Array>): void {
  for (const [name, bytes] of Object.entries(files)) {
    const text = Buffer.from(bytes).toString('latin1');
    for (const value of [...IDENTIFYING, ...originalUids, dir]) {
      expect(name.includes(value), `${value} in the name ${name}`).toBe(false);
      expect(text.includes(value), `${value} in ${name}`).toBe(false);
    }
    if (name.endsWith('.png')) expect(pngTextChunks(bytes), name).toEqual([]);
  }
}

describe('case-review bundle', () => {
  it('writes manifest, cases.csv, report.html, de-identified images and overlays, and leaves the database untouched', async () => {
    const before = sha(db);
    const out = path.join(dir, 'bundle.zip');
    const summary = await exportCases(db, out);
    expect(summary).toEqual({ cases: 2, excluded: [{ case: 'case-0002', reason: 'burned-in annotation' }], out, format: 'bundle' });
    expect(sha(db)).toBe(before);
    expect(readdirSync(dir).filter((f) => f.includes('.partial-'))).toEqual([]);

    const files = entries(out);
    expect(Object.keys(files).sort()).toEqual([
      'cases.csv',
      'images/case-0001.dcm',
      'images/case-0003.png',
      'manifest.json',
      'overlays/case-0001.nodule.png',
      'overlays/case-0001.opacity.png',
      'overlays/case-0003.effusion.png',
      'report.html',
    ]);
    expectClean(files);

    const manifest = Manifest.parse(JSON.parse(Buffer.from(files['manifest.json']!).toString('utf8')));
    expect(manifest).toMatchObject({ schema: 'resight.case-review/1', identified: false, format: 'bundle', readers: ['Dr Adams', 'Dr Baker'] });
    expect(manifest.app.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(manifest.deidentification.method).toMatch(/PS3\.15/);
    expect(manifest.models).toEqual([{ id: 'resnet18-test', version: '1.2.3', sha256: 'ab'.repeat(32), provider: 'cpu' }]);
    const [c1, c3] = manifest.cases;
    expect(c1).toMatchObject({ case: 'case-0001', format: 'dicom', image: 'images/case-0001.dcm', width: 640, height: 768 });
    expect(c1!.source).toBeUndefined();
    // Workflow times would date the study that the DICOM date shift hides.
    expect([c1!.result!.createdAt, c1!.reviews[0]!.savedAt, c1!.adjudications[0]!.decidedAt, c1!.feedback[0]!.savedAt]).toEqual([undefined, undefined, undefined, undefined]);
    expect(c1!.reviews.map((r) => [r.reader, r.signed, r.note])).toEqual([
      ['Dr Adams', true, undefined],
      ['Dr Baker', false, undefined],
    ]);
    expect(c1!.reference).toEqual([
      { labelId: 'opacity', present: true, source: 'unanimous' },
      { labelId: 'nodule', present: false, source: 'adjudicated' },
    ]);
    expect(c1!.camOverlap.map((o) => [o.labelId, o.regionKind, o.hit])).toEqual([
      ['opacity', 'box', true],
      // The CAM's peak is at the image's top-left corner, just outside the triangle.
      ['nodule', 'polygon', false],
    ]);
    expect(c3).toMatchObject({ case: 'case-0003', format: 'png', image: 'images/case-0003.png' });
    expect(c3!.reference).toEqual([
      { labelId: 'opacity', present: false, source: 'unanimous' },
      { labelId: 'effusion', present: true, source: 'unanimous' },
    ]);
    // Opacity: case 1 present at 0.91, case 3 absent at 0.3 → AUROC 1, both called right.
    expect(manifest.metrics.find((m) => m.labelId === 'opacity')).toMatchObject({ cases: 2, positives: 1, auroc: 1, sensitivity: 1, specificity: 1, reference: { unanimous: 2 } });
    // Nodule: adjudicated absent, but the model called it positive (0.62).
    expect(manifest.metrics.find((m) => m.labelId === 'nodule')).toMatchObject({ cases: 1, positives: 0, auroc: null, sensitivity: null, specificity: 0, reference: { adjudicated: 1 } });
    const nodule = manifest.agreement.find((a) => a.labelId === 'nodule')!;
    expect(nodule).toMatchObject({ raters: ['Dr Adams', 'Dr Baker'], cases: 1, rawAgreement: 0, method: 'cohen' });

    // The DICOM still opens, de-identified, at its size.
    const exported = path.join(dir, 'exported.dcm');
    writeFileSync(exported, files['images/case-0001.dcm']!);
    expect((await loadImage(exported)).info).toMatchObject({ width: 640, height: 768 });
    expect(dump(exported, '0012,0062')).toBe('YES');
    // The PNG keeps its pixels and nothing else.
    const original = await sharp(readFileSync(path.join(samplesDir, 'cxr-effusion-8bit.png'))).raw().toBuffer();
    expect(Buffer.compare(await sharp(files['images/case-0003.png']!).raw().toBuffer(), original)).toBe(0);
    // Overlays are at image resolution.
    expect(await sharp(files['overlays/case-0001.opacity.png']!).metadata()).toMatchObject({ width: 640, height: 768 });

    const csv = Buffer.from(files['cases.csv']!).toString('utf8').trim().split('\r\n');
    expect(csv[0]).toBe('case,label_id,label_name,model_id,model_version,probability,threshold,positive,reader:Dr Adams,reader:Dr Baker,adjudicated,reference,reference_source,regions,pointing_game,iou');
    expect(csv.filter((l) => l.startsWith('case-0001,'))).toHaveLength(4);
    expect(csv.find((l) => l.startsWith('case-0001,nodule,'))).toMatch(/^case-0001,nodule,nodule name,resnet18-test,1\.2\.3,0\.62,0\.5,true,present,absent,absent,absent,adjudicated,1,0,0\.\d+$/);
    expect(csv.find((l) => l.startsWith('case-0003,effusion,'))).toMatch(/,true,present,,,present,unanimous,,,$/);

    const html = Buffer.from(files['report.html']!).toString('utf8');
    expect(html).toContain('AUROC');
    expect(html).toMatch(/Reference standard: adjudicated labels where recorded, otherwise reader consensus/);
    expect(html).toContain("Cohen's");
    expect(html).toContain('resnet18-test 1.2.3');
    expect(html.match(/src="data:image\/png;base64,/g)).toHaveLength(2);
    // Self-contained: nothing fetched from anywhere.
    expect(html).not.toMatch(/(src|href)="(?!data:)/);
    expect(html).not.toMatch(/url\(|@import|https?:\/\//);
  });

  it('keeps identifying data only when asked (--identified), and exports burned-in images only with allowBurnedIn', async () => {
    const out = path.join(dir, 'identified.zip');
    const summary = await exportCases(db, out, { identified: true, allowBurnedIn: true });
    expect(summary).toMatchObject({ cases: 3, excluded: [] });
    const files = entries(out);
    expect(Buffer.compare(files['images/case-0001.dcm']!, readFileSync(dicomFile))).toBe(0);
    const manifest = Manifest.parse(JSON.parse(Buffer.from(files['manifest.json']!).toString('utf8')));
    expect(manifest).toMatchObject({ identified: true, deidentification: { method: null } });
    expect(manifest.cases[0]!.source?.fileName).toBe(path.basename(dicomFile));
    expect(manifest.cases[0]!.reviews[0]!.note).toBe('Mrs DOE^JANE, see previous film');
    expect(manifest.cases[0]!.reviews[0]!.savedAt).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    // File names inside the zip stay case numbers even here.
    expect(Object.keys(files).every((n) => !n.includes('DOE'))).toBe(true);
    // The search that passes the de-identified exports finds what is there.
    expect(() => expectClean(files)).toThrow(/DOE\^JANE/);
  });

  it('writes COCO annotations in image pixels, with points as keypoints and 1 px boxes', async () => {
    const out = path.join(dir, 'coco.zip');
    expect(await exportCases(db, out, { format: 'coco' })).toMatchObject({ cases: 2, format: 'coco' });
    const files = entries(out);
    expect(Object.keys(files).sort()).toEqual(['annotations.json', 'images/case-0001.dcm', 'images/case-0003.png', 'manifest.json']);
    expectClean(files);
    const coco = CocoDocument.parse(JSON.parse(Buffer.from(files['annotations.json']!).toString('utf8')));
    expect(coco.images).toEqual([
      { id: 1, file_name: 'images/case-0001.dcm', width: 640, height: 768 },
      { id: 2, file_name: 'images/case-0003.png', width: expect.any(Number), height: expect.any(Number) },
    ]);
    expect(coco.categories.map((c) => [c.id, c.name])).toEqual(LABELS.map((l, i) => [i + 1, l]));
    const [box, polygon, point] = coco.annotations;
    expect(box).toMatchObject({ image_id: 1, category_id: 1, bbox: [0, 0, 320, 192], area: 320 * 192, iscrowd: 0, attributes: { reader: 'Dr Adams', kind: 'box', call: 'present' } });
    expect(polygon).toMatchObject({ category_id: 2, bbox: [10, 10, 100, 50], area: 2500, segmentation: [[10, 10, 110, 10, 10, 60]] });
    expect(point).toMatchObject({ category_id: 2, bbox: [399.5, 499.5, 1, 1], area: 1, keypoints: [400, 500, 2], num_keypoints: 1 });
  });

  it('writes one de-identified Comprehensive SR per DICOM case with a result, naming the model', async () => {
    const out = path.join(dir, 'sr.zip');
    // The SR carries no pixels, so the burned-in image's findings can still be reported.
    expect(await exportCases(db, out, { format: 'sr' })).toMatchObject({ cases: 2, excluded: [{ case: 'case-0003' }], format: 'sr' });
    const files = entries(out);
    expect(Object.keys(files).sort()).toEqual(['manifest.json', 'sr/case-0001.dcm', 'sr/case-0002.dcm']);
    expectClean(files);
    const sr = path.join(dir, 'exported-sr.dcm');
    writeFileSync(sr, files['sr/case-0001.dcm']!);
    expect(dump(sr, '0012,0062')).toBe('YES');
    const text = execFileSync('dcmdump', ['+L', sr], { encoding: 'utf8' });
    expect(text).toMatch(/\(0008,0016\) UI =ComprehensiveSRStorage/);
    expect(text).toContain('resnet18-test');
    expect(text).toContain(`onnx sha256=${'ab'.repeat(32)}`);
  });

  it('exports from a database an older Resight wrote, without migrating it in place', async () => {
    const old = path.join(dir, 'old.sqlite');
    const raw = new Database(old);
    for (const sql of MIGRATIONS.slice(0, 2)) raw.exec(sql);
    raw.pragma('user_version = 2');
    raw.prepare("INSERT INTO images (image_id, format, file_name, path, first_seen, last_opened) VALUES (?, 'png', 'SMITH_JOHN.png', ?, 'then', 'then')").run(imageIds[2], path.join(dir, 'SMITH_JOHN.png'));
    raw
      .prepare(
        `INSERT INTO model_results (image_id, frame, model_id, model_version, model_sha256, provider_requested, provider_used, findings_json, cams_json, inference_ms, created_at)
         VALUES (?, 0, 'm', '1', ?, 'cpu', 'cpu', ?, '{}', 1, 'then')`,
      )
      .run(imageIds[2], 'e'.repeat(64), JSON.stringify([finding('effusion', 0.8)]));
    raw.close();
    const before = sha(old);
    expect(await exportCases(old, path.join(dir, 'old.zip'))).toMatchObject({ cases: 1, excluded: [] });
    expect(sha(old)).toBe(before);
    expect(readdirSync(dir).filter((f) => f.startsWith('old.sqlite'))).toEqual(['old.sqlite']);
  });

  it('refuses a missing database without creating it, and an empty one with NOTHING_TO_EXPORT', async () => {
    const missing = path.join(dir, 'nope.sqlite');
    await expect(exportCases(missing, path.join(dir, 'x.zip'))).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
    expect(existsSync(missing)).toBe(false);
    const empty = path.join(dir, 'empty.sqlite');
    (await openDatabase(empty)).close();
    await expect(exportCases(empty, path.join(dir, 'y.zip'))).rejects.toMatchObject({ code: 'NOTHING_TO_EXPORT' });
    expect(existsSync(path.join(dir, 'y.zip'))).toBe(false);
    // A subset with nothing an SR can carry (one PNG case): refused, and the half-written zip removed.
    await expect(exportCases(db, path.join(dir, 'z.zip'), { format: 'sr', imageIds: [imageIds[2]!] })).rejects.toMatchObject({ code: 'NOTHING_TO_EXPORT' });
    expect(readdirSync(dir).filter((f) => f.startsWith('z.zip'))).toEqual([]);
    // A subset keeps its own case numbering and agreement.
    const subset = await exportCases(db, path.join(dir, 'subset.zip'), { imageIds: [imageIds[2]!] });
    expect(subset).toMatchObject({ cases: 1, excluded: [] });
    const manifest = Manifest.parse(JSON.parse(Buffer.from(entries(path.join(dir, 'subset.zip'))['manifest.json']!).toString('utf8')));
    expect(manifest.cases.map((c) => [c.case, c.format])).toEqual([['case-0001', 'png']]);
    expect(manifest.agreement.map((a) => a.labelId)).toEqual(['effusion', 'opacity']);
    await expect(exportCases(db, db)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const store = new Store(await openDatabase(db));
    const audit = auditCount(store.db);
    store.close();
    await exportCases(db, path.join(dir, 'again.zip'), { format: 'coco' });
    const after = new Store(await openDatabase(db));
    expect(auditCount(after.db)).toBe(audit);
    after.close();
  });
});
