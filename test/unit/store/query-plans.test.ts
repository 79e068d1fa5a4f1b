/**
 * Every report definition (reports/*.sql), every documented view, every
 * statement the reading commands prepare and every statement prune runs is
 * planned by SQLite and checked for shapes that grow faster than the rows
 * read (query-plan-check.ts): correlated subqueries or joins not bounded by
 * an index on their key, per-run statements that read every run, and prune
 * statements (their foreign-key checks and cascades included) that read more
 * than what the dropped runs referenced. Plans, not timings: deterministic.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCheck } from '../../../src/report/build-check.js';
import { buildDiff } from '../../../src/report/build-diff.js';
import { buildReport } from '../../../src/report/build-report.js';
import { loadDefinitions } from '../../../src/report/definitions.js';
import { type Db, openDatabase } from '../../../src/store/db.js';
import { openForReading } from '../../../src/store/report-db.js';
import { listRuns } from '../../../src/store/report-runs.js';
import { RunRepo } from '../../../src/store/run-repo.js';
import { pruneRuns } from '../../../src/store/retention.js';
import { ScanStore } from '../../../src/store/scan-store.js';
import { MiB, baseEstate, writeRun } from '../report/estate.js';
import { addFilesystem, addReference, addSharing, setChainFigures } from '../report/layer-estate.js';
import { planProblems } from './query-plan-check.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-query-plans-'));
const file = path.join(dir, 'plans.db');
let db: Db;
let views: { name: string; sql: string; columns: string[] }[];
const params = { run_id: 3, previous_run_id: 2, limit: 10 };

beforeAll(() => {
  const store = ScanStore.open(file);
  for (let i = 0; i < 3; i++) {
    writeRun(store, baseEstate({ vm1DataBytes: (i + 1) * MiB }), { startedAt: new Date(Date.UTC(2026, 9, 1 + i, 2)) });
  }
  store.close();
  const writer = new Database(file);
  setChainFigures(writer, 3, '/srv/images/vm1.qcow2', MiB);
  addSharing(writer, 3, '/srv/images/base.qcow2', { read: 3 * MiB, shared: 2 * MiB, unread: MiB },
    [{ path: '/srv/images/vm1.qcow2', read: 3 * MiB, unique: MiB }, { path: '/srv/images/vm2.qcow2', read: 2 * MiB, unique: 0 }]);
  addFilesystem(writer, 3, '/srv/images', { dev: 2049, capacity: 1024 * MiB, free: 512 * MiB, available: 500 * MiB });
  addReference(writer, 3, '/srv/images/vm1.qcow2');
  writer.close();
  db = openForReading(file);
  views = (db.prepare("SELECT name, sql FROM sqlite_schema WHERE type = 'view' ORDER BY name").all() as { name: string; sql: string }[])
    .map((view) => ({ ...view, columns: db.prepare(`SELECT * FROM ${view.name}`).columns().map((c) => c.name) }));
});
afterAll(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const viewSql = (): string[] => views.map((view) => view.sql);

/**
 * Views known to break a rule, with the problems they have: listed so that
 * a new problem fails, and a fixed view must leave the list.
 */
const KNOWN_PROBLEMS: Record<string, string[]> = {};

describe('report definitions', () => {
  for (const definition of loadDefinitions().values()) {
    it(`${definition.name}.sql: every subquery and join is bounded by an index, and only the run is read`, () => {
      expect(planProblems(db, definition.sql, params, { views: viewSql(), perRun: true })).toEqual([]);
    });
  }
});

describe('documented views', () => {
  it('the schema has the documented views', () => {
    expect(views.map((view) => view.name)).toEqual(expect.arrayContaining([
      'run_image_states', 'run_image_depths', 'latest_run', 'latest_image_states', 'run_root_depth_totals', 'image_growth',
      'run_base_usage', 'run_findings_all', 'map_entries_expanded', 'run_totals', 'run_depth_categories', 'run_image_files',
      'run_root_totals', 'run_format_totals', 'run_layer_figures']));
  });

  /** The views with problems, and the rules they break (each problem once). */
  function problemViews(query: (view: string) => string, perRun: boolean): Record<string, string[]> {
    const found: Record<string, string[]> = {};
    for (const view of views) {
      if (perRun && !view.columns.includes('run_id')) continue;
      const problems = planProblems(db, query(view.name), params, { views: viewSql(), perRun });
      if (problems.length > 0) found[view.name] = [...new Set(problems.map((p) => `rule ${p.rule}: ${p.detail}`))].sort();
    }
    return found;
  }

  it('each view, read whole, has no unbounded correlated subquery or join', () => {
    expect(problemViews((view) => `SELECT * FROM ${view}`, false)).toEqual(KNOWN_PROBLEMS);
  });

  it('each view with a run column, filtered on one run, reads that run only', () => {
    expect(views.filter((view) => view.columns.includes('run_id')).length).toBeGreaterThan(10);
    expect(problemViews((view) => `SELECT * FROM ${view} WHERE run_id = $run_id`, true)).toEqual(KNOWN_PROBLEMS);
    for (const sql of ['SELECT * FROM latest_image_states', 'SELECT * FROM image_growth WHERE to_run_id = $run_id',
      'SELECT * FROM map_entries_expanded WHERE map_id = 1']) {
      expect({ sql, problems: planProblems(db, sql, params, { views: viewSql(), perRun: true }) }).toEqual({ sql, problems: [] });
    }
  });
});

