/**
 * `imgaudit push` in the store: opens the host's SQLite file read-only (the
 * scan may be writing; a read transaction sees whole runs only), connects to
 * the central store, brings its schema up to date, and pushes the ended
 * runs it lacks (push-runs.ts). The scan never waits for this: it runs
 * after the scan has committed, or on its own.
 */
import { openForReading } from '../report-db.js';
import { connectCentral } from './pg-client.js';
import { migrateCentral } from './pg-migrator.js';
import { type PushHooks, type PushResult, pushRuns } from './push-runs.js';

/** What to push where. */
export interface PushRequest {
  /** The host's SQLite file. */
  database: string;
  /** The central store (postgres://...). */
  central: string;
  /** The name the runs are pushed under. */
  host: string;
  /** Only create or update the central schema. */
  isMigrateOnly?: boolean;
  hooks?: PushHooks;
}

/** A push's result, with the central store's label and the migrations applied. */
export interface PushOutcome extends PushResult {
  central: string;
  migrationsApplied: string[];
}

/** Pushes; throws StoreError / MigrationError (exit status 2). */
export async function pushDatabase(request: PushRequest): Promise<PushOutcome> {
  const conn = await connectCentral(request.central);
  try {
    const migrationsApplied = await migrateCentral(conn);
    if (request.isMigrateOnly === true) {
      return { central: conn.label, migrationsApplied, host: request.host, pushedRunIds: [], alreadyThere: 0, rows: {} };
    }
    const local = openForReading(request.database);
    try {
      const result = await pushRuns(local, conn, request.host, request.hooks);
      return { ...result, central: conn.label, migrationsApplied };
    } finally {
      local.close();
    }
  } finally {
    await conn.close();
  }
}
