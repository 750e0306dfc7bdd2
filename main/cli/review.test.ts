// Runs in tests. `resight review` as a researcher runs it, with the built CLI: a folder, a run killed
// mid-way (SIGKILL, as a crash or a power cut) and resumed without redoing or duplicating work, and
// studies from a real Orthanc whose results match the same files reviewed from disk.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../store/database';
import { runCli } from '../testing/cli';
import { repoRoot, samplesDir } from '../testing/fixtures';
import { orthancAvailable, type OrthancServer } from '../testing/orthanc';
import { SAMPLE_DICOM, startSamplePacs } from '../testing/sample-pacs';

const cli = path.join(repoRoot, 'dist', 'cli', 'resight.cjs');
const IMAGES = [...SAMPLE_DICOM, 'cxr-effusion-8bit.png', 'cxr-nodule-16bit.png'];

function folderOf(names: string[], copies = 1): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'resight-review-cli-'));
  for (let c = 0; c < copies; c++) {
    const sub = path.join(dir, `batch-${c}`);
    mkdirSync(sub);
    for (const name of names) copyFileSync(path.join(samplesDir, name), path.join(sub, name));
  }
  return dir;
}

const rows = (csv: string): string[][] => csv.trim().split('\n').map((l) => l.split(','));

describe('resight review', () => {
  it('reviews a folder: results.csv, CAM PNGs for positive labels, the case-review bundle', async () => {
    const dir = folderOf(IMAGES);
    const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'resight-review-out-')), 'run');
    const r = await runCli('review', dir, '--out', out, '--provider', 'cpu', '--threads', '1');
    expect(r.stderr).toContain(`reviewed ${IMAGES.length}/${IMAGES.length}`);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`reviewed ${IMAGES.length} of ${IMAGES.length} images with resnet18-cxr-phantom`));
    const csv = rows(readFileSync(path.join(out, 'results.csv'), 'utf8'));
    expect(csv[0]!.slice(0, 4)).toEqual(['file', 'label', 'probability', 'positive']);
    expect(csv.length - 1).toBe(IMAGES.length * 4);
    const positives = csv.slice(1).filter((c) => c[3] === '1');
    expect(positives.length).toBeGreaterThan(0);
    for (const p of positives) expect(existsSync(path.join(out, p[9]!))).toBe(true);
    expect(readdirSync(path.join(out, 'cams'))).toHaveLength(positives.length);
    const bundle = unzipSync(readFileSync(path.join(out, 'case-review.zip')));
    expect(Object.keys(bundle)).toEqual(expect.arrayContaining(['manifest.json', 'cases.csv', 'report.html']));
    // A second run over the same output folder is refused unless it resumes.
    const again = await runCli('review', dir, '--out', out);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^error REVIEW_FAILED: .*--resume/m);
  });

  it('resumes after being killed mid-run: every image once, none redone', async () => {
    const dir = folderOf(IMAGES, 4);
    const total = IMAGES.length * 4;
    const out = mkdtempSync(path.join(os.tmpdir(), 'resight-review-kill-'));
    const child = spawn(process.execPath, [cli, 'review', dir, '--out', out, '--provider', 'cpu', '--threads', '1', '--batch-size', '2', '--no-bundle']);
    let stderr = '';
    await new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        // Killed once some, but not all, batches are committed.
        if (/reviewed [4-9]\//.test(stderr) && child.exitCode === null) child.kill('SIGKILL');
      });
      child.on('exit', () => resolve());
      child.on('error', reject);
    });
    expect(child.signalCode).toBe('SIGKILL');
    const db = await openDatabase(path.join(out, 'review.sqlite'));
    const before = (db.prepare('SELECT COUNT(*) AS n FROM batch_items').get() as { n: number }).n;
    db.close();
    expect(before).toBeGreaterThanOrEqual(4);
    expect(before).toBeLessThan(total);

    const r = await runCli('review', dir, '--out', out, '--resume', '--provider', 'cpu', '--threads', '1', '--no-bundle');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`reviewed ${total} of ${total} images`);
    expect(r.stdout).toContain(`(${before} from an earlier run)`);
    const after = await openDatabase(path.join(out, 'review.sqlite'));
    expect(after.prepare('SELECT COUNT(*) AS n FROM model_results').get()).toEqual({ n: total });
    expect(after.prepare('SELECT COUNT(DISTINCT item_key) AS n FROM batch_items').get()).toEqual({ n: total });
    after.close();
    expect(rows(readFileSync(path.join(out, 'results.csv'), 'utf8')).length - 1).toBe(total * 4);
  });

  it('refuses unclear targets with a sentence', async () => {
    const r = await runCli('review', '--out', mkdtempSync(path.join(os.tmpdir(), 'resight-review-bad-')));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error INVALID_ARGUMENT: Give either a folder/m);
    const missing = await runCli('review', path.join(os.tmpdir(), 'no-such-folder-resight'), '--out', mkdtempSync(path.join(os.tmpdir(), 'resight-review-bad-')));
    expect(missing.stderr).toMatch(/^error FILE_NOT_FOUND: /m);
  });
});

