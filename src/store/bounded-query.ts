/**
 * `imgaudit query` bounded in time and memory: the statement runs in a
 * child process (query-process.ts) with a V8 heap limit and a budget for
 * the rows it gathers, and is killed when the time limit passes, so no
 * statement (a runaway recursive CTE, a cross join) can hold the machine.
 * Both limits come from the configuration (`query.timeoutSeconds`,
 * `query.maxMemoryMiB`) or flags. One host's runs read out of the central
 * store are queried the same way (runBoundedQueryOn).
 */
import { fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ImgauditError } from '../errors.js';
import type { Db } from './db.js';
import type { SqlParams, SqlResult } from './query-sql.js';

/** What the child is asked to do. */
export interface QueryJob {
  file: string;
  sql: string;
  params: SqlParams;
  maxResultBytes: number;
}

/** What the child answers. */
export type QueryReply = { kind: 'result'; result: SqlResult } | { kind: 'error'; code: string; message: string };

/** The limits of one query. */
export interface QueryLimits {
  timeoutSeconds: number;
  maxMemoryMiB: number;
}

/** A query failed, or passed a limit: the child's error code and message. */
export class QueryError extends ImgauditError {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

const CHILD = fileURLToPath(new URL('./query-process.js', import.meta.url));

/** Runs `sql` over the database at `file` within `limits`; throws QueryError (or the child's error). */
export function runBoundedQuery(file: string, sql: string, params: SqlParams, limits: QueryLimits): Promise<SqlResult> {
  const heapMiB = Math.max(64, limits.maxMemoryMiB);
  // The rows' accounted size is a fraction of what V8 holds for them, and the reply is copied once more.
  const maxResultBytes = Math.floor(limits.maxMemoryMiB * 1024 * 1024 / 4);
  const child = fork(CHILD, [], {
    execArgv: [`--max-old-space-size=${heapMiB}`], serialization: 'advanced', stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    let reply: QueryReply | null = null;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, limits.timeoutSeconds * 1000);
    child.stderr?.resume();
    child.on('message', (message: QueryReply) => { reply = message; });
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new QueryError('E_QUERY', `query: cannot start the query process: ${error.message}`));
    });
    child.on('exit', (status, signal) => {
      clearTimeout(timer);
      const answer = reply as QueryReply | null;
      if (answer?.kind === 'result') resolve(answer.result);
      else if (answer?.kind === 'error') reject(new QueryError(answer.code, answer.message));
      else if (timedOut) {
        reject(new QueryError('E_QUERY_LIMIT', `query: stopped after ${limits.timeoutSeconds} s, its time limit `
          + '(--timeout, or query.timeoutSeconds in the config file)'));
      } else {
        reject(new QueryError('E_QUERY_LIMIT', `query: ran out of memory (limit ${limits.maxMemoryMiB} MiB: --max-memory, `
          + `or query.maxMemoryMiB in the config file; the query process ended with ${signal ?? `status ${status}`})`));
      }
    });
    child.send({ file, sql, params, maxResultBytes } satisfies QueryJob);
  });
}

/**
 * `runBoundedQuery` over a database held in memory (one host's runs read
 * out of the central store): it is written to a private temporary file for
 * the query process, and removed after.
 */
export async function runBoundedQueryOn(db: Db, sql: string, params: SqlParams, limits: QueryLimits): Promise<SqlResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-query-'));
  try {
    const file = path.join(dir, 'host.db');
    fs.writeFileSync(file, db.serialize(), { mode: 0o600 });
    return await runBoundedQuery(file, sql, params, limits);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
