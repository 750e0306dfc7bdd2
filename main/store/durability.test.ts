// Runs in tests. Durability of acknowledged feedback and reviews: a writer process is killed with SIGKILL at
// random moments, over and over, on the same SQLite file. Every write it acknowledged must be there
// afterwards, the database must pass integrity_check, and no row may be half-written.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import type { ImageInfo } from '../../preload/api';
import { auditCount } from './audit';
import { openDatabase } from './database';
import { Store } from './repositories';
import { ReviewStore } from './reviews';

const KILLS = 24;
const MIN_WRITES = 500;

describe('durability', () => {
  it('keeps every acknowledged write through repeated SIGKILLs', { timeout: 240_000 }, async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'resight-durability-'));
    const writer = path.join(dir, 'writer.cjs');
    await build({ entryPoints: [path.join(__dirname, 'durability-writer.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: writer, external: ['better-sqlite3-multiple-ciphers'], logLevel: 'error', nodePaths: [path.join(__dirname, '..', '..', 'node_modules')] });
    const file = path.join(dir, 'resight.sqlite');
    const imageId = 'c'.repeat(64);
    const info = { imageId, format: 'png', fileName: 'x.png', width: 8, height: 8, frames: 1, samplesPerPixel: 1, bitsStored: 8, pixelDataType: 'uint8', photometric: 'MONOCHROME2', rescaleSlope: 1, rescaleIntercept: 0, windows: [{ center: 128, width: 256 }] } satisfies ImageInfo;
    const setup = new Store(await openDatabase(file));
    setup.recordImage(info, '/x.png', 'writer');
    setup.close();

    const acked = new Set<number>();
    let next = 0;
    let round = 0;
    while (round < KILLS || acked.size < MIN_WRITES) {
      round++;
      const child = spawn(process.execPath, [writer, file, imageId, String(next), '0', 'reviews'], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NODE_PATH: path.join(__dirname, '..', '..', 'node_modules') } });
      let buffer = '';
      child.stdout.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        const lines = buffer.split('\n');
        buffer = lines.pop()!;
        for (const line of lines) if (line.startsWith('ack ')) acked.add(Number(line.slice(4)));
      });
      const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
      // Kill after the first ack plus a random delay, so kills land mid-transaction, mid-fsync, anywhere.
      await new Promise<void>((resolve) => {
        const wait = (): void => {
          if ([...acked].some((n) => n >= next)) setTimeout(resolve, Math.random() * 60);
          else setTimeout(wait, 2);
        };
        wait();
      });
      child.kill('SIGKILL');
      await exited;
      next = Math.max(next, ...acked) + 1000;
    }

    const store = new Store(await openDatabase(file));
    expect(store.db.pragma('integrity_check', { simple: true })).toBe('ok');
    const rows = store.db.prepare('SELECT note, version FROM feedback ORDER BY version').all() as Array<{ note: string; version: number }>;
    const notes = new Set(rows.map((r) => Number(r.note.split(' ')[1])));
    for (const n of acked) expect(notes.has(n), `acknowledged write ${n}`).toBe(true);
    // Versions are contiguous: no write was lost between two that survived.
    rows.forEach((r, i) => expect(r.version).toBe(i + 1));
    for (const r of rows) expect(r.note).toMatch(/^note \d+ x*$/);
    expect(auditCount(store.db, 'feedback')).toBe(rows.length);
    // Reviews (a second transaction per write, with a JSON list of regions): every acknowledged one
    // is there, whole, with contiguous versions and one audit row each.
    const history = new ReviewStore(store).history(imageId, 'writer');
    const reviewed = new Set(history.map((r) => Number(r.note.split(' ')[1])));
    for (const n of acked) if (n % 4 === 0) expect(reviewed.has(n), `acknowledged review ${n}`).toBe(true);
    expect([...acked].filter((n) => n % 4 === 0).length).toBeGreaterThan(50);
    history.forEach((r, i) => {
      const n = Number(r.note.split(' ')[1]);
      expect(r.version).toBe(i + 1);
      expect(r.regions).toHaveLength(1 + (n % 40));
      expect(r.timeSpentMs).toBe(i + 1);
    });
    expect(auditCount(store.db, 'review')).toBe(history.length);
    expect(acked.size).toBeGreaterThanOrEqual(MIN_WRITES);
    expect(round).toBeGreaterThanOrEqual(KILLS);
    store.close();
  });
});
