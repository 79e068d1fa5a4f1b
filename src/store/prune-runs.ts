/**
 * `imgaudit prune` in the store: under the scan lock (a scan may be reusing
 * an old run's chain states), apply a retention policy (retention.ts:
 * runs first, then every chain state, map and file no remaining run
 * references), optionally only as a dry run (rolled back) and optionally
 * compacting the file afterwards.
 */
import fs from 'node:fs';
import { type Db, openDatabase } from './db.js';
import { migrate } from './migrator.js';
import { type PruneCounts, type RetentionPolicy, pruneRuns } from './retention.js';
import { ScanLock } from './scan-lock.js';
import { requireUtf8DatabasePath } from './database-name.js';
import { StoreError } from './store-error.js';

/** What a prune removed (or, in a dry run, would remove). */
export interface PruneResult {
  removedRunIds: number[];
  keptRunIds: number[];
  counts: PruneCounts;
  isDryRun: boolean;
  /** File size before and after (after VACUUM when asked; equal in a dry run). */
  fileBytesBefore: number;
  fileBytesAfter: number;
}

/** How to prune. */
export interface PruneOptions {
  policy: RetentionPolicy;
  isDryRun: boolean;
  /** Rebuild the file afterwards so that it shrinks (VACUUM). */
  isVacuum: boolean;
}

const ROLLBACK = Symbol('dry run');

function runIds(db: Db): number[] {
  return db.prepare('SELECT id FROM runs ORDER BY id').pluck().all() as number[];
}

function fileBytes(file: string): number {
  return ['', '-wal'].reduce((sum, suffix) => sum + (fs.statSync(file + suffix, { throwIfNoEntry: false })?.size ?? 0), 0);
}

/** Prunes the database at `file`. Throws StoreError, MigrationError or LockError. */
export function pruneDatabase(file: string, options: PruneOptions): PruneResult {
  requireUtf8DatabasePath(file);
  if (!fs.existsSync(file)) throw new StoreError(`database '${file}' does not exist (imgaudit scan creates it)`);
  const lock = ScanLock.acquire(file);
  try {
    const fileBytesBefore = fileBytes(file);
    const db = openDatabase(file);
    try {
      migrate(db);
      const before = runIds(db);
      let counts: PruneCounts = { runs: 0, chains: 0, maps: 0, files: 0 };
      let after: number[] = before;
      try {
        db.transaction(() => {
          counts = pruneRuns(db, options.policy);
          after = runIds(db);
          if (options.isDryRun) throw ROLLBACK;
        })();
      } catch (error) {
        if (error !== ROLLBACK) throw error;
      }
      if (!options.isDryRun && options.isVacuum) db.exec('VACUUM');
      db.pragma('wal_checkpoint(TRUNCATE)');
      const kept = new Set(after);
      return {
        removedRunIds: before.filter((id) => !kept.has(id)), keptRunIds: after, counts, isDryRun: options.isDryRun,
        fileBytesBefore, fileBytesAfter: fileBytes(file),
      };
    } finally {
      db.close();
    }
  } finally {
    lock.release();
  }
}
