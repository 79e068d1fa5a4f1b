/**
 * The capacity-planning views (migration 0006) filtered on a run reach every
 * base table through its keys: the query plan of `SELECT * FROM view WHERE
 * run_id = ?` scans no table (only the subqueries it builds), so a query
 * costs that run's rows, not the history's. A view written with a plain
 * LEFT JOIN of an aggregate, or with two aggregate levels, fails this (SQLite
 * pushes the filter one level into an aggregate and never into the right
 * side of a LEFT JOIN).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Db, openDatabase } from '../../../src/store/db.js';
import { migrate } from '../../../src/store/migrator.js';

const CAPACITY_VIEWS = ['run_filesystem_overcommit', 'run_root_usage_history', 'run_root_growth', 'run_filesystem_growth',
  'run_flatten_candidates'];

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-capacity-plans-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The tables a plan scans whole: SCAN lines naming neither a subquery it builds nor one of SQLite's own. */
function scannedTables(db: Db, sql: string): string[] {
  const plan = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[];
  const built = new Set(plan.flatMap(({ detail }) => /^(?:CO-ROUTINE|MATERIALIZE) (.+)$/.exec(detail)?.[1] ?? []));
  return plan.flatMap(({ detail }) => {
    const scanned = /^SCAN (\S+)/.exec(detail)?.[1];
    return scanned === undefined || built.has(scanned) || scanned.startsWith('(subquery') ? [] : [detail];
  });
}

describe('capacity views', () => {
  const db = openDatabase(path.join(dir, 'plans.db'));
  migrate(db);
  afterAll(() => db.close());

  it('exist, each with a run_id column', () => {
    for (const view of CAPACITY_VIEWS) {
      const columns = (db.prepare(`PRAGMA table_info(${view})`).all() as { name: string }[]).map((c) => c.name);
      expect(columns[0], view).toBe('run_id');
    }
  });

  it.each(CAPACITY_VIEWS)('%s filtered on run_id scans no table', (view) => {
    expect(scannedTables(db, `SELECT * FROM ${view} WHERE run_id = 1`)).toEqual([]);
  });

  it('the check catches a view that scans', () => {
    expect(scannedTables(db, 'SELECT * FROM (SELECT run_id, count(*) FROM (SELECT run_id, image_id FROM run_images '
      + 'GROUP BY run_id, image_id) GROUP BY run_id) WHERE run_id = 1')).toEqual([expect.stringMatching(/^SCAN run_images/)]);
  });
});
