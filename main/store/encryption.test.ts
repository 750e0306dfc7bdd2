// Runs in tests. Database encryption at rest on real SQLite files with the real cipher; the key is
// wrapped by a stand-in for safeStorage (main/testing/keychain.ts).
import Database from 'better-sqlite3-multiple-ciphers';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { pngInfo } from '../testing/fixtures';
import { exportCases } from '../export/bundle';
import type { SecretBox } from '../pacs/credentials';
import { fakeKeychain as keychain } from '../testing/keychain';
import { auditCount } from './audit';
import { applyKey, MIGRATIONS, openDatabase, SCHEMA_VERSION } from './database';
import { DatabaseEncryption, keyFileFor, looksEncrypted, openAtRest, wrappedKeyFile } from './encryption';
import { Store } from './repositories';

const NOTE = 'left apical pneumothorax, call Dr Quimby 7731';

const info = pngInfo('c');

const tmp = (): string => mkdtempSync(path.join(os.tmpdir(), 'resight-enc-'));

/** The database file and its WAL, as anyone with read access to the folder would see them. */
function onDisk(file: string): Buffer {
  return Buffer.concat([readFileSync(file), existsSync(`${file}-wal`) ? readFileSync(`${file}-wal`) : Buffer.alloc(0)]);
}

function counts(db: Store['db']): Record<string, number> {
  const tables = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all() as string[];
  return Object.fromEntries(tables.map((t) => [t, db.prepare(`SELECT COUNT(*) FROM ${t}`).pluck().get() as number]));
}

/** A plain database with an image, two feedback versions (one with NOTE), a setting and their audit rows. */
async function populated(box: SecretBox | undefined): Promise<{ file: string; store: Store; encryption: DatabaseEncryption }> {
  const file = path.join(tmp(), 'resight.sqlite');
  const keys = wrappedKeyFile(file, box);
  const opened = await openAtRest(file, keys);
  const store = new Store(opened.db);
  store.recordImage(info, '/data/x.png', 'dr-a');
  store.saveFeedback({ imageId: info.imageId, resultId: null, labelId: 'opacity', verdict: 'agree', note: 'clear' }, 'dr-a');
  store.saveFeedback({ imageId: info.imageId, resultId: null, labelId: 'opacity', verdict: 'disagree', note: NOTE }, 'dr-a');
  store.setSetting('app', { provider: 'cpu' }, 'dr-a');
  return { file, store, encryption: new DatabaseEncryption(file, keys, opened.key) };
}

/** A populated database encrypted and closed, with its file's and its key file's bytes. */
async function encryptedOnDisk(box: SecretBox): Promise<{ file: string; bytes: Buffer; keyFile: Buffer }> {
  const { file, store, encryption } = await populated(box);
  encryption.set(store.db, true, 'it-admin');
  store.close();
  return { file, bytes: readFileSync(file), keyFile: readFileSync(keyFileFor(file)) };
}

