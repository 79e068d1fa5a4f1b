/**
 * The only importer of better-sqlite3: opening a database with the pragmas
 * every connection needs (WAL, foreign keys, a busy timeout). Pragmas live
 * here, not in migrations: journal mode cannot change inside a transaction.
 */
import Database from 'better-sqlite3';
import { StoreError } from './store-error.js';

/** An open better-sqlite3 connection. */
export type Db = Database.Database;
/** A prepared statement. */
export type Statement = Database.Statement;

/** How long a connection waits for another one's write lock. */
const BUSY_TIMEOUT_MS = 10_000;

/** Opens (creating when `readonly` is false) the database at `file`; throws StoreError. */
export function openDatabase(file: string, options: { readonly?: boolean } = {}): Db {
  const readonly = options.readonly === true;
  let db: Db;
  try {
    db = new Database(file, { readonly, fileMustExist: readonly });
  } catch (error) {
    throw new StoreError(`cannot open database '${file}': ${(error as Error).message}`, { cause: error });
  }
  try {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    if (!readonly) {
      db.pragma('journal_mode = WAL');
      // WAL + NORMAL is durable against application crashes (kill -9); a power
      // loss may drop the last commits but never corrupts the database.
      db.pragma('synchronous = NORMAL');
    }
    db.pragma('foreign_keys = ON');
  } catch (error) {
    db.close();
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
