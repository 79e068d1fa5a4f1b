/**
 * The only importer of better-sqlite3: opening a database with the pragmas
 * every connection needs (WAL, foreign keys, a busy timeout). Pragmas live
 * here, not in migrations: journal mode cannot change inside a transaction.
 *
 * The path must name a regular file (or nothing, for a writer that creates
 * it): a FIFO would block SQLite's open(), a device would be read forever.
 * A reader needs read access only. A WAL database normally wants its `-shm`
 * file created next to it; where that cannot be (a read-only mount, a
 * directory the reader cannot write) and no writer has left changes in the
 * `-wal` file, the reader opens a private in-memory copy of the file
 * instead (this build of SQLite takes no `immutable=1` URI), read-only.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { KIND_NAMES, fileKind } from '../io/regular-file.js';
import { requireUtf8DatabasePath } from './database-name.js';
import { StoreError } from './store-error.js';

/** An open better-sqlite3 connection. */
export type Db = Database.Database;
/** A prepared statement. */
export type Statement = Database.Statement;

/** How long a connection waits for another one's write lock. */
const BUSY_TIMEOUT_MS = 10_000;

/** SQLite's answers when a read-only connection cannot set up WAL shared memory. */
const NEEDS_WRITE_ACCESS = /^SQLITE_(CANTOPEN|READONLY)/;

/** Throws StoreError unless `file` is a regular file (or absent, when `mayBeAbsent`). */
function checkKind(file: string, mayBeAbsent: boolean): void {
  let kind;
  try {
    kind = fileKind(file);
  } catch (error) {
    throw new StoreError(`cannot open database '${file}': ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
  }
  if (kind === null) {
    if (mayBeAbsent) return;
    throw new StoreError(`database '${file}' does not exist (imgaudit scan creates it)`);
  }
  if (kind !== 'file') throw new StoreError(`database '${file}' is ${KIND_NAMES[kind]}, not a regular file`);
}

function walBytes(file: string): number {
  return fs.statSync(`${file}-wal`, { throwIfNoEntry: false })?.size ?? 0;
}

/**
 * A read-only connection to an in-memory copy of `file` (its header marked
 * rollback-journal, as SQLite's deserialize wants); only when no writer's
 * changes wait in the `-wal` file, which such a copy would miss.
 */
function openCopy(file: string, cause: unknown): Db {
  if (walBytes(file) > 0) {
    throw new StoreError(`cannot read database '${file}' without write access to '${path.dirname(file)}': `
      + 'a scan is writing it, or one stopped before it could fold its changes in; try again after the scan, '
      + `or as a user who may write there (${(cause as Error).message})`, { cause });
  }
  const image = fs.readFileSync(file);
  if (image.length >= 20 && image[18] === 2 && image[19] === 2) image[18] = image[19] = 1;
  return new Database(image, { readonly: true });
}

/** Opens a read-only connection and reads the schema once, so that open problems show now. */
function openReader(file: string): Db {
  const db = new Database(file, { readonly: true, fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
  try {
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/**
 * Throws StoreError when `db` holds schema objects but no `_migrations`
 * table: another application's database, which imgaudit must not write to
 * (not even to switch it to WAL).
 */
export function refuseForeign(db: Db): void {
  const objects = db.prepare("SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'").pluck().get() as number;
  if (objects === 0) return;
  const hasBookkeeping = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_migrations'").get();
  if (hasBookkeeping === undefined) {
    throw new StoreError(`'${db.name}' is not an imgaudit database (it holds ${objects} schema object${objects === 1 ? '' : 's'} `
      + 'and no _migrations table); refusing to write to it');
  }
}

/** Opens (creating when `readonly` is false) the database at `file`; throws StoreError. */
export function openDatabase(file: string, options: { readonly?: boolean } = {}): Db {
  if (file !== ':memory:') requireUtf8DatabasePath(file);
  const readonly = options.readonly === true;
  checkKind(file, !readonly);
  let db: Db;
  try {
    if (!readonly) {
      db = new Database(file, { timeout: BUSY_TIMEOUT_MS });
    } else {
      try {
        db = openReader(file);
      } catch (error) {
        if (!(error instanceof Database.SqliteError) || !NEEDS_WRITE_ACCESS.test(error.code)) throw error;
        db = openCopy(file, error);
      }
    }
  } catch (error) {
    if (error instanceof StoreError) throw error;
    throw new StoreError(`cannot open database '${file}': ${(error as Error).message}`, { cause: error });
  }
  try {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    if (!readonly) {
      refuseForeign(db);
      db.pragma('journal_mode = WAL');
      // WAL + NORMAL is durable against application crashes (kill -9); a power
      // loss may drop the last commits but never corrupts the database.
      db.pragma('synchronous = NORMAL');
    }
    db.pragma('foreign_keys = ON');
  } catch (error) {
    db.close();
    if (error instanceof StoreError) throw error;
    throw new StoreError(`cannot use database '${file}': ${(error as Error).message}`, { cause: error });
  }
  return db;
}

/** SQLite's own errors become StoreError (run-level); anything else is returned as is. */
export function asStoreError(error: unknown): unknown {
  if (error instanceof Database.SqliteError) {
    return new StoreError(`database error: ${error.message} (${error.code})`, { cause: error });
  }
  return error;
}

/** True for SQLite's own errors (run-level: the store cannot go on). */
export function isSqliteError(error: unknown): boolean {
  return error instanceof Database.SqliteError;
}
