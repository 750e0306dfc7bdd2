// Runs in tests. The decode pool keeps the caller's event loop free, and replaces a worker that
// hangs or dies without losing the next request.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { samplesDir } from '../testing/fixtures';
import { DEFAULT_MAX_IMAGE_BYTES } from './image';
import { loadImage } from './load';
import { DecodePool } from './pool';

const dir = mkdtempSync(path.join(os.tmpdir(), 'resight-pool-'));
const pools: DecodePool[] = [];
afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()));
});

function fakeWorker(name: string, body: string): string {
  const file = path.join(dir, `${name}.cjs`);
  writeFileSync(file, `const { parentPort } = require('node:worker_threads');\n${body}\n`);
  return file;
}

const j2k = path.join(dir, 'big-j2k.dcm');
beforeAll(() => {
  const native = path.join(dir, 'big.dcm');
  execFileSync('/usr/bin/python3', [path.join(__dirname, 'testdata', 'fixtures.py'), 'big', native, '1536', '1536']);
  execFileSync('gdcmconv', ['--j2k', native, j2k]);
}, 60_000);

describe('decode pool', () => {
  it('decodes off the main thread: a 5 ms timer keeps firing during a large J2K decode', async () => {
    const pool = new DecodePool({ size: 1 });
    pools.push(pool);
    let last = performance.now();
    let worstGap = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      worstGap = Math.max(worstGap, now - last);
      last = now;
    }, 5);
    const started = performance.now();
    const img = await loadImage(j2k, { pool });
    const took = performance.now() - started;
    clearInterval(timer);
    expect(img.info).toMatchObject({ width: 1536, height: 1536 });
    // The decode takes far longer than any gap the timer saw.
    expect(took).toBeGreaterThan(3 * worstGap);
    expect(worstGap).toBeLessThan(150);
  });

  it('warms up on the bundled JPEG 2000 film, which holds the sample pixels exactly, without taking a request', async () => {
    const warmup = path.join(__dirname, '..', '..', 'assets', 'codec-warmup', 'cxr-normal-cr.j2k.dcm');
    const pool = new DecodePool({ size: 1 });
    pools.push(pool);
    pool.warm();
    pool.warm();
    // Two decodes of the film, reduced and full, in the worker and in the one kept for sized decodes.
    await vi.waitFor(() => expect(pool.warmedDecodes).toBe(8), { timeout: 10_000 });
    expect(pool.workers).toBe(2);
    expect(pool.requests).toBe(0);
    const film = await loadImage(warmup, { pool });
    expect(film.dicom?.transferSyntax).toBe('1.2.840.10008.1.2.4.90');
    const sample = await loadImage(path.join(samplesDir, 'cxr-normal-cr.dcm'), { pool });
    expect(film.frame(0)).toEqual(sample.frame(0));
    expect(pool.requests).toBe(2);
    expect(pool.replaced).toBe(0);
    // Warming again did not make the workers decode the film again.
    expect(pool.warmedDecodes).toBe(8);
  });

  /** A one-worker pool, the 640 × 768 sample, and the order in which named decodes finish. */
  const orderedPool = () => {
    const pool = new DecodePool({ size: 1 });
    pools.push(pool);
    const done: string[] = [];
    const track = (name: string, decoding: Promise<unknown>) => decoding.then(() => done.push(name));
    return { pool, done, track, sample: path.join(samplesDir, 'cxr-normal-cr.dcm') };
  };

  it('serves a sized decode on a worker of its own while a long full decode holds the other', async () => {
    const { pool, done, track, sample } = orderedPool();
    await Promise.all([track('full', pool.decode(j2k, DEFAULT_MAX_IMAGE_BYTES)), track('sized', pool.decodeForSize(sample, DEFAULT_MAX_IMAGE_BYTES, { width: 64, height: 64 }, 0))]);
    expect(done).toEqual(['sized', 'full']);
    expect(pool.workers).toBe(2);
    // Full decodes never take the sized decodes' worker.
    await Promise.all([pool.decode(j2k, DEFAULT_MAX_IMAGE_BYTES), pool.decode(j2k, DEFAULT_MAX_IMAGE_BYTES)]);
    expect(pool.workers).toBe(2);
  });

  it('keeps background sized decodes (thumbnails, batches) behind full decodes and off the kept worker', async () => {
    const { pool, done, track, sample } = orderedPool();
    await Promise.all([
      track('full', pool.decode(j2k, DEFAULT_MAX_IMAGE_BYTES)),
      track('thumbnail', pool.decodeForSize(sample, DEFAULT_MAX_IMAGE_BYTES, { width: 64, height: 64 }, 0, 'background')),
      track('second full', pool.decode(j2k, DEFAULT_MAX_IMAGE_BYTES)),
      track('film', pool.decodeForSize(sample, DEFAULT_MAX_IMAGE_BYTES, { width: 400, height: 400 }, 0)),
    ]);
    expect(done).toEqual(['film', 'full', 'second full', 'thumbnail']);
    expect(pool.workers).toBe(2);
  });

  it('runs the newest full decode first: the film the reader is on, not one they moved past', async () => {
    const { pool, done, track, sample } = orderedPool();
    const full = (name: string, file: string) => track(name, pool.decode(file, DEFAULT_MAX_IMAGE_BYTES));
    await Promise.all([full('running', j2k), full('moved past', j2k), full('on screen', sample)]);
    expect(done).toEqual(['running', 'on screen', 'moved past']);
  });

  it('abandons a hung worker after the time limit and replaces it', async () => {
    const pool = new DecodePool({ size: 1, timeoutMs: 300, script: fakeWorker('hang', "parentPort.on('message', () => {});") });
    pools.push(pool);
    await expect(pool.decode('/x.dcm', 1e9)).rejects.toMatchObject({ code: 'DECODE_FAILED', message: expect.stringMatching(/too long/) });
    expect(pool.replaced).toBe(1);
    await expect(pool.decode('/x.dcm', 1e9)).rejects.toMatchObject({ code: 'DECODE_FAILED' });
    expect(pool.replaced).toBe(2);
  });

  it('turns a worker that dies mid-request into a typed error and serves the queue after it', async () => {
    const pool = new DecodePool({
      size: 1,
      script: fakeWorker('die', "parentPort.on('message', (m) => { if (m.path === 'die') process.exit(3); parentPort.postMessage({ id: m.id, ok: false, code: 'INVALID_DICOM', message: 'x' }); });"),
    });
    pools.push(pool);
    const results = await Promise.allSettled([pool.decode('die', 1e9), pool.decode('ok', 1e9), pool.decode('die', 1e9), pool.decode('ok', 1e9)]);
    expect(results.map((r) => (r.status === 'rejected' ? (r.reason as { code: string }).code : 'ok'))).toEqual(['DECODE_FAILED', 'INVALID_DICOM', 'DECODE_FAILED', 'INVALID_DICOM']);
    expect(pool.replaced).toBe(2);
  });
});