describe.skipIf(!orthancAvailable())('resight review --pacs (Orthanc)', () => {
  let pacs: OrthancServer;
  beforeAll(async () => {
    pacs = await startSamplePacs();
  }, 60_000);
  afterAll(async () => pacs?.stop());

  it('retrieves the studies, reviews every instance, and agrees with the same files read from disk', async () => {
    const studies = (await (await fetch(`${pacs.url}studies`, { headers: { authorization: `Basic ${Buffer.from(`${pacs.user}:${pacs.password}`).toString('base64')}` } })).json()) as Array<
      Record<string, { Value: string[] }>
    >;
    const uids = studies.map((s) => s['0020000D']!.Value[0]!);
    const out = mkdtempSync(path.join(os.tmpdir(), 'resight-review-pacs-'));
    const env = { ...process.env, RESIGHT_PACS_PASSWORD: pacs.password };
    const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [cli, 'review', '--pacs', pacs.url, '--study', ...uids, '--user', pacs.user, '--out', out, '--provider', 'cpu', '--threads', '1'], { env });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('exit', (code) => resolve({ code, stdout, stderr }));
    });
    expect(r.stderr).not.toContain(pacs.password);
    expect({ code: r.code, stderr: r.stderr.split('\n').filter((l) => l.startsWith('error') || l.startsWith('failed')) }).toEqual({ code: 0, stderr: [] });
    const fromPacs = rows(readFileSync(path.join(out, 'results.csv'), 'utf8'));
    expect(fromPacs[0]![0]).toBe('sop_instance_uid');
    expect(fromPacs.length - 1).toBe(SAMPLE_DICOM.length * 4);
    expect(fromPacs.slice(1).every((row) => /^[0-9.]+$/.test(row[0]!))).toBe(true);

    const local = mkdtempSync(path.join(os.tmpdir(), 'resight-review-local-'));
    expect((await runCli('review', folderOf(SAMPLE_DICOM), '--out', local, '--provider', 'cpu', '--threads', '1', '--no-bundle')).code).toBe(0);
    const fromDisk = rows(readFileSync(path.join(local, 'results.csv'), 'utf8'));
    // Same pixels, same model: per label, the same probabilities (the PACS may rewrite file headers,
    // so files are matched by what the model saw, not by their bytes).
    const perLabel = (table: string[][]): Record<string, string[]> => {
      const by: Record<string, string[]> = {};
      for (const row of table.slice(1)) (by[row[1]!] ??= []).push(row[2]!);
      for (const list of Object.values(by)) list.sort();
      return by;
    };
    expect(perLabel(fromPacs)).toEqual(perLabel(fromDisk));
  });
});
