/**
 * Checking a statement's EXPLAIN QUERY PLAN for shapes whose cost grows
 * faster than the rows they read (a deterministic check: plans, never
 * timings). SQLite plans without ANALYZE statistics (imgaudit never runs
 * ANALYZE), so the plan depends on the schema and the SQL, not on the data.
 *
 * A loop is one SCAN or SEARCH line; the loops under one parent form a
 * nested loop, outermost first. The rules:
 * 1. Inside a correlated subquery (run once per outer row), no SCAN of a
 *    stored table and no search bounded by the run alone (`run_id=?` as the
 *    only equality: every image of the run, for every outer row), except of
 *    the per-run tables with one row per root, depth or format.
 * 2. In a nested loop, no inner loop is a SCAN (except of a constant row):
 *    the inner loop must be a search bounded by an index (automatic ones
 *    included).
 * 3. In a nested loop, a search bounded by the run alone may not follow a
 *    loop over a stored table's scan or over another run-wide search (a run
 *    joined with itself).
 * 4. For statements that read one run (`perRun`): no SCAN of a stored table
 *    anywhere (it would read every run kept).
 * Materialised subqueries and CTEs (MATERIALIZE, CO-ROUTINE) are not stored
 * tables; their own plans are checked by the same rules. Nor are the tables
 * a caller declares `scannable` (temporary sets of ids it built itself).
 *
 * SQLite lists in the plan of a DELETE the searches its foreign-key checks
 * and ON DELETE CASCADE actions make for each deleted row: a child table
 * whose key has no index shows as a SCAN there.
 */
import type Database from 'better-sqlite3';

interface PlanRow {
  id: number;
  parent: number;
  detail: string;
}

interface PlanNode extends PlanRow {
  children: PlanNode[];
}

/** One problem found in a plan. */
export interface PlanProblem {
  rule: 1 | 2 | 3 | 4;
  detail: string;
  why: string;
}

/** `FROM name alias` / `JOIN name AS alias` pairs of SQL texts (views included), to tell CTE aliases apart. */
export function aliasPairs(sqlTexts: readonly string[]): [string, string][] {
  const pairs: [string, string][] = [];
  const keywords = new Set(['on', 'where', 'join', 'left', 'inner', 'cross', 'group', 'order', 'using', 'union', 'limit',
    'natural', 'outer', 'as', 'having', 'window', 'except', 'intersect', 'select']);
  for (const sql of sqlTexts) {
    const re = /\b(?:from|join)\s+([a-z_][a-z0-9_]*)(?:\s+(?:as\s+)?([a-z_][a-z0-9_]*))?/gi;
    for (const match of sql.matchAll(re)) {
      const name = match[1]!.toLowerCase();
      const alias = match[2]?.toLowerCase();
      pairs.push([name, alias !== undefined && !keywords.has(alias) ? alias : name]);
    }
  }
  return pairs;
}

function tree(rows: readonly PlanRow[]): PlanNode[] {
  const nodes = new Map<number, PlanNode>();
  const roots: PlanNode[] = [];
  for (const row of rows) {
    const node = { ...row, children: [] };
    nodes.set(row.id, node);
    (nodes.get(row.parent)?.children ?? roots).push(node);
  }
  return roots;
}

const LOOP = /^(SCAN|SEARCH) (?:TABLE )?(\S+)/;

/** Per-run tables whose rows per run do not grow with the estate (one per root, depth or format): a run-wide search is cheap. */
const SMALL_PER_RUN = new Set(['run_filesystems', 'run_depth_totals', 'run_root_usage', 'run_format_usage']);

/** The equality columns of a SEARCH line's constraint, e.g. `(run_id=? AND depth>?)` → ['run_id']. */
function equalityColumns(detail: string): string[] {
  const constraint = /\(([^()]*)\)(?:\s+LEFT-JOIN)?$/.exec(detail);
  if (constraint === null) return [];
  return constraint[1]!.split(' AND ').map((term) => /^(\w+)=/.exec(term.trim())?.[1]).filter((c): c is string => c !== undefined);
}

/** True for a search bounded by the run alone. */
function isRunWide(detail: string): boolean {
  if (!detail.startsWith('SEARCH ')) return false;
  const columns = equalityColumns(detail);
  return columns.length > 0 && columns.every((column) => column === 'run_id');
}

/**
 * The problems of `sql`'s plan. `views` are the SQL texts of the views it may
 * read (for aliases); `perRun`: the statement reads one run.
 */
export function planProblems(db: Database.Database, sql: string, params: Record<string, unknown>,
  options: { views: readonly string[]; perRun: boolean; scannable?: ReadonlySet<string> }): PlanProblem[] {
  const rows = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(params) as PlanRow[];
  const materialised = new Set<string>();
  for (const row of rows) {
    const match = /^(?:MATERIALIZE|CO-ROUTINE) (\S+)/.exec(row.detail);
    if (match !== null) materialised.add(match[1]!.toLowerCase());
  }
  for (const [name, alias] of aliasPairs([sql, ...options.views])) if (materialised.has(name)) materialised.add(alias);
  const tablesOf = new Map<string, Set<string>>();
  for (const [name, alias] of aliasPairs([sql, ...options.views])) {
    let tables = tablesOf.get(alias);
    if (tables === undefined) tablesOf.set(alias, tables = new Set());
    tables.add(name);
  }
  /** A search bounded by the run alone, on a table with many rows per run. */
  const isRunWideSearch = (detail: string): boolean => {
    if (!isRunWide(detail)) return false;
    const tables = tablesOf.get(LOOP.exec(detail)![2]!.toLowerCase());
    return tables === undefined || [...tables].some((table) => !SMALL_PER_RUN.has(table));
  };
  const isStoredScan = (detail: string): boolean => {
    const match = LOOP.exec(detail);
    if (match === null || match[1] !== 'SCAN' || match[2] === 'CONSTANT' || materialised.has(match[2]!.toLowerCase())) return false;
    const scannable = options.scannable ?? new Set<string>();
    const name = match[2]!.toLowerCase();
    const tables = [...tablesOf.get(name) ?? []];
    return !scannable.has(name) && !(tables.length > 0 && tables.every((table) => scannable.has(table)));
  };
  const problems: PlanProblem[] = [];
  const visit = (nodes: readonly PlanNode[], inCorrelated: boolean): void => {
    let loops = 0;
    let runRangeBefore = false;
    for (const node of nodes) {
      const { detail } = node;
      if (LOOP.test(detail)) {
        const storedScan = isStoredScan(detail);
        const runWide = isRunWideSearch(detail);
        if (inCorrelated && storedScan) {
          problems.push({ rule: 1, detail, why: 'a correlated subquery scans a stored table for every outer row' });
        }
        if (inCorrelated && runWide) {
          problems.push({ rule: 1, detail, why: 'a correlated subquery reads the whole run for every outer row (no index on the correlated key)' });
        }
        if (loops > 0 && detail.startsWith('SCAN ') && !detail.startsWith('SCAN CONSTANT ROW')) {
          problems.push({ rule: 2, detail, why: 'an inner loop of a join scans instead of searching an index' });
        }
        if (runWide && runRangeBefore) {
          problems.push({ rule: 3, detail, why: 'a join reads the whole run for every row of a run-wide loop' });
        }
        if (options.perRun && storedScan) {
          problems.push({ rule: 4, detail, why: 'a statement about one run scans a stored table (every run kept)' });
        }
        if (storedScan || runWide) runRangeBefore = true;
        loops++;
      }
      visit(node.children, inCorrelated || detail.startsWith('CORRELATED '));
    }
  };
  visit(tree(rows), false);
  return problems;
}
