// Runs in main, the server, the CLI and tests. Opens the SQLite store (WAL, synchronous=FULL,
// foreign keys) and migrates it, keyed by user_version, each step in one transaction. A database
// written by a newer Resight is refused, and a backup is taken before any migration.
import Database from 'better-sqlite3-multiple-ciphers';
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { ResightError } from '../../preload/api';

export type Db = Database.Database;

/** A raw 256-bit database key (main/store/encryption.ts makes and keeps it). */
export type DatabaseKey = Buffer;

/**
 * Keys a connection before its first read. SQLCipher 4's format (AES-256-CBC with an HMAC-SHA512
 * per page) rather than SQLite3MultipleCiphers' default ChaCha20: the page HMAC detects tampering
 * just as well, and the standard `sqlcipher` tools read the file with the raw key, so IT can
 * recover data without Resight. The key is given raw (x'…'), so no passphrase derivation runs.
 */
export function applyKey(db: Db, key: DatabaseKey): void {
  selectSqlcipher4(db);
  db.pragma(`key = "x'${key.toString('hex')}'"`);
}

/** Selects the cipher format for the next `key` or `rekey` on this connection. */
export function selectSqlcipher4(db: Db): void {
  db.pragma("cipher = 'sqlcipher'");
  db.pragma('legacy = 4');
}

/**
 * A consistent copy of the database as it is, encrypted with the same key when it is encrypted
 * (VACUUM INTO keeps the connection's cipher; the online backup API refuses to copy between an
 * encrypted and a plain file), readable by this account only.
 */
export function backupDatabase(db: Db, target: string): void {
  rmSync(target, { force: true });
  db.prepare('VACUUM INTO ?').run(target);
  if (process.platform !== 'win32') chmodSync(target, 0o600);
}

export interface OpenOptions {
  /** The SQLite addon built for this runtime's ABI: under `npm start`, Electron needs its own build while the Node tests keep the Node one. */
  nativeBinding?: string;
  /** The key of an encrypted database; absent for a plain one. */
  key?: DatabaseKey;
}

const isNotADatabase = (err: unknown): boolean => (err as { code?: unknown } | null)?.code === 'SQLITE_NOTADB';

