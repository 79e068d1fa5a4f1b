/**
 * Reading runs for the reports: the run rows with their materialised
 * totals, finding counts, and picking runs (latest complete, the complete
 * run before another, the newest complete run at or before a time).
 */
import type { Db } from './db.js';

/** Finding counts by severity. */
export interface SeverityCounts {
  error: number;
  warning: number;
  info: number;
}

/** A run as stored, with its totals (materialised when the run ended). */
export interface RunRecord {
  id: number;
  startedAt: string;
  finishedAt: string | null;
  status: 'running' | 'complete' | 'interrupted' | 'failed';
  roots: string[];
  host: string;
  toolVersion: string;
  isFull: boolean;
  imageCount: number;
  errorCount: number;
  newCount: number;
  changedCount: number;
  readCount: number;
  virtualSizeBytes: number;
  diskUsageBytes: number;
  dataBytes: number;
  zeroBytes: number;
  preallocatedBytes: number;
  unallocatedBytes: number;
  findings: SeverityCounts;
}

type RunRow = Omit<RunRecord, 'roots' | 'isFull' | 'findings'> & { roots: string; isFull: number };

const RUN_COLUMNS = `
  r.id, r.started_at AS startedAt, r.finished_at AS finishedAt, r.status, r.roots, r.host,
  r.tool_version AS toolVersion, r.is_full AS isFull, r.image_count AS imageCount, r.error_count AS errorCount,
  r.new_count AS newCount, r.changed_count AS changedCount, r.read_count AS readCount,
  r.virtual_size_bytes AS virtualSizeBytes, r.disk_usage_bytes AS diskUsageBytes,
  t.data_bytes AS dataBytes, t.zero_bytes AS zeroBytes, t.preallocated_bytes AS preallocatedBytes,
  r.unallocated_bytes AS unallocatedBytes`;

function parseRoots(text: string): string[] {
  try {
    const roots = JSON.parse(text) as unknown;
    return Array.isArray(roots) ? roots.filter((root): root is string => typeof root === 'string') : [];
  } catch {
    return [];
  }
}

function toRecord(row: RunRow, findings: SeverityCounts | undefined): RunRecord {
  return {
    ...row, roots: parseRoots(row.roots), isFull: row.isFull === 1,
    findings: findings ?? { error: 0, warning: 0, info: 0 },
  };
}

function findingCounts(db: Db, runId: number | null): Map<number, SeverityCounts> {
  // Of every run: from the chain states that have findings (few) to the runs listing them, not from
  // every image of every run (run_findings_all) to its findings; CROSS JOIN keeps that loop order in SQLite.
  // The two parts are summed below.
  const rows = (runId === null
    ? db.prepare(`SELECT ri.run_id AS runId, cf.severity, count(*) AS n
        FROM chain_findings cf CROSS JOIN run_images ri WHERE ri.chain_id = cf.chain_id GROUP BY ri.run_id, cf.severity
        UNION ALL
        SELECT run_id, severity, count(*) FROM run_findings GROUP BY run_id, severity`).all()
    : db.prepare('SELECT run_id AS runId, severity, count(*) AS n FROM run_findings_all WHERE run_id = ? GROUP BY run_id, severity')
      .all(runId)) as { runId: number; severity: keyof SeverityCounts; n: number }[];
  const counts = new Map<number, SeverityCounts>();
  for (const { runId: id, severity, n } of rows) {
    const entry = counts.get(id) ?? { error: 0, warning: 0, info: 0 };
    entry[severity] += n;
    counts.set(id, entry);
  }
  return counts;
}

/** Every run, oldest first. */
export function listRuns(db: Db): RunRecord[] {
  const rows = db.prepare(`SELECT ${RUN_COLUMNS} FROM runs r JOIN run_totals t ON t.run_id = r.id ORDER BY r.id`)
    .all() as RunRow[];
  const counts = findingCounts(db, null);
  return rows.map((row) => toRecord(row, counts.get(row.id)));
}

/** The run `id`, if stored. */
export function findRun(db: Db, id: number): RunRecord | undefined {
  const row = db.prepare(`SELECT ${RUN_COLUMNS} FROM runs r JOIN run_totals t ON t.run_id = r.id WHERE r.id = ?`)
    .get(id) as RunRow | undefined;
  return row === undefined ? undefined : toRecord(row, findingCounts(db, id).get(id));
}

/** The newest complete run. */
export function latestCompleteRunId(db: Db): number | undefined {
  return db.prepare("SELECT id FROM runs WHERE status = 'complete' ORDER BY id DESC LIMIT 1").pluck().get() as
    number | undefined;
}

/** The newest complete run older than run `id`. */
export function completeRunBefore(db: Db, id: number): number | undefined {
  return db.prepare("SELECT id FROM runs WHERE status = 'complete' AND id < ? ORDER BY id DESC LIMIT 1")
    .pluck().get(id) as number | undefined;
}

/** The newest complete run that started at or before `isoTime` (ISO 8601 UTC). */
export function completeRunAtOrBefore(db: Db, isoTime: string): number | undefined {
  return db.prepare("SELECT id FROM runs WHERE status = 'complete' AND started_at <= ? ORDER BY id DESC LIMIT 1")
    .pluck().get(isoTime) as number | undefined;
}

/** The complete runs up to run `id` (inclusive), newest `limit` of them, oldest first. */
export function completeRunsUpTo(db: Db, id: number, limit: number): RunRecord[] {
  const rows = db.prepare(`
    SELECT * FROM (SELECT ${RUN_COLUMNS} FROM runs r JOIN run_totals t ON t.run_id = r.id
                   WHERE r.status = 'complete' AND r.id <= ? ORDER BY r.id DESC LIMIT ?)
    ORDER BY id`).all(id, limit) as RunRow[];
  return rows.map((row) => toRecord(row, undefined));
}

/** The newest run of any status, and the finish time of the newest complete run. */
export function runsOverview(db: Db): { newest: { id: number; status: RunRecord['status'] } | undefined; lastSuccessAt: string | null } {
  const newest = db.prepare('SELECT id, status FROM runs ORDER BY id DESC LIMIT 1').get() as
    { id: number; status: RunRecord['status'] } | undefined;
  const lastSuccessAt = db.prepare(
    "SELECT finished_at FROM runs WHERE status = 'complete' ORDER BY id DESC LIMIT 1").pluck().get() as string | undefined;
  return { newest, lastSuccessAt: lastSuccessAt ?? null };
}
