/**
 * Retention: dropping old runs, then every base sharing, chain state, map,
 * file (with its own allocation and snapshots), image and root no remaining
 * run references. A map stays while a file's own allocation references it.
 * The newest complete run and running runs are never dropped.
 */
import type { Db } from './db.js';

/** What to keep. */
export interface RetentionPolicy {
  /** Keep the newest N complete runs and everything after the oldest of them. */
  keepRuns: number | null;
  /** Drop runs that started more than this many milliseconds before `now`. */
  olderThanMs: number | null;
  now: Date;
}

/** Rows removed by a prune. */
export interface PruneCounts {
  runs: number;
  chains: number;
  maps: number;
  files: number;
}

/** Applies `policy`; returns what was removed. One transaction. */
export function pruneRuns(db: Db, policy: RetentionPolicy): PruneCounts {
  return db.transaction((): PruneCounts => {
    const newestComplete = db.prepare(
      "SELECT id FROM runs WHERE status = 'complete' ORDER BY id DESC LIMIT 1").pluck().get() as number | undefined;
    let runs = 0;
    if (policy.keepRuns !== null) {
      const oldestKept = db.prepare(
        "SELECT id FROM runs WHERE status = 'complete' ORDER BY id DESC LIMIT 1 OFFSET ?",
      ).pluck().get(policy.keepRuns - 1) as number | undefined;
      if (oldestKept !== undefined) {
        runs += db.prepare("DELETE FROM runs WHERE id < ? AND status <> 'running'").run(oldestKept).changes;
      }
    }
    if (policy.olderThanMs !== null) {
      const cutoff = new Date(policy.now.getTime() - policy.olderThanMs).toISOString();
      runs += db.prepare("DELETE FROM runs WHERE started_at < ? AND status <> 'running' AND id IS NOT ?")
        .run(cutoff, newestComplete ?? null).changes;
    }
    if (runs === 0) return { runs, chains: 0, maps: 0, files: 0 };
    // Dropped runs took their run_* rows along (ON DELETE CASCADE). Base sharings
    // no run uses go first: their overlay rows reference chain states.
    db.prepare('DELETE FROM base_sharings WHERE id NOT IN (SELECT sharing_id FROM run_base_sharings)').run();
    const chains = db.prepare('DELETE FROM chains WHERE id NOT IN (SELECT chain_id FROM run_images)').run().changes;
    // Per file state rows go with their file; a file's own allocation keeps its map.
    const unusedFiles = `SELECT id FROM files WHERE id NOT IN (SELECT top_file_id FROM chains)
      AND id NOT IN (SELECT file_id FROM chain_layers) AND id NOT IN (SELECT file_id FROM chain_extra_files)
      AND id NOT IN (SELECT file_id FROM base_sharings)`;
    db.prepare(`DELETE FROM file_allocations WHERE file_id IN (${unusedFiles})`).run();
    db.prepare(`DELETE FROM file_snapshots WHERE file_id IN (${unusedFiles})`).run();
    const maps = db.prepare(`DELETE FROM maps WHERE hash IS NOT NULL
      AND id NOT IN (SELECT map_id FROM chains WHERE map_id IS NOT NULL)
      AND id NOT IN (SELECT map_id FROM file_allocations)`).run().changes;
    const files = db.prepare(`DELETE FROM files WHERE id IN (${unusedFiles})`).run().changes;
    db.prepare('DELETE FROM images WHERE id NOT IN (SELECT image_id FROM run_images)').run();
    db.prepare(`DELETE FROM roots WHERE id NOT IN (SELECT root_id FROM run_images)
      AND id NOT IN (SELECT root_id FROM run_filesystems)`).run();
    return { runs, chains, maps, files };
  })();
}
