/**
 * The central store's migrations: `migrations/postgres/NNNN_verb_object.sql`,
 * applied by the same rules as the SQLite set (name order, each in one
 * transaction with its `_migrations` row, checksums compared, a store ahead
 * of this imgaudit refused). A transaction-scoped advisory lock makes hosts
 * that push at once apply each file exactly once. Readers never migrate.
 */
import { fileURLToPath } from 'node:url';
import { type AppliedRow, type Migration, checkApplied, loadMigrations } from '../migrator.js';
import { MigrationError, StoreError } from '../store-error.js';
import { sqlStatement } from '../sql-file.js';
import type { PgConn } from './pg-client.js';
import path from 'node:path';
import { packageRoot } from '../../io/package-root.js';

/** `migrations/postgres/` at the package root. */
export const PG_MIGRATIONS_DIR = path.join(packageRoot(), 'migrations', 'postgres') + path.sep;

const FILE = 'postgres/migrations.sql';

/** The known central migrations. */
export function loadPgMigrations(): Migration[] {
  return loadMigrations(PG_MIGRATIONS_DIR);
}

async function applied(conn: PgConn): Promise<AppliedRow[] | undefined> {
  const [row] = await conn.query<{ present: boolean }>(sqlStatement(FILE, 'has_migrations_table'));
  if (row?.present !== true) return undefined;
  return conn.query<AppliedRow>(sqlStatement(FILE, 'applied'));
}

/** Brings the central store up to date; returns the names applied now. Throws MigrationError. */
export async function migrateCentral(conn: PgConn, migrations: readonly Migration[] = loadPgMigrations()): Promise<string[]> {
  const appliedNow: string[] = [];
  for (;;) {
    const isDone = await conn.transaction(async () => {
      await conn.query(sqlStatement(FILE, 'lock'));
      // Created only when missing: a pushing host's role may not create tables.
      let rows = await applied(conn);
      if (rows === undefined) {
        await conn.query(sqlStatement(FILE, 'create_migrations_table'));
        rows = [];
      }
      checkApplied(rows, migrations);
      const next = migrations[rows.length];
      if (next === undefined) return true;
      try {
        await conn.query(next.sql);
      } catch (error) {
        throw new MigrationError(`central migration '${next.name}' failed: ${(error as Error).message}`, { cause: error });
      }
      await conn.query(sqlStatement(FILE, 'record'), [next.name, next.checksum, new Date().toISOString()]);
      appliedNow.push(next.name);
      return false;
    });
    if (isDone) return appliedNow;
  }
}

/**
 * For readers: throws unless the central store has exactly the known
 * migrations (a store behind needs one push, or `push --migrate-only`, by a
 * role that may change it).
 */
export async function requireCurrentCentral(conn: PgConn, migrations: readonly Migration[] = loadPgMigrations()): Promise<void> {
  const rows = await applied(conn);
  if (rows === undefined) throw new StoreError(`${conn.label} is not an imgaudit central store (no _migrations table; imgaudit push creates it)`);
  checkApplied(rows, migrations);
  if (rows.length < migrations.length) {
    throw new MigrationError(`the central store ${conn.label} lacks ${migrations.length - rows.length} migration(s) of this imgaudit; `
      + 'run imgaudit push (or push --migrate-only) once with a role that owns it');
  }
}
