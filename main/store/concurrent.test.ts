// Runs in tests. The app and the CLI can have the same database open: another process writes
// feedback as fast as it can while this one saves reviews; neither sees a busy error, and every
// write of both is there afterwards (WAL lets readers run beside the writer; the busy timeout
// queues the writers).
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import type { ImageInfo } from '../../preload/api';
import { openDatabase } from './database';
import { Store } from './repositories';
import { ReviewStore } from './reviews';

describe('two processes on one database', () => {
  it('both write without errors and nothing is lost', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'resight-concurrent-'));
    const writer = path.join(dir, 'writer.cjs');
    const nodeModules = path.join(__dirname, '..', '..', 'node_modules');
    await build({ entryPoints: [path.join(__dirname, 'durability-writer.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: writer, external: ['better-sqlite3-multiple-ciphers'], logLevel: 'error', nodePaths: [nodeModules] });
    const file = path.join(dir, 'resight.sqlite');
    const info = { imageId: 'e'.repeat(64), format: 'png', fileName: 'x.png', width: 64, height: 64, frames: 1, samplesPerPixel: 1, bitsStored: 8, pixelDataType: 'uint8', photometric: 'MONOCHROME2', rescaleSlope: 1, rescaleIntercept: 0, windows: [{ center: 128, width: 256 }] } satisfies ImageInfo;
    const store = new Store(await openDatabase(file));
    const reviews = new ReviewStore(store);
    store.recordImage(info, '/x.png', 'app');

    const child = spawn(process.execPath, [writer, file, info.imageId, '0', '2'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_PATH: nodeModules } });
    let childErrors = '';
    child.stderr.on('data', (c: Buffer) => (childErrors += c.toString()));
    const acked = new Set<number>();
    let buffer = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop()!;
      for (const line of lines) if (line.startsWith('ack ')) acked.add(Number(line.slice(4)));
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    while (acked.size === 0) await new Promise((r) => setTimeout(r, 5));

    const MINE = 60;
    const childRows = () => (store.db.prepare("SELECT COUNT(*) AS n FROM feedback WHERE reader = 'writer'").get() as { n: number }).n;
    const childBefore = childRows();
    let mine = 0;
    // Both sides write the way the app and a batch job do: a save, a little other work, the next save.
    for (; mine < MINE; mine++) {
      reviews.saveReview({ imageId: info.imageId, labels: [], regions: [{ kind: 'point', labelId: 'opacity', x: mine % 64, y: 1 }], note: `app ${mine}` }, 'app', ['opacity']);
      // Reads run beside the other process's writes.
      expect(reviews.worklist({}, 'app').cases).toHaveLength(1);
      await new Promise((r) => setTimeout(r, 2));
    }
    // The other process kept committing while this one wrote: the writes interleaved.
    expect(childRows() - childBefore).toBeGreaterThanOrEqual(10);
    const childAlive = child.exitCode === null;
    child.kill('SIGKILL');
    await exited;

    expect(childAlive, childErrors.slice(0, 500)).toBe(true);
    expect(childErrors).toBe('');
    expect(store.db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(reviews.history(info.imageId, 'app').map((r) => r.note)).toEqual(Array.from({ length: mine }, (_, i) => `app ${i}`));
    const notes = new Set((store.db.prepare("SELECT note FROM feedback WHERE reader = 'writer'").all() as Array<{ note: string }>).map((r) => Number(r.note.split(' ')[1])));
    for (const n of acked) expect(notes.has(n)).toBe(true);
    store.close();
  });
});
