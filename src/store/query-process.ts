/**
 * The child process of a bounded query (bounded-query.ts): opens the
 * database read-only, runs the one statement, and sends back the columns
 * and rows over IPC, stopping with an error once the rows it holds pass
 * the memory budget. The parent kills it when the time limit passes, which
 * also stops SQLite in the middle of a step (this build of SQLite has no
 * progress handler and better-sqlite3 no interrupt).
 */
import { ImgauditError } from '../errors.js';
import { makeQueryOnly, runSelectBounded } from './query-sql.js';
import { openForReading } from './report-db.js';
import type { QueryJob, QueryReply } from './bounded-query.js';

function reply(message: QueryReply): void {
  process.send!(message, undefined, undefined, () => process.exit(0));
}

process.once('message', (job: QueryJob) => {
  try {
    const db = openForReading(job.file, { mayBeBehind: true });
    try {
      makeQueryOnly(db);
      reply({ kind: 'result', result: runSelectBounded(db, job.sql, job.params, job.maxResultBytes) });
    } finally {
      db.close();
    }
  } catch (error) {
    const code = error instanceof ImgauditError ? error.code : 'E_INTERNAL';
    reply({ kind: 'error', code, message: error instanceof Error ? error.message : String(error) });
  }
});
