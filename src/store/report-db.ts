/**
 * Opening the database for the reading commands (report, diff, runs, check,
 * query). They never create a database and read through a read-only
 * connection. A database a previous imgaudit wrote may lack the newest
 * migrations (views only, so far): those are applied first, through a
 * short-lived writable connection, when the file is writable.
 */
import fs from 'node:fs';
import { type Db, openDatabase } from './db.js';
import { type Migration, loadMigrations, migrate } from './migrator.js';
import { MigrationError, StoreError } from './store-error.js';

interface AppliedRow {
  name: string;
  checksum: string;
}

function appliedMigrations(db: Db, file: string): AppliedRow[] {
  const hasTable = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_migrations'").get();
  if (hasTable === undefined) throw new StoreError(`'${file}' is not an imgaudit database (no _migrations table)`);
  return db.prepare('SELECT name, checksum FROM _migrations ORDER BY name').all() as AppliedRow[];
}

/** 'current' | 'behind' (pending migrations); throws MigrationError when the database is ahead or diverged. */
function compare(applied: readonly AppliedRow[], known: readonly Migration[]): 'current' | 'behind' {
  applied.forEach((row, index) => {
    const migration = known[index];
    if (migration === undefined || migration.name !== row.name) {
      throw new MigrationError(
        `the database has migration '${row.name}', which this imgaudit does not know ` +
        '(the database was written by another version); refusing to use it');
    }
    if (migration.checksum !== row.checksum) {
      throw new MigrationError(`migration '${row.name}' was edited after it was applied to this database`);
    }
  });
  return applied.length < known.length ? 'behind' : 'current';
}

function applyPending(file: string): void {
  let db: Db;
  try {
    db = openDatabase(file);
  } catch (error) {
    throw new MigrationError(
      `database '${file}' needs migrations this user cannot apply (${(error as Error).message}); ` +
      'run imgaudit scan or imgaudit prune on it once as its owner', { cause: error });
  }
  try {
    migrate(db);
  } finally {
    db.close();
  }
}

/**
 * Opens an existing database read-only, up to date with the known
 * migrations. `mayMigrate: false` (query) leaves a database that is behind
 * as it is. Throws StoreError (missing, unreadable, not an imgaudit
 * database) or MigrationError.
 */
export function openForReading(file: string, options: { mayMigrate?: boolean } = {}): Db {
  if (!fs.existsSync(file)) throw new StoreError(`database '${file}' does not exist (imgaudit scan creates it)`);
  const known = loadMigrations();
  let db = openDatabase(file, { readonly: true });
  try {
    if (compare(appliedMigrations(db, file), known) === 'behind' && options.mayMigrate !== false) {
      db.close();
      applyPending(file);
      db = openDatabase(file, { readonly: true });
    }
    return db;
  } catch (error) {
    if (db.open) db.close();
    throw error;
  }
}
