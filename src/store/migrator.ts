/**
 * Applies `migrations/NNNN_verb_object.sql` in name order, each in one
 * transaction together with its `_migrations` bookkeeping row. Refuses a
 * database whose applied migrations are not a prefix of the known ones (it
 * was written by a newer imgaudit) or whose applied files were edited since.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../io/package-root.js';
import { type Db, refuseForeign } from './db.js';
import { MigrationError } from './store-error.js';

/** One migration file. */
export interface Migration {
  name: string;
  sql: string;
  /** sha256 of the file's text. */
  checksum: string;
}

/** `migrations/` at the package root (from sources, the library and the bundle). */
export const MIGRATIONS_DIR = path.join(packageRoot(), 'migrations') + path.sep;

const NAME = /^(\d{4})_[a-z0-9]+(?:_[a-z0-9]+)*\.sql$/;

/** Reads and orders the migration files of `dir`. */
export function loadMigrations(dir: string = MIGRATIONS_DIR): Migration[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((name) => name.endsWith('.sql')).sort();
  } catch (error) {
    throw new MigrationError(`cannot read migrations from '${dir}': ${(error as Error).message}`, { cause: error });
  }
  const numbers = new Set<string>();
  return names.map((name) => {
    const match = NAME.exec(name);
    if (match === null) throw new MigrationError(`migration file '${name}' is not named NNNN_verb_object.sql`);
    if (numbers.has(match[1]!)) throw new MigrationError(`migration number ${match[1]} is used twice`);
    numbers.add(match[1]!);
    const sql = fs.readFileSync(`${dir}/${name}`, 'utf8');
    return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
  });
}

export interface AppliedRow {
  name: string;
  checksum: string;
}

/** Throws MigrationError unless `applied` is a prefix of `known` with unedited files. */
export function checkApplied(applied: readonly AppliedRow[], known: readonly Migration[]): void {
  applied.forEach((row, index) => {
    const migration = known[index];
    if (migration === undefined || migration.name !== row.name) {
      throw new MigrationError(
        `the database has migration '${row.name}', which this imgaudit does not know ` +
        '(the database was written by another version); refusing to use it',
      );
    }
    if (migration.checksum !== row.checksum) {
      throw new MigrationError(`migration '${row.name}' was edited after it was applied to this database`);
    }
  });
}

/**
 * Brings `db` up to date with `migrations`; returns the names applied now.
 * Throws MigrationError when the database is ahead of or diverged from them.
 */
export function migrate(db: Db, migrations: readonly Migration[] = loadMigrations()): string[] {
  refuseForeign(db);
  db.exec(`CREATE TABLE IF NOT EXISTS _migrations (
    name TEXT PRIMARY KEY, checksum TEXT NOT NULL, applied_at TEXT NOT NULL)`);
  const selectApplied = db.prepare('SELECT name, checksum FROM _migrations ORDER BY name');
  const insert = db.prepare('INSERT INTO _migrations (name, checksum, applied_at) VALUES (?, ?, ?)');
  const appliedNow: string[] = [];
  for (;;) {
    // Each step re-reads the bookkeeping inside an IMMEDIATE transaction, so
    // two processes migrating at once apply every file exactly once.
    const step = db.transaction((): boolean => {
      const applied = selectApplied.all() as AppliedRow[];
      checkApplied(applied, migrations);
      const next = migrations[applied.length];
      if (next === undefined) return false;
      try {
        db.exec(next.sql);
      } catch (error) {
        throw new MigrationError(`migration '${next.name}' failed: ${(error as Error).message}`, { cause: error });
      }
      insert.run(next.name, next.checksum, new Date().toISOString());
      appliedNow.push(next.name);
      return true;
    });
    if (!step.immediate()) return appliedNow;
  }
}