describe('database encryption at rest', () => {
  it('encrypts a populated database in place: the note leaves the file, every row and the audit log stay', async () => {
    const box = keychain();
    const { file, store, encryption } = await populated(box);
    expect(onDisk(file).includes(NOTE)).toBe(true);
    const before = counts(store.db);

    expect(encryption.set(store.db, true, 'it-admin')).toEqual({ encrypted: true, unavailableReason: null });
    // The open connection goes on working, in WAL, through the new key.
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    store.saveFeedback({ imageId: info.imageId, resultId: null, labelId: 'opacity', verdict: 'uncertain', note: `${NOTE} (third)` }, 'dr-a');
    expect(statSync(`${file}-wal`).size).toBeGreaterThan(0);
    expect(onDisk(file).includes(NOTE)).toBe(false);
    store.db.pragma('wal_checkpoint(TRUNCATE)');
    expect(looksEncrypted(file)).toBe(true);
    expect(onDisk(file).includes(NOTE)).toBe(false);
    expect(onDisk(file).includes('dr-a')).toBe(false);
    // No copy under the old key is left behind, and the key exists only wrapped, for this account.
    expect(readdirSync(path.dirname(file)).filter((f) => f.endsWith('.bak'))).toEqual([]);
    const keyFile = readFileSync(keyFileFor(file), 'utf8');
    expect(keyFile).not.toMatch(/[0-9a-f]{64}/);
    if (process.platform !== 'win32') expect(statSync(keyFileFor(file)).mode & 0o777).toBe(0o600);
    store.close();

    const reopened = await openAtRest(file, wrappedKeyFile(file, box));
    const again = new Store(reopened.db);
    expect(counts(again.db)).toEqual({ ...before, feedback: before.feedback! + 1, audit_log: before.audit_log! + 2 });
    expect(again.latestFeedback(info.imageId, 'dr-a')).toMatchObject({ verdict: 'uncertain', version: 3 });
    expect(again.db.prepare('SELECT note FROM feedback WHERE version = 2').pluck().get()).toBe(NOTE);
    expect(again.db.prepare("SELECT actor FROM audit_log WHERE action = 'database.encrypt'").pluck().all()).toEqual(['it-admin']);
    expect(auditCount(again.db, 'feedback')).toBe(3);
    again.close();
  });

  it('refuses an encrypted database without its key and leaves the file byte for byte as it was', async () => {
    const box = keychain();
    const { file, bytes, keyFile } = await encryptedOnDisk(box);

    // Browser mode and the CLI (no SecretBox), Linux's basic_text, a plain open, a lost key file.
    await expect(openAtRest(file, wrappedKeyFile(file, undefined))).rejects.toMatchObject({ code: 'DATABASE_ENCRYPTED' });
    await expect(openAtRest(file, wrappedKeyFile(file, keychain(false)))).rejects.toMatchObject({ code: 'DATABASE_ENCRYPTED' });
    await expect(openDatabase(file)).rejects.toMatchObject({ code: 'DATABASE_ENCRYPTED' });
    rmSync(keyFileFor(file));
    await expect(openAtRest(file, wrappedKeyFile(file, box))).rejects.toMatchObject({ code: 'DATABASE_ENCRYPTED', message: expect.stringContaining('resight.sqlite.key') });
    writeFileSync(keyFileFor(file), keyFile);

    expect(readFileSync(file).equals(bytes)).toBe(true);
    expect(statSync(file).size).toBe(bytes.length);
    expect(readFileSync(keyFileFor(file)).equals(keyFile)).toBe(true);
    // And with the key it still opens.
    (await openAtRest(file, wrappedKeyFile(file, box))).db.close();
  });

  it('says so when the key file cannot be unwrapped, is damaged, or belongs to another database', async () => {
    const box = keychain();
    const { file, bytes, keyFile } = await encryptedOnDisk(box);

    // Another account's or computer's keychain.
    await expect(openAtRest(file, wrappedKeyFile(file, keychain()))).rejects.toMatchObject({ code: 'DATABASE_KEY_INVALID' });
    writeFileSync(keyFileFor(file), '{"schema":"resight.database-key/1","cipher":"sqlcipher","wrapped":"not base64!"}');
    await expect(openAtRest(file, wrappedKeyFile(file, box))).rejects.toMatchObject({ code: 'DATABASE_KEY_INVALID' });
    // A well-formed key that is not this database's.
    const other = await populated(box);
    other.encryption.set(other.store.db, true, 'it-admin');
    other.store.close();
    writeFileSync(keyFileFor(file), readFileSync(keyFileFor(other.file)));
    await expect(openAtRest(file, wrappedKeyFile(file, box))).rejects.toMatchObject({ code: 'DATABASE_KEY_INVALID' });

    expect(readFileSync(file).equals(bytes)).toBe(true);
    writeFileSync(keyFileFor(file), keyFile);
    (await openAtRest(file, wrappedKeyFile(file, box))).db.close();
  });

  it('decrypts again: the note is back in a plain file, the key file is gone, nothing is lost', async () => {
    const box = keychain();
    const { file, store, encryption } = await populated(box);
    encryption.set(store.db, true, 'it-admin');
    const before = counts(store.db);
    expect(encryption.set(store.db, false, 'it-admin')).toEqual({ encrypted: false, unavailableReason: null });
    store.db.pragma('wal_checkpoint(TRUNCATE)');
    expect(looksEncrypted(file)).toBe(false);
    expect(onDisk(file).includes(NOTE)).toBe(true);
    expect(existsSync(keyFileFor(file))).toBe(false);
    expect(readdirSync(path.dirname(file)).filter((f) => f.endsWith('.bak'))).toEqual([]);
    store.close();
    // Plain again: browser mode and the CLI open it as before.
    const plain = new Store(await openDatabase(file));
    expect(counts(plain.db)).toEqual({ ...before, audit_log: before.audit_log! + 1 });
    expect(plain.latestFeedback(info.imageId, 'dr-a')).toMatchObject({ note: NOTE, version: 2 });
    plain.close();
  });

  it('refuses to encrypt where there is no secure place for the key (basic_text, browser mode), and changes nothing', async () => {
    for (const [box, reason] of [[keychain(false), 'basic_text'], [undefined, 'desktop app']] as const) {
      const { file, store, encryption } = await populated(box);
      store.db.pragma('wal_checkpoint(TRUNCATE)');
      const bytes = readFileSync(file);
      expect(encryption.state()).toEqual({ encrypted: false, unavailableReason: expect.stringContaining(reason) });
      expect(() => encryption.set(store.db, true, 'it-admin')).toThrow(expect.objectContaining({ code: 'ENCRYPTION_UNAVAILABLE' }));
      expect(readFileSync(file).equals(bytes)).toBe(true);
      expect(readdirSync(path.dirname(file)).sort()).toEqual(['resight.sqlite', 'resight.sqlite-shm', 'resight.sqlite-wal']);
      store.close();
    }
  });

  it('refuses while another connection uses the database, leaving no key, no backup and a plain file', async () => {
    const box = keychain();
    const { file, store, encryption } = await populated(box);
    const other = new Database(file, { readonly: true });
    other.pragma('busy_timeout = 0');
    other.prepare('SELECT COUNT(*) FROM feedback').get();
    store.db.pragma('busy_timeout = 100');
    expect(() => encryption.set(store.db, true, 'it-admin')).toThrow(expect.objectContaining({ code: 'DATABASE_BUSY' }));
    other.close();
    expect(encryption.state().encrypted).toBe(false);
    expect(looksEncrypted(file)).toBe(false);
    expect(readdirSync(path.dirname(file)).filter((f) => f.endsWith('.bak') || f.endsWith('.key'))).toEqual([]);
    // Once the other connection is gone it goes through.
    expect(encryption.set(store.db, true, 'it-admin').encrypted).toBe(true);
    store.close();
  });

  it('keeps the backup before a migration encrypted with the same key', async () => {
    const file = path.join(tmp(), 'resight.sqlite');
    const key = randomBytes(32);
    const old = new Database(file);
    applyKey(old, key);
    for (let v = 0; v < SCHEMA_VERSION - 1; v++) old.exec(MIGRATIONS[v]!);
    old.pragma(`user_version = ${SCHEMA_VERSION - 1}`);
    old.prepare("INSERT INTO settings VALUES ('note', ?, 'now', 'dr-a')").run(JSON.stringify(NOTE));
    old.close();

    (await openDatabase(file, { key })).close();
    const backup = `${file}.before-v${SCHEMA_VERSION}.bak`;
    expect(looksEncrypted(backup)).toBe(true);
    expect(readFileSync(backup).includes(NOTE)).toBe(false);
    if (process.platform !== 'win32') expect(statSync(backup).mode & 0o777).toBe(0o600);
    const copy = new Database(backup, { readonly: true });
    applyKey(copy, key);
    expect(copy.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION - 1);
    copy.close();
  });

  it('exports from an encrypted database only with its key', async () => {
    const box = keychain();
    const { file, store, encryption } = await populated(box);
    encryption.set(store.db, true, 'it-admin');
    const out = path.join(path.dirname(file), 'out.zip');
    await expect(exportCases(file, out)).rejects.toMatchObject({ code: 'DATABASE_ENCRYPTED' });
    // With the key it reads the store, which holds feedback but no model result or review to export.
    await expect(exportCases(file, out, { dbKey: encryption.key() })).rejects.toMatchObject({ code: 'NOTHING_TO_EXPORT' });
    store.close();
  });
});
