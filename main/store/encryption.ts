// Runs in main, the server, the CLI and tests. Optional encryption of the database at rest: a random
// 256-bit key encrypts every page (SQLCipher 4 format, see database.ts applyKey); the key itself is
// kept only wrapped by a SecretBox (Electron's safeStorage: Keychain, DPAPI, Secret Service) in
// `<database>.key`. Where no SecretBox is available (browser mode, the CLI, Linux's basic_text
// backend) encryption is refused, and an encrypted database is refused rather than touched.
import Database from 'better-sqlite3-multiple-ciphers';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ResightError, type DatabaseEncryptionState } from '../../preload/api';
import type { SecretBox } from '../pacs/credentials';
import { appendAudit } from './audit';
import { applyKey, backupDatabase, openDatabase, selectSqlcipher4, type DatabaseKey, type Db } from './database';
import { now } from './repositories';

const KEY_BYTES = 32;
/** Every SQLite file that is not encrypted starts with this; an SQLCipher file starts with its random salt. */
const PLAIN_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

const KeyFile = z
  .object({
    schema: z.literal('resight.database-key/1'),
    cipher: z.literal('sqlcipher'),
    /** The key as hex, encrypted by the SecretBox, base64. */
    wrapped: z.base64().max(4096),
  })
  .strict();

export const keyFileFor = (dbFile: string): string => `${dbFile}.key`;

/** True when the file exists, is not empty and does not start as a plain SQLite file. */
export function looksEncrypted(dbFile: string): boolean {
  if (!existsSync(dbFile)) return false;
  const fd = openSync(dbFile, 'r');
  try {
    const head = Buffer.alloc(PLAIN_HEADER.length);
    const n = readSync(fd, head, 0, head.length, 0);
    return n > 0 && !(n === head.length && head.equals(PLAIN_HEADER));
  } finally {
    closeSync(fd);
  }
}

/** Where a database's key comes from. */
export interface KeyProvider {
  /** Why keys cannot be made or read here, in a sentence an IT admin can act on; null when they can. */
  unavailableReason(): string | null;
  /** The key of an encrypted database. Throws DATABASE_ENCRYPTED or DATABASE_KEY_INVALID. */
  read(): DatabaseKey;
  /** A new random key, already kept (wrapped) when this returns, so no data depends on a key that is not on disk. */
  create(): DatabaseKey;
  remove(): void;
}

const NO_SECRET_BOX =
  'This computer offers Resight no secure place for the database key: encryption needs the system keychain (macOS Keychain, Windows DPAPI, or on Linux a running Secret Service or KWallet; the "basic_text" fallback stores keys in the clear and is refused). Set up the keyring, or use full-disk encryption instead.';
const NO_KEYCHAIN_HERE =
  'Database encryption is managed in the Resight desktop app, which keeps the key in the system keychain; browser mode and the command line have no keychain.';

/** The key in `<database>.key`, wrapped by `box`; with no box (browser mode, CLI) keys are unavailable. */
export function wrappedKeyFile(dbFile: string, box: SecretBox | undefined): KeyProvider {
  const file = keyFileFor(dbFile);
  const name = path.basename(file);
  const unavailableReason = (): string | null => (!box ? NO_KEYCHAIN_HERE : box.isEncryptionAvailable() ? null : NO_SECRET_BOX);
  return {
    unavailableReason,
    read: () => {
      const reason = unavailableReason();
      if (!box || reason) throw new ResightError('DATABASE_ENCRYPTED', `This Resight database is encrypted and its key cannot be read here. ${reason ?? NO_KEYCHAIN_HERE} Nothing was changed.`);
      if (!existsSync(file)) {
        throw new ResightError('DATABASE_ENCRYPTED', `This Resight database is encrypted but its key file (${name}) is missing from the data folder. Restore it from the same backup as the database; nothing was changed.`);
      }
      let hex: string;
      try {
        const parsed = KeyFile.parse(JSON.parse(readFileSync(file, 'utf8')));
        hex = box.decryptString(Buffer.from(parsed.wrapped, 'base64'));
      } catch {
        throw new ResightError(
          'DATABASE_KEY_INVALID',
          `The database key file (${name}) is damaged or cannot be unlocked by this account's keychain (the keychain was reset, or the data folder comes from another account or computer). Restore the keychain, or open the database where it was encrypted; nothing was changed.`,
        );
      }
      if (!/^[0-9a-f]{64}$/.test(hex)) throw new ResightError('DATABASE_KEY_INVALID', `The database key file (${name}) holds no valid key. Restore it from the same backup as the database; nothing was changed.`);
      return Buffer.from(hex, 'hex');
    },
    create: () => {
      const reason = unavailableReason();
      if (!box || reason) throw new ResightError('ENCRYPTION_UNAVAILABLE', reason ?? NO_KEYCHAIN_HERE);
      const key = randomBytes(KEY_BYTES);
      const body: z.infer<typeof KeyFile> = { schema: 'resight.database-key/1', cipher: 'sqlcipher', wrapped: box.encryptString(key.toString('hex')).toString('base64') };
      writeDurably(file, JSON.stringify(body));
      return key;
    },
    remove: () => rmSync(file, { force: true }),
  };
}

