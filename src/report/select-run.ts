/** Picking the run a command works on, with the messages of SPEC §2.6 exit status 2. */
import { ImgauditError } from '../errors.js';
import type { Db } from '../store/db.js';
import {
  type RunRecord, completeRunAtOrBefore, completeRunBefore, findRun, latestCompleteRunId,
} from '../store/report-runs.js';

/** The database holds no run that fits the request (exit status 2). */
export class RunSelectionError extends ImgauditError {
  readonly code = 'E_RUN';
}

/** Parses a run argument: `latest` or a positive integer. Throws RunSelectionError. */
export function parseRunSpec(spec: string | number | undefined, what = 'run'): number | 'latest' {
  if (spec === undefined || spec === 'latest') return 'latest';
  const text = String(spec);
  if (!/^[1-9]\d{0,15}$/.test(text)) throw new RunSelectionError(`${what}: expected a run id or 'latest', got '${text}'`);
  return Number(text);
}

function mustFind(db: Db, id: number): RunRecord {
  const run = findRun(db, id);
  if (run === undefined) throw new RunSelectionError(`there is no run #${id} in the database (imgaudit runs lists them)`);
  return run;
}

/**
 * The run `spec` names (`latest`: the newest complete run). A running run
 * has no totals yet and is refused.
 */
export function selectRun(db: Db, spec: number | 'latest'): RunRecord {
  if (spec === 'latest') {
    const id = latestCompleteRunId(db);
    if (id === undefined) throw new RunSelectionError('the database holds no complete run yet (run imgaudit scan)');
    return mustFind(db, id);
  }
  const run = mustFind(db, spec);
  if (run.status === 'running') {
    throw new RunSelectionError(`run #${spec} is still running (or its scan died; the next scan marks it interrupted)`);
  }
  return run;
}

/** The complete run before `run`, if any. */
export function previousCompleteRun(db: Db, run: RunRecord): RunRecord | undefined {
  const id = completeRunBefore(db, run.id);
  return id === undefined ? undefined : findRun(db, id);
}

/** The newest complete run that started at or before `isoTime`. Throws RunSelectionError. */
export function completeRunAt(db: Db, isoTime: string, what: string): RunRecord {
  const id = completeRunAtOrBefore(db, isoTime);
  if (id === undefined) throw new RunSelectionError(`no complete run started ${what} (at or before ${isoTime})`);
  return mustFind(db, id);
}