/** Index i migrates user_version i → i + 1. Append only; never edit a shipped step. */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE images (
    image_id TEXT PRIMARY KEY,
    format TEXT NOT NULL,
    file_name TEXT NOT NULL,
    path TEXT NOT NULL,
    sop_instance_uid TEXT,
    study_instance_uid TEXT,
    first_seen TEXT NOT NULL,
    last_opened TEXT NOT NULL
  );
  CREATE TABLE model_results (
    result_id INTEGER PRIMARY KEY,
    image_id TEXT NOT NULL REFERENCES images(image_id),
    frame INTEGER NOT NULL,
    model_id TEXT NOT NULL,
    model_version TEXT NOT NULL,
    model_sha256 TEXT NOT NULL,
    provider_requested TEXT NOT NULL,
    provider_used TEXT NOT NULL,
    findings_json TEXT NOT NULL,
    cams_json TEXT NOT NULL,
    inference_ms REAL NOT NULL,
    created_at TEXT NOT NULL
  );
  CREATE INDEX model_results_image ON model_results(image_id, created_at);
  CREATE TABLE feedback (
    feedback_id INTEGER PRIMARY KEY,
    image_id TEXT NOT NULL REFERENCES images(image_id),
    result_id INTEGER REFERENCES model_results(result_id),
    label_id TEXT,
    verdict TEXT NOT NULL CHECK (verdict IN ('agree', 'disagree', 'uncertain')),
    note TEXT NOT NULL,
    reader TEXT NOT NULL,
    version INTEGER NOT NULL,
    saved_at TEXT NOT NULL,
    UNIQUE (image_id, reader, version)
  );
  CREATE TABLE audit_log (
    audit_id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    before_json TEXT,
    after_json TEXT
  );
  CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
  CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
  CREATE TRIGGER feedback_no_update BEFORE UPDATE ON feedback BEGIN SELECT RAISE(ABORT, 'feedback versions are never edited'); END;
  `,
  `
  CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value_json TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
  );
  `,
  `
  ALTER TABLE images ADD COLUMN width INTEGER;
  ALTER TABLE images ADD COLUMN height INTEGER;
  CREATE TABLE readers (
    reader_id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    role TEXT NOT NULL CHECK (role IN ('clinician', 'annotator', 'researcher')),
    created_at TEXT NOT NULL
  );
  CREATE TABLE reviews (
    review_id INTEGER PRIMARY KEY,
    image_id TEXT NOT NULL REFERENCES images(image_id),
    result_id INTEGER REFERENCES model_results(result_id),
    reader TEXT NOT NULL,
    version INTEGER NOT NULL,
    labels_json TEXT NOT NULL,
    regions_json TEXT NOT NULL,
    confidence INTEGER CHECK (confidence BETWEEN 1 AND 5),
    note TEXT NOT NULL,
    time_spent_ms INTEGER NOT NULL CHECK (time_spent_ms >= 0),
    signed INTEGER NOT NULL CHECK (signed IN (0, 1)),
    saved_at TEXT NOT NULL,
    UNIQUE (image_id, reader, version)
  );
  CREATE TABLE case_flags (
    image_id TEXT NOT NULL REFERENCES images(image_id),
    reader TEXT NOT NULL,
    flagged INTEGER NOT NULL CHECK (flagged IN (0, 1)),
    updated_at TEXT NOT NULL,
    PRIMARY KEY (image_id, reader)
  );
  CREATE TABLE adjudications (
    adjudication_id INTEGER PRIMARY KEY,
    image_id TEXT NOT NULL REFERENCES images(image_id),
    label_id TEXT NOT NULL,
    present INTEGER NOT NULL CHECK (present IN (0, 1)),
    note TEXT NOT NULL,
    reader TEXT NOT NULL,
    decided_at TEXT NOT NULL
  );
  CREATE INDEX adjudications_case ON adjudications(image_id, label_id, adjudication_id);
  CREATE TRIGGER reviews_no_update BEFORE UPDATE ON reviews BEGIN SELECT RAISE(ABORT, 'review versions are never edited'); END;
  CREATE TRIGGER reviews_no_delete BEFORE DELETE ON reviews BEGIN SELECT RAISE(ABORT, 'review versions are never deleted'); END;
  CREATE TRIGGER adjudications_no_update BEFORE UPDATE ON adjudications BEGIN SELECT RAISE(ABORT, 'adjudications are never edited'); END;
  CREATE TRIGGER adjudications_no_delete BEFORE DELETE ON adjudications BEGIN SELECT RAISE(ABORT, 'adjudications are never deleted'); END;
  `,
  // Batch review: which source item (a file path, or a PACS SOP Instance UID) each model has
  // completed, committed with its result, so a resumed run skips exactly the finished items.
  `
  CREATE TABLE batch_items (
    item_key TEXT NOT NULL,
    model_sha256 TEXT NOT NULL,
    image_id TEXT NOT NULL REFERENCES images(image_id),
    result_id INTEGER NOT NULL REFERENCES model_results(result_id),
    completed_at TEXT NOT NULL,
    PRIMARY KEY (item_key, model_sha256)
  );
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Opens (creating if needed) and migrates the database; an encrypted one needs `key`. */
export async function openDatabase(file: string, options: OpenOptions = {}): Promise<Db> {
  // Readers' notes are private to this account on a shared workstation.
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  let db: Db;
  try {
    db = new Database(file, options.nativeBinding ? { nativeBinding: options.nativeBinding } : {});
    if (process.platform !== 'win32') chmodSync(file, 0o600);
  } catch {
    throw new ResightError('STORE_FAILED', 'The Resight database could not be opened. Check that the data folder is writable and not full.');
  }
  try {
    if (options.key) applyKey(db, options.key);
    db.pragma('busy_timeout = 5000');
    // Checked before any pragma that writes (journal_mode rewrites the header). The first read is
    // also where a missing or wrong key shows, before anything could be written.
    let current: number;
    try {
      current = db.pragma('user_version', { simple: true }) as number;
    } catch (err) {
      if (!isNotADatabase(err)) throw err;
      throw options.key
        ? new ResightError('DATABASE_KEY_INVALID', "The database key Resight holds does not open this database (the key file belongs to another database, or the database is damaged). Restore the database and its .key file together from a backup; nothing was changed.")
        : new ResightError('DATABASE_ENCRYPTED', 'This Resight database is encrypted (or is not a Resight database), and encrypted databases open only in the Resight desktop app of the account that encrypted them. Open it there, or turn encryption off there first; nothing was changed.');
    }
    if (current > SCHEMA_VERSION) {
      throw new ResightError(
        'DATABASE_TOO_NEW',
        'This Resight database was written by a newer version of Resight. Update Resight to open it; nothing was changed.',
      );
    }
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    if (current > 0 && current < SCHEMA_VERSION) backupDatabase(db, `${file}.before-v${SCHEMA_VERSION}.bak`);
    for (let v = current; v < SCHEMA_VERSION; v++) {
      db.transaction(() => {
        db.exec(MIGRATIONS[v]!);
        db.pragma(`user_version = ${v + 1}`);
      })();
    }
    return db;
  } catch (err) {
    db.close();
    if (err instanceof ResightError) throw err;
    throw new ResightError('STORE_FAILED', 'The Resight database could not be prepared. Your data has not been changed; check free disk space and try again.');
  }
}