/** Whole or not at all, readable by this account only, on disk before it returns. */
function writeDurably(file: string, text: string): void {
  const tmp = `${file}.${randomBytes(6).toString('hex')}.partial`;
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  if (process.platform === 'win32') return;
  const dir = openSync(path.dirname(file), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

/**
 * Opens the database, encrypted or not, as its own header says: an encrypted one with the key from
 * `keys` (which may refuse), a plain one as it is. Returns the key in use, for other connections.
 */
export async function openAtRest(file: string, keys: KeyProvider, nativeBinding?: string): Promise<{ db: Db; key: DatabaseKey | undefined }> {
  const key = looksEncrypted(file) ? keys.read() : undefined;
  const db = await openDatabase(file, { nativeBinding, key });
  return { db, key };
}

function rowCounts(db: Db): Map<string, number> {
  const tables = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all() as string[];
  return new Map(tables.map((t) => [t, db.prepare(`SELECT COUNT(*) FROM "${t.replace(/"/g, '""')}"`).pluck().get() as number]));
}

export interface ConversionOptions {
  nativeBinding?: string;
}

/**
 * Encrypts (`next` gives a key) or decrypts (`next` gives undefined) the open database in place,
 * without losing data: a backup first (kept if anything fails, and named in the error), then a
 * rekey of every page, then a second connection must see the same schema version, tables and row
 * counts through the new key. The backup is deleted only after that check: left behind it would be
 * a copy under the old key. Rekeying needs a rollback journal, so the database leaves WAL for the
 * duration, which needs sole use of it: with another connection open (a running batch review or
 * export) it is refused before anything changes. `next` runs only once that is settled, so a new
 * key is written to disk just before data depends on it.
 */
function rekeyInPlace(db: Db, file: string, next: () => DatabaseKey | undefined, options: ConversionOptions): DatabaseKey | undefined {
  const backup = `${file}.before-encryption-change.bak`;
  try {
    backupDatabase(db, backup);
  } catch {
    rmSync(backup, { force: true });
    throw new ResightError('STORE_FAILED', 'Resight could not make a backup of the database before changing its encryption (check free disk space); nothing was changed.');
  }
  let mode: unknown;
  try {
    db.pragma('wal_checkpoint(TRUNCATE)');
    mode = db.pragma('journal_mode = DELETE', { simple: true });
  } catch {
    mode = undefined;
  }
  if (mode !== 'delete') {
    rmSync(backup, { force: true });
    throw new ResightError('DATABASE_BUSY', 'The database is in use by a batch review or an export. Wait for it to finish (or pause it), then try again; nothing was changed.');
  }
  // Everything from here to the check runs without yielding, so no write of this process interleaves.
  const before = rowCounts(db);
  const version = db.pragma('user_version', { simple: true }) as number;
  let key: DatabaseKey | undefined;
  try {
    key = next();
  } catch (err) {
    db.pragma('journal_mode = WAL');
    rmSync(backup, { force: true });
    throw err;
  }
  const kept = new ResightError(
    'STORE_FAILED',
    `Changing the database encryption could not be completed or checked. The database as it was is kept in ${path.basename(backup)} in the data folder; nothing was deleted.`,
  );
  try {
    if (key) selectSqlcipher4(db);
    db.pragma(key ? `rekey = "x'${key.toString('hex')}'"` : "rekey = ''");
  } catch {
    throw kept;
  } finally {
    db.pragma('journal_mode = WAL');
  }
  let check: Db | undefined;
  try {
    if (looksEncrypted(file) !== Boolean(key)) throw kept;
    check = new Database(file, { readonly: true, nativeBinding: options.nativeBinding });
    if (key) applyKey(check, key);
    const after = rowCounts(check);
    const same = check.pragma('user_version', { simple: true }) === version && after.size === before.size && [...before].every(([t, n]) => after.get(t) === n);
    if (!same) throw kept;
  } catch {
    throw kept;
  } finally {
    check?.close();
  }
  rmSync(backup, { force: true });
  return key;
}

/** The database's encryption in one place: its key for other connections, and turning it on and off. */
export class DatabaseEncryption {
  constructor(
    readonly file: string,
    private readonly keys: KeyProvider,
    private current: DatabaseKey | undefined,
    private readonly options: ConversionOptions = {},
  ) {}

  /** The key other connections to the same file need (exports, batch reviews); undefined when plain. */
  key(): DatabaseKey | undefined {
    return this.current;
  }

  state(): DatabaseEncryptionState {
    return { encrypted: this.current !== undefined, unavailableReason: this.keys.unavailableReason() };
  }

  /**
   * Encrypts or decrypts `db` (the open connection to `file`) in place, and records who did it in
   * the audit log; a no-op when it already is as asked.
   */
  set(db: Db, enabled: boolean, actor: string): DatabaseEncryptionState {
    if (enabled === (this.current !== undefined)) return this.state();
    const reason = this.keys.unavailableReason();
    if (reason) throw new ResightError('ENCRYPTION_UNAVAILABLE', reason);
    const previous = this.current;
    let created: DatabaseKey | undefined;
    try {
      this.current = rekeyInPlace(db, this.file, () => (enabled ? (created = this.keys.create()) : undefined), this.options);
    } catch (err) {
      // The header says which key the file needs now, whatever step failed.
      this.current = looksEncrypted(this.file) ? (created ?? previous) : undefined;
      // A key written for a database that stayed plain protects nothing.
      if (created && this.current === undefined) this.keys.remove();
      throw err;
    }
    if (!enabled) this.keys.remove();
    appendAudit(db, { actor, action: enabled ? 'database.encrypt' : 'database.decrypt', entity: 'database', entityId: path.basename(this.file), after: { encrypted: enabled } }, now());
    return this.state();
  }
}
