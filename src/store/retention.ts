/**
 * Retention: dropping old runs, then every base sharing, chain state, map,
 * file (with its own allocation and snapshots), image and root no remaining
 * run references. A map stays while a file's own allocation references it.
 * The newest complete run and running runs are never dropped. The shared
 * rows are looked for among those the dropped runs referenced (sql/sqlite/
 * prune.sql), so that a prune costs what it drops, not what is kept; a
 * table losing most of its rows has its secondary indexes rebuilt once
 * rather than updated row by row.
 */
import type { Db } from './db.js';
import { sqlStatement } from './sql-file.js';

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

export const PRUNE_SQL = 'sqlite/prune.sql';
const sql = (name: string) => sqlStatement(PRUNE_SQL, name);

interface RowShare {
  deleting: number;
  total: number;
}

/**
 * Runs `statement` (a DELETE from `table`). When it removes more rows than it
 * leaves, the table's secondary indexes are dropped first and created again
 * after (from their own definitions in the schema): one sort of the rows kept
 * per index instead of one b-tree search and delete per row removed and index.
 */
function deleteRows(db: Db, table: string, statement: string, share: RowShare): number {
  const isBulk = share.deleting > share.total - share.deleting;
  const indexes = isBulk ? db.prepare(sql('secondary_indexes')).all(table) as { name: string; sql: string }[] : [];
  for (const index of indexes) db.exec(`DROP INDEX "${index.name.replaceAll('"', '""')}"`);
  const changes = db.prepare(statement).run().changes;
  for (const index of indexes) db.exec(index.sql);
  return changes;
}

/** Applies `policy`; returns what was removed. One transaction. */
export function pruneRuns(db: Db, policy: RetentionPolicy): PruneCounts {
  return db.transaction((): PruneCounts => {
    db.exec(sql('create_sets'));
    try {
      if (policy.keepRuns !== null) db.prepare(sql('runs_by_count')).run({ keep: policy.keepRuns });
      if (policy.olderThanMs !== null) {
        db.prepare(sql('runs_by_age')).run({ cutoff: new Date(policy.now.getTime() - policy.olderThanMs).toISOString() });
      }
      const runs = db.prepare(sql('count_runs')).pluck().get() as number;
      if (runs === 0) return { runs, chains: 0, maps: 0, files: 0 };
      for (const name of ['candidate_chains', 'candidate_images', 'candidate_roots', 'candidate_sharings']) db.exec(sql(name));
      deleteRows(db, 'run_images', sql('delete_run_images'), db.prepare(sql('run_image_rows')).get() as RowShare);
      db.exec(sql('delete_run_sharings'));
      db.exec(sql('delete_runs'));
      // Sharings before chain states (their overlay rows name chain states), chain states before
      // files and maps, own allocations before maps and files: children before their parents.
      db.exec(sql('keep_used_sharings'));
      db.exec(sql('sharing_candidates'));
      deleteRows(db, 'base_sharing_overlays', sql('delete_sharing_overlays'), db.prepare(sql('sharing_overlay_rows')).get() as RowShare);
      db.exec(sql('delete_sharings'));
      db.exec(sql('keep_used_chains'));
      db.exec(sql('chain_candidates'));
      db.exec(sql('delete_chain_rows'));
      const chains = db.prepare(sql('delete_chains')).run().changes;
      db.exec(sql('keep_used_files'));
      db.exec(sql('file_candidates'));
      db.exec(sql('delete_file_rows'));
      db.exec(sql('keep_used_maps'));
      db.exec(sql('delete_map_entries'));
      const maps = db.prepare(sql('delete_maps')).run().changes;
      const files = db.prepare(sql('delete_files')).run().changes;
      db.exec(sql('delete_images'));
      db.exec(sql('delete_roots'));
      return { runs, chains, maps, files };
    } finally {
      db.exec(sql('drop_sets'));
    }
  })();
}
