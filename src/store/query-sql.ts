/**
 * Running one read-only SQL statement (a report definition or `imgaudit
 * query`) and returning its columns and rows. Integers are read exactly:
 * those beyond 2^53 stay bigint; blobs become lowercase hex text.
 */
import type { Db } from './db.js';
import { UsageError } from '../errors.js';

/** A value of a result row. */
export type SqlValue = string | number | bigint | null;

/** A statement's result. */
export interface SqlResult {
  columns: string[];
  rows: SqlValue[][];
}

/** Named parameters (`$name`, `:name` or `@name` in the SQL). */
export type SqlParams = Readonly<Record<string, string | number | null>>;

function toValue(value: unknown): SqlValue {
  if (typeof value === 'bigint') {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
  }
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  if (value === null || typeof value === 'string' || typeof value === 'number') return value;
  return String(value);
}

/**
 * Prepares `sql` (exactly one statement) and runs it with `params`. Throws
 * UsageError when the SQL does not parse or does not return rows (the
 * message is SQLite's); the connection should be read-only or query_only.
 */
export function runSelect(db: Db, sql: string, params: SqlParams = {}): SqlResult {
  return runSelectBounded(db, sql, params, Number.POSITIVE_INFINITY);
}

/** Bytes a value is accounted for in a bounded result (a rough upper bound of what it costs). */
/** What a value costs in memory, roughly (the budget of a query's rows). */
export function costOf(value: SqlValue): number {
  return 16 + (typeof value === 'string' ? 2 * value.length : 8);
}

/**
 * `runSelect` that stops with a UsageError once the rows gathered so far
 * cost more than `maxResultBytes` (costOf), rather than exhaust memory.
 */
export function runSelectBounded(db: Db, sql: string, params: SqlParams, maxResultBytes: number): SqlResult {
  let statement;
  try {
    statement = db.prepare(sql);
  } catch (error) {
    throw new UsageError(`SQL error: ${(error as Error).message}`, { cause: error });
  }
  if (!statement.reader) throw new UsageError('SQL error: the statement returns no rows (only queries are allowed)');
  const columns = statement.columns().map((column) => column.name);
  const rows: SqlValue[][] = [];
  let cost = 0;
  try {
    for (const raw of statement.safeIntegers(true).raw(true).iterate(params) as IterableIterator<unknown[]>) {
      const row = raw.map(toValue);
      cost += row.reduce((sum: number, value) => sum + costOf(value), 16);
      if (cost > maxResultBytes) {
        throw new UsageError(`query: the result passed its memory limit after ${rows.length} rows `
          + '(--max-memory, or query.maxMemoryMiB in the config file)');
      }
      rows.push(row);
    }
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`SQL error: ${(error as Error).message}`, { cause: error });
  }
  return { columns, rows };
}

/** Makes a connection refuse every write, even to temporary tables (PRAGMA query_only). */
export function makeQueryOnly(db: Db): void {
  db.pragma('query_only = ON');
}