/** The statements `run` prepares on `target` (default: the read-only connection). */
function preparedBy(run: (db: Db) => void, target: Db = db): string[] {
  const statements = new Set<string>();
  const recording = new Proxy(target, {
    get(target, key) {
      if (key === 'prepare') return (sql: string) => { statements.add(sql); return target.prepare(sql); };
      const value = Reflect.get(target, key, target) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  run(recording);
  return [...statements];
}

describe('the reading commands', () => {
  it('report (all parts, every definition), diff, check and runs prepare no unbounded subquery or join', () => {
    const sections = [...loadDefinitions().values()];
    const statements = preparedBy((recording) => {
      buildReport(recording, { run: 'latest', sections, limit: 10 });
      buildDiff(recording, { from: undefined, to: undefined });
      buildCheck(recording, { run: 'latest', failOn: 'error', deepChainLayers: 1, basePatterns: [], ignore: [] });
      listRuns(recording);
    });
    expect(statements.length).toBeGreaterThan(20);
    for (const sql of statements) {
      if (!/^\s*(SELECT|WITH)\b/i.test(sql)) continue;
      const problems = planProblemsOf(sql);
      expect({ sql: sql.trim().slice(0, 120), problems }).toEqual({ sql: sql.trim().slice(0, 120), problems: [] });
    }
  });

  it('the end of a run (its materialised totals) reads that run only', () => {
    const writer = openDatabase(file);
    try {
      const statements = preparedBy((recording) => new RunRepo(recording).end(3, 'complete', new Date()), writer);
      const reads = statements.filter((sql) => /^\s*(INSERT|UPDATE)\b/i.test(sql));
      expect(reads.length).toBeGreaterThanOrEqual(4);
      for (const sql of reads) {
        const problems = planProblemsOf(sql, true);
        expect({ sql: sql.trim().slice(0, 120), problems }).toEqual({ sql: sql.trim().slice(0, 120), problems: [] });
      }
    } finally {
      writer.close();
    }
  });
});

/** Statements of an `exec` text, one by one (prune's named blocks hold several). */
function splitStatements(text: string): string[] {
  return text.split(/;\s*(?:\n|$)/).map((sql) => sql.replace(/^(\s*--[^\n]*\n)+/, '').trim()).filter((sql) => sql !== '');
}

/** Binds every parameter of `sql` (positional or named) to 1: plans do not depend on the values (no ANALYZE). */
function dummyParams(sql: string): unknown[] {
  const named = [...sql.matchAll(/[$@:]([a-z_][a-z0-9_]*)/gi)].map((m) => m[1]!);
  const positional = (sql.match(/\?/g) ?? []).length;
  return named.length > 0 ? [Object.fromEntries(named.map((name) => [name, 1]))] : Array.from({ length: positional }, () => 1);
}

interface PlannedStatement {
  sql: string;
  plan: string[];
  problems: string[];
}

/**
 * Runs `work` on `target`, planning every statement it prepares or executes
 * just before it runs (the temporary tables it makes exist then), with the
 * prune rules: no scan of a stored table other than `scannable` (rule 4,
 * foreign-key checks and cascades included), no correlated subquery or inner
 * loop that is not an index search (rules 1, 2). Rule 3 (a run joined with
 * itself) does not apply: the per-row cascades of a DELETE are listed as
 * siblings of its loop, each a search by run of the run being deleted.
 */
function plannedBy(target: Db, work: (db: Db) => void, scannable: ReadonlySet<string>): PlannedStatement[] {
  const planned: PlannedStatement[] = [];
  const plan = (sql: string) => {
    if (!/^\s*(SELECT|WITH|INSERT|UPDATE|DELETE)\b/i.test(sql)) return;
    const params = dummyParams(sql);
    const rows = target.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[];
    const named = params.length === 1 && typeof params[0] === 'object' ? params[0] as Record<string, unknown> : {};
    let n = 0;
    const positional = sql.replace(/\?/g, () => `$p${n++}`);
    const bound = { ...named, ...Object.fromEntries(Array.from({ length: n }, (_, i) => [`p${i}`, 1])) };
    const problems = planProblems(target, positional, bound, { views: [], perRun: true, scannable })
      .filter((problem) => problem.rule !== 3).map((problem) => `rule ${problem.rule}: ${problem.detail}`);
    planned.push({ sql: sql.replace(/\s+/g, ' ').trim(), plan: rows.map((row) => row.detail), problems: [...new Set(problems)] });
  };
  const recording = new Proxy(target, {
    get(t, key) {
      if (key === 'prepare') return (sql: string) => { plan(sql); return t.prepare(sql); };
      if (key === 'exec') {
        return (text: string) => {
          for (const sql of splitStatements(text)) { plan(sql); t.exec(sql); }
          return recording;
        };
      }
      const value = Reflect.get(t, key, t) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(t) : value;
    },
  });
  work(recording);
  return planned;
}

describe('prune', () => {
  /** The candidate sets prune builds (temporary tables of ids), the runs (a row per run) and the schema. */
  const PRUNE_SCANNABLE = new Set(['prune_runs', 'prune_sharings', 'prune_chains', 'prune_files', 'prune_maps', 'prune_images',
    'prune_roots', 'runs', 'sqlite_schema']);
  /**
   * Scans prune may make, each bounded: the total of the overlay rows reads a
   * row per base sharing (not per overlay); deleting a root no run lists any
   * more checks the tables naming roots, whose keys lead with the run (a scan
   * of run_images per root deleted: roots are the few storage roots scanned).
   */
  const PRUNE_KNOWN: Record<string, string[]> = {
    'SELECT coalesce((SELECT sum(overlay_count) FROM base_sharings WHERE': ['rule 4: SCAN base_sharings'],
    'DELETE FROM roots WHERE id IN (SELECT id FROM prune_roots)': [
      'rule 2: SCAN run_filesystems USING INDEX run_filesystems_by_dev', 'rule 2: SCAN run_images USING INDEX run_images_by_root',
      'rule 2: SCAN run_root_usage', 'rule 4: SCAN run_filesystems USING INDEX run_filesystems_by_dev',
      'rule 4: SCAN run_images USING INDEX run_images_by_root', 'rule 4: SCAN run_root_usage'],
  };
  const knownOf = (sql: string) => Object.entries(PRUNE_KNOWN).find(([start]) => sql.startsWith(start))?.[1] ?? [];

  function prunePlans(policy: { keepRuns: number | null; olderThanMs: number | null }): PlannedStatement[] {
    const copy = path.join(dir, `prune-${policy.keepRuns}-${policy.olderThanMs}.db`);
    fs.copyFileSync(file, copy);
    const writer = openDatabase(copy);
    try {
      let planned: PlannedStatement[] = [];
      writer.transaction(() => {
        planned = plannedBy(writer, (recording) => {
          expect(pruneRuns(recording, { ...policy, now: new Date(Date.UTC(2026, 9, 3, 12)) }).runs).toBeGreaterThan(0);
        }, PRUNE_SCANNABLE);
      })();
      return planned;
    } finally {
      writer.close();
    }
  }

  for (const policy of [{ keepRuns: 1, olderThanMs: null }, { keepRuns: 2, olderThanMs: null }, { keepRuns: null, olderThanMs: 0 }]) {
    it(`every statement of prune (${JSON.stringify(policy)}) reads what the dropped runs referenced, through indexes, foreign-key checks and cascades included`, () => {
      const planned = prunePlans(policy);
      for (const { sql, plan, problems } of planned) {
        expect({ sql, plan, problems: problems.filter((p) => !knownOf(sql).includes(p)) }).toEqual({ sql, plan, problems: [] });
      }
      expect(planned.length).toBeGreaterThan(20);
      expect(planned.some((statement) => /^DELETE FROM chains\b/.test(statement.sql))).toBe(true);
    });
  }

  it('the exceptions listed are still needed', () => {
    const planned = prunePlans({ keepRuns: 1, olderThanMs: null });
    for (const [start, problems] of Object.entries(PRUNE_KNOWN)) {
      const statement = planned.find((p) => p.sql.startsWith(start));
      expect(statement?.problems.sort()).toEqual([...problems].sort());
    }
  });

  it('every foreign key of the schema is searched through an index when its parent row is deleted (except the roots\')', () => {
    const tables = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").pluck().all() as string[];
    const unindexed: string[] = [];
    let keys = 0;
    for (const table of tables) {
      for (const key of db.pragma(`foreign_key_list(${table})`) as { table: string; from: string; on_delete: string }[]) {
        keys++;
        // What SQLite runs for each deleted parent row: the cascade, or the check that no child is left.
        const sql = key.on_delete === 'CASCADE' ? `DELETE FROM ${table} WHERE ${key.from} = ?` : `SELECT 1 FROM ${table} WHERE ${key.from} = ?`;
        const plan = (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(1) as { detail: string }[]).map((row) => row.detail);
        if (!plan.every((detail) => /^SEARCH /.test(detail) && detail.includes(`${key.from}=?`) || key.from === 'file_id' && /rowid=\?/.test(detail))) {
          unindexed.push(`${key.table} <- ${table}.${key.from}`);
        }
      }
    }
    expect(keys).toBeGreaterThan(25);
    expect(unindexed.sort()).toEqual(['roots <- run_filesystems.root_id', 'roots <- run_images.root_id', 'roots <- run_root_usage.root_id']);
  });

  it('no trigger fires on the tables prune deletes from (its statements would need planning here)', () => {
    expect(db.prepare("SELECT name FROM sqlite_schema WHERE type = 'trigger'").pluck().all()).toEqual([]);
  });
});

/** The problems of a statement of the commands: positional parameters (`?`) become named ones, all bound to run 3. */
function planProblemsOf(sql: string, perRun = false): ReturnType<typeof planProblems> {
  let n = 0;
  const named = sql.replace(/\?/g, () => `$p${n++}`);
  const bound: Record<string, unknown> = Object.fromEntries(Array.from({ length: n }, (_, i) => [`p${i}`, 3]));
  for (const [key, value] of Object.entries({ ...params, runId: 3, status: 'complete', finishedAt: null })) {
    if (named.includes(`$${key}`) || named.includes(`@${key}`)) bound[key] = value;
  }
  return planProblems(db, named, bound, { views: viewSql(), perRun });
}

describe('the checker', () => {
  // reports/reclaim.sql before migration 0005's change: NOT EXISTS searched run_images by run_id alone.
  const quadraticReclaim = `
    SELECT s.path FROM run_image_states s JOIN chains c ON c.id = s.chain_id
    WHERE s.run_id = $run_id AND c.has_layer_figures = 1 AND c.commit_growth_bytes IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM run_images ri
                      JOIN chain_layers cl ON cl.chain_id = ri.chain_id AND cl.depth >= 1
                      JOIN files f ON f.id = cl.file_id
                      JOIN files top ON top.id = c.top_file_id
                      WHERE ri.run_id = s.run_id AND f.dev = top.dev AND f.ino = top.ino)`;

  it('finds the correlated subquery that read the whole run per image (the old reclaim)', () => {
    const problems = planProblems(db, quadraticReclaim, params, { views: viewSql(), perRun: true });
    expect(problems.map((p) => p.rule)).toContain(1);
    expect(problems.find((p) => p.rule === 1)!.detail).toMatch(/\(run_id=\?\)/);
  });

  it('finds an inner loop that scans, a run joined with itself, and a per-run statement reading every run', () => {
    const scanJoin = 'SELECT * FROM run_images ri JOIN files f ON f.size_bytes + 0 > ri.root_id + 0 WHERE ri.run_id = $run_id';
    expect(planProblems(db, scanJoin, params, { views: [], perRun: false }).map((p) => p.rule)).toContain(2);
    // Joined on a column no index covers (change): every image of the run read for every image of the run.
    const selfJoin = `SELECT count(*) FROM run_images a JOIN run_images b ON b.run_id = a.run_id AND b.change = a.change
      WHERE a.run_id = $run_id`;
    expect(planProblems(db, selfJoin, params, { views: [], perRun: true }).map((p) => p.rule)).toContain(3);
    const everyRun = 'SELECT count(*) FROM run_images WHERE root_id = 1';
    expect(planProblems(db, everyRun, {}, { views: [], perRun: true }).map((p) => p.rule)).toEqual([4]);
  });
});
