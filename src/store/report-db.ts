/**
 * Opening the database for the reading commands (report, diff, runs, check,
 * query). They never create, write or migrate a database: they read
 * through a read-only connection (db.ts), with read access alone. A
 * database a previous imgaudit wrote may lack the newest migrations; the
 * reports refuse it, naming them (the next scan or prune applies them),
 * while `query` reads it as it is.
 */
import { type Db, openDatabase } from './db.js';
import { type Migration, loadMigrations } from './migrator.js';
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

/**
 * Opens an existing database read-only. Unless `mayBeBehind` (query), it
 * must be up to date with the known migrations. Throws StoreError (missing,
 * not a regular file, unreadable, not an imgaudit database) or
 * MigrationError (pending, unknown or edited migrations).
 */
export function openForReading(file: string, options: { mayBeBehind?: boolean } = {}): Db {
  const known = loadMigrations();
  const db = openDatabase(file, { readonly: true });
  try {
    const applied = appliedMigrations(db, file);
    if (compare(applied, known) === 'behind' && options.mayBeBehind !== true) {
      const pending = known.slice(applied.length).map((migration) => migration.name);
      throw new MigrationError(`database '${file}' lacks migration${pending.length === 1 ? '' : 's'} `
        + `${pending.join(', ')}, which readers never apply; run imgaudit scan or imgaudit prune on it once`);
    }
    return db;
  } catch (error) {
    if (db.open) db.close();
    throw error;
  }
}
