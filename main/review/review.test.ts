// Runs in tests. Batch review over a real folder through the real host process and a real SQLite
// file: every image × label in results.csv, a CAM PNG per positive label, and a paused run that
// resumes without redoing or duplicating any completed item.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { HostClient } from '../inference/host/client';
import { forkSpawner } from '../inference/host/fork';
import { ModelRegistry } from '../inference/registry';
import { openDatabase } from '../store/database';
import { hostEntry, modelsDir, repoRoot, samplesDir } from '../testing/fixtures';
import { camFileName, resultsCsv, runReview, type ReviewOptions } from './review';
import { localItems } from './sources';

const client = new HostClient(forkSpawner(hostEntry));
afterAll(() => client.close());

const SAMPLES = ['cxr-cardiomegaly-effusion-cr.dcm', 'cxr-normal-cr.dcm', 'cxr-opacity-dx.dcm', 'cxr-effusion-8bit.png', 'cxr-nodule-16bit.png'];

/** A dataset folder with sub-folders, one unreadable file, and one image twice under two names. */
function dataset(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'resight-review-'));
  mkdirSync(path.join(dir, 'site-a', 'day-1'), { recursive: true });
  mkdirSync(path.join(dir, 'site-b'), { recursive: true });
  SAMPLES.forEach((name, i) => copyFileSync(path.join(samplesDir, name), path.join(dir, i % 2 ? 'site-b' : 'site-a/day-1', name)));
  copyFileSync(path.join(samplesDir, SAMPLES[0]!), path.join(dir, 'site-b', 'copy-of-first.dcm'));
  writeFileSync(path.join(dir, 'site-b', 'notes.txt'), 'not an image');
  return dir;
}

async function options(out: string, extra: Partial<ReviewOptions> = {}): Promise<ReviewOptions> {
  return {
    out,
    model: await new ModelRegistry([modelsDir]).active(),
    engine: client,
    settings: { provider: 'cpu', threads: 1 },
    cam: 'gradcam',
    resume: false,
    actor: 'batch review',
    batchSize: 2,
    ...extra,
  };
}

function parseCsv(text: string): string[][] {
  return text.trim().split('\n').map((l) => l.split(','));
}

describe('batch review', () => {
  it('writes every image × label, CAM PNGs for positive labels, and results the store keeps', async () => {
    const dir = dataset();
    const out = mkdtempSync(path.join(os.tmpdir(), 'resight-review-out-'));
    const items = await localItems(dir);
    expect(items).toHaveLength(SAMPLES.length + 1);
    const opts = await options(out);
    const outcome = await runReview(items, opts);
    expect(outcome).toMatchObject({ total: items.length, completed: items.length, resumed: 0, paused: false, failed: [] });
    // The duplicate file is one image (same bytes), reviewed under both names.
    expect(outcome.imageIds).toHaveLength(SAMPLES.length);

    const rows = parseCsv(await resultsCsv(items, outcome.dbPath, opts.model));
    expect(rows[0]!.slice(0, 4)).toEqual(['file', 'label', 'probability', 'positive']);
    const labels = opts.model.card.labels.map((l) => l.id);
    expect(rows.length - 1).toBe(items.length * labels.length);
    expect(new Set(rows.slice(1).map((r) => r[0]))).toEqual(new Set(items.map((i) => i.source)));
    expect(rows.slice(1).every((r) => !path.isAbsolute(r[0]!))).toBe(true);

    // The bundled model finds effusion on the effusion sample; its heatmap is written over the image.
    const effusion = rows.find((r) => r[0]!.endsWith('cxr-effusion-8bit.png') && r[1] === 'effusion')!;
    expect(effusion[3]).toBe('1');
    for (const r of rows.slice(1)) {
      const png = path.join(out, 'cams', camFileName(r[5]!, r[1]!));
      expect(existsSync(png)).toBe(r[3] === '1');
      expect(r[9]).toBe(r[3] === '1' ? path.join('cams', camFileName(r[5]!, r[1]!)) : '');
    }
    const meta = await sharp(path.join(out, effusion[9]!)).metadata();
    expect(meta.channels).toBeGreaterThanOrEqual(3);
    expect(Math.max(meta.width!, meta.height!)).toBeGreaterThanOrEqual(2 * opts.model.card.input.width);

    const db = await openDatabase(outcome.dbPath);
    expect(db.prepare('SELECT COUNT(*) AS n FROM model_results').get()).toEqual({ n: items.length });
    expect(db.prepare("SELECT COUNT(*) AS n FROM audit_log WHERE actor = 'batch review' AND action = 'result.create'").get()).toEqual({ n: items.length });
    db.close();
  });

  it('pauses after a batch, refuses to start over the same folder, and resumes without redoing work', async () => {
    const dir = dataset();
    const out = mkdtempSync(path.join(os.tmpdir(), 'resight-review-out-'));
    const items = await localItems(dir);
    const controller = new AbortController();
    const first = await runReview(items, await options(out, { signal: controller.signal, onProgress: (p) => p.done >= 2 && controller.abort() }));
    expect(first.paused).toBe(true);
    // The batch already running when the pause came is finished and committed too.
    expect([2, 4]).toContain(first.completed);

    await expect(runReview(items, await options(out))).rejects.toMatchObject({ code: 'REVIEW_FAILED' });

    const seen: number[] = [];
    const second = await runReview(items, await options(out, { resume: true, onProgress: (p) => seen.push(p.done) }));
    expect(second).toMatchObject({ paused: false, resumed: first.completed, completed: items.length });
    expect(seen[0]).toBe(first.completed);
    const db = await openDatabase(second.dbPath);
    expect(db.prepare('SELECT COUNT(*) AS n FROM model_results').get()).toEqual({ n: items.length });
    expect(db.prepare('SELECT COUNT(*) AS n FROM batch_items').get()).toEqual({ n: items.length });
    db.close();
  });

  it('reviews the images a DICOMDIR lists, named relative to the media', async () => {
    const media = mkdtempSync(path.join(os.tmpdir(), 'resight-review-media-'));
    execFileSync('/usr/bin/python3', [path.join(repoRoot, 'main', 'imaging', 'testdata', 'fixtures.py'), 'series', media]);
    rmSync(path.join(media, 'A', 'NOTES'));
    execFileSync('dcmmkdir', ['+I', '+r', '-q', 'A', 'B', 'C'], { cwd: media });
    const items = await localItems(path.join(media, 'DICOMDIR'));
    expect(items.map((i) => i.source)).toEqual(['A/IM1', 'B/DEEP/ER/IM2', 'A/X/IM3', 'A/CT8', 'C/CT7', 'B/CT9', 'C/ZZ1']);
    const outcome = await runReview(items, await options(mkdtempSync(path.join(os.tmpdir(), 'resight-review-out-'))));
    expect(outcome).toMatchObject({ completed: items.length, failed: [] });
  });

  it('reports an unreadable image in place and goes on', async () => {
    const dir = dataset();
    // A readable header whose pixel data stops half way, as from an interrupted copy.
    const whole = readFileSync(path.join(samplesDir, 'cxr-normal-cr.dcm'));
    writeFileSync(path.join(dir, 'site-a', 'broken.dcm'), whole.subarray(0, Math.floor(whole.length * 0.6)));
    const out = mkdtempSync(path.join(os.tmpdir(), 'resight-review-out-'));
    const items = await localItems(dir);
    const outcome = await runReview(items, await options(out));
    expect(outcome.failed.map((f) => f.source)).toEqual([path.join('site-a', 'broken.dcm')]);
    expect(outcome.completed).toBe(items.length - 1);
  });
});
