// Runs in tests. The store on real SQLite files: migrations, durability across reopen, refusal of
// a newer database, versioned feedback with its audit trail.
import Database from 'better-sqlite3-multiple-ciphers';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { pngInfo } from '../testing/fixtures';
import { auditCount } from './audit';
import { openDatabase, SCHEMA_VERSION } from './database';
import { Store } from './repositories';

const info = pngInfo('a');

const tmp = (): string => mkdtempSync(path.join(os.tmpdir(), 'resight-store-'));

describe('store', () => {
  it('migrates a new file to the current schema with WAL and full sync', async () => {
    const file = path.join(tmp(), 'db.sqlite');
    const db = await openDatabase(file);
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    db.close();
  });

  it.runIf(process.platform !== 'win32')('creates the data folder and database readable by this account only', async () => {
    const dir = path.join(tmp(), 'fresh', 'data');
    const db = await openDatabase(path.join(dir, 'db.sqlite'));
    db.close();
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(path.join(dir, 'db.sqlite')).mode & 0o777).toBe(0o600);
  });

  it('keeps feedback across a reopen, versioned, with an audit row per change', async () => {
    const file = path.join(tmp(), 'db.sqlite');
    let store = new Store(await openDatabase(file));
    store.recordImage(info, '/data/x.png', 'dr-a');
    const first = store.saveFeedback({ imageId: info.imageId, resultId: null, labelId: 'opacity', verdict: 'agree', note: 'clear' }, 'dr-a');
    const second = store.saveFeedback({ imageId: info.imageId, resultId: null, labelId: 'opacity', verdict: 'disagree', note: 'on second look, no' }, 'dr-a');
    expect(first.version).toBe(1);
    expect(second.version).toBe(2);
    store.close();

    store = new Store(await openDatabase(file));
    const latest = store.latestFeedback(info.imageId, 'dr-a');
    expect(latest).toMatchObject({ verdict: 'disagree', note: 'on second look, no', version: 2 });
    expect(store.latestFeedback(info.imageId, 'dr-b')).toBeNull();
    // Both versions are kept: history is never erased.
    expect((store.db.prepare('SELECT COUNT(*) AS n FROM feedback').get() as { n: number }).n).toBe(2);
    expect(auditCount(store.db, 'feedback')).toBe(2);
    expect(() => store.db.prepare('DELETE FROM audit_log').run()).toThrow(/append-only/);
    expect(() => store.db.prepare("UPDATE feedback SET note = 'x'").run()).toThrow(/never edited/);
    store.close();
  });

  it('refuses feedback on an image it has never seen, and writes nothing', async () => {
    const store = new Store(await openDatabase(path.join(tmp(), 'db.sqlite')));
    expect(() => store.saveFeedback({ imageId: 'b'.repeat(64), resultId: null, labelId: null, verdict: 'agree', note: '' }, 'dr-a')).toThrow(
      expect.objectContaining({ code: 'IMAGE_NOT_OPEN' }),
    );
    expect(auditCount(store.db)).toBe(0);
    store.close();
  });

  it('refuses malformed feedback with a code and writes nothing', async () => {
    const store = new Store(await openDatabase(path.join(tmp(), 'db.sqlite')));
    store.recordImage(info, '/data/x.png', 'dr-a');
    const before = auditCount(store.db);
    const good = { imageId: info.imageId, resultId: null, labelId: 'opacity', verdict: 'agree' as const, note: '' };
    for (const bad of [
      { ...good, note: 'x'.repeat(20_001) },
      { ...good, verdict: 'maybe' },
      { ...good, labelId: 'x'.repeat(129) },
      { ...good, resultId: -3 },
      { ...good, imageId: 'nope' },
      { ...good, extra: 1 },
    ]) {
      expect(() => store.saveFeedback(bad as typeof good, 'dr-a')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    }
    expect(() => store.saveFeedback({ ...good, resultId: 99 }, 'dr-a')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    expect(auditCount(store.db)).toBe(before);
    expect((store.db.prepare('SELECT COUNT(*) AS n FROM feedback').get() as { n: number }).n).toBe(0);
    store.close();
  });

  it('refuses a database written by a newer Resight and leaves it untouched', async () => {
    const file = path.join(tmp(), 'db.sqlite');
    const raw = new Database(file);
    raw.exec('CREATE TABLE future (x INTEGER)');
    raw.pragma(`user_version = ${SCHEMA_VERSION + 5}`);
    raw.close();
    const before = readFileSync(file);
    await expect(openDatabase(file)).rejects.toMatchObject({ code: 'DATABASE_TOO_NEW' });
    expect(readFileSync(file).equals(before)).toBe(true);
  });
});
