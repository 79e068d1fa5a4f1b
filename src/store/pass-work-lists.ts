/**
 * The work lists of the post-scan pass: the run's mapped chain states, their
 * layer files and their (base, overlay) pairs, copied into TEMP tables (per
 * connection, spilled to disk by SQLite when large) so that the repositories
 * read them in id order, a page at a time, with no statement open while the
 * pass writes.
 */
import type { Db } from './db.js';

/** Rows per page of a work list. */
export const PAGE_ROWS = 256;

/** Creates the TEMP work tables; they live as long as the connection, invisible to other connections. */
export function createWorkLists(db: Db): void {
  db.exec(`
    CREATE TEMP TABLE IF NOT EXISTS pass_chains (chain_id INTEGER PRIMARY KEY);
    CREATE TEMP TABLE IF NOT EXISTS pass_files (file_id INTEGER PRIMARY KEY);
    CREATE TEMP TABLE IF NOT EXISTS pass_bases (
      file_id INTEGER NOT NULL, chain_id INTEGER NOT NULL, map_id INTEGER NOT NULL,
      PRIMARY KEY (file_id, chain_id)) WITHOUT ROWID;`);
}

/**
 * Collects the run's mapped chain states, their layer files and their
 * (base, overlay) pairs into the TEMP work tables. Call inside a transaction.
 */
export function fillWorkLists(db: Db, runId: number): void {
  clearWorkLists(db);
  db.prepare(`
    INSERT OR IGNORE INTO temp.pass_chains (chain_id)
    SELECT ri.chain_id FROM run_images ri JOIN chains c ON c.id = ri.chain_id
    WHERE ri.run_id = ? AND c.map_id IS NOT NULL`).run(runId);
  db.exec(`
    INSERT OR IGNORE INTO temp.pass_files (file_id)
    SELECT cl.file_id FROM temp.pass_chains p JOIN chain_layers cl ON cl.chain_id = p.chain_id;
    INSERT OR IGNORE INTO temp.pass_bases (file_id, chain_id, map_id)
    SELECT cl.file_id, c.id, c.map_id FROM temp.pass_chains p
    JOIN chains c ON c.id = p.chain_id JOIN chain_layers cl ON cl.chain_id = p.chain_id AND cl.depth = 1;`);
}

/** Empties the TEMP work tables. */
export function clearWorkLists(db: Db): void {
  db.exec('DELETE FROM temp.pass_chains; DELETE FROM temp.pass_files; DELETE FROM temp.pass_bases;');
}
