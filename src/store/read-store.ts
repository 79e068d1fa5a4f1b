/**
 * The one seam between the store's dialects for the reading commands. A
 * ReadStore is either a host's SQLite file or the central PostgreSQL store
 * (`postgres://...`). The report builders read an SQLite database: the file
 * itself, or one host's runs read out of the central store (host-snapshot.ts),
 * so that every format prints the same for the same runs. Statements over
 * the whole store (`query` without --host, the fleet reports) run in the
 * store's own dialect, read-only.
 */
import { UsageError } from '../errors.js';
import type { Db } from './db.js';
import { isPostgresUrl } from './pg/conninfo.js';
import type { PgConn } from './pg/pg-client.js';
import { requireCurrentCentral } from './pg/pg-migrator.js';
import { pickHost, snapshotHost } from './pg/host-snapshot.js';
import { QueryError, type QueryLimits } from './bounded-query.js';
import { type SqlParams, type SqlResult, type SqlValue, costOf, makeQueryOnly, runSelect } from './query-sql.js';
import { openForReading } from './report-db.js';

/** Where and what to read. */
export interface ReadRequest {
  /** An SQLite file, or a postgres:// URL. */
  location: string;
  /** The host whose runs to read (central store only). */
  host?: string | undefined;
  /** Read an SQLite file that lacks the newest migrations (query), instead of refusing it. */
  mayBeBehind?: boolean;
}

/** What the reading commands read through. */
export interface ReadStore {
  readonly dialect: 'sqlite' | 'postgres';
  /** One host's runs as an SQLite database (the caller closes it). */
  hostDb(options?: { withMapEntries?: boolean }): Promise<Db>;
  /**
   * One read-only statement over the whole store, in the store's dialect;
   * with `limits`, stopped (QueryError E_QUERY_LIMIT) past its time or
   * memory budget.
   */
  select(sql: string, params?: SqlParams, limits?: QueryLimits): Promise<SqlResult>;
  /** The central store's connection (fleet reports); throws UsageError for an SQLite file. */
  central(): PgConn;
  close(): Promise<void>;
}

class SqliteReadStore implements ReadStore {
  readonly dialect = 'sqlite';
  private db: Db | undefined;

  constructor(private readonly request: ReadRequest) {}

  private open(): Db {
    this.db ??= openForReading(this.request.location, { mayBeBehind: this.request.mayBeBehind });
    return this.db;
  }

  async hostDb(): Promise<Db> {
    const db = this.open();
    this.db = undefined;
    return db;
  }

  async select(sql: string, params: SqlParams = {}): Promise<SqlResult> {
    const db = this.open();
    makeQueryOnly(db);
    return runSelect(db, sql, params);
  }

  central(): PgConn {
    throw new UsageError('this needs a central store: --db postgres://... (or the config\'s database)');
  }

  async close(): Promise<void> {
    this.db?.close();
  }
}

function toValue(value: unknown): SqlValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  return JSON.stringify(value);
}

/** `$name` parameters (SQLite style) as PostgreSQL's `$1`, `$2`... */
function positional(sql: string, params: SqlParams): { text: string; values: unknown[] } {
  const names: string[] = [];
  const text = sql.replace(/'(?:[^']|'')*'|"(?:[^"]|"")*"|\$([A-Za-z_][A-Za-z0-9_]*)/g, (match, name: string | undefined) => {
    if (name === undefined || !(name in params)) return match;
    let index = names.indexOf(name);
    if (index < 0) index = names.push(name) - 1;
    return `$${index + 1}`;
  });
  return { text, values: names.map((name) => params[name]) };
}

/** Statements a cursor can run (a query); others (SHOW, EXPLAIN) run whole, bounded in time only. */
const CURSOR_STATEMENT = /^\s*\(*\s*(SELECT|WITH|VALUES|TABLE)\b/i;
/** Rows fetched from the cursor at a time. */
const FETCH_ROWS = 1000;
/** PostgreSQL's SQLSTATE for a statement cancelled (statement_timeout). */
const QUERY_CANCELED = '57014';

class CentralReadStore implements ReadStore {
  readonly dialect = 'postgres';

  constructor(private readonly conn: PgConn, private readonly host: string | undefined) {}

  async hostDb(options: { withMapEntries?: boolean } = {}): Promise<Db> {
    return snapshotHost(this.conn, await pickHost(this.conn, this.host), options);
  }

  async select(sql: string, params: SqlParams = {}, limits?: QueryLimits): Promise<SqlResult> {
    const { text, values } = positional(sql, params);
    try {
      return await this.conn.transaction(async () => {
        if (limits === undefined) {
          const result = await this.conn.queryArrays(text, values);
          return { columns: result.columns, rows: result.rows.map((row) => row.map(toValue)) };
        }
        // The server stops the statement at its time limit; the rows come through a cursor, counted against the memory budget.
        await this.conn.query(`SET LOCAL statement_timeout = ${Math.max(1, Math.ceil(limits.timeoutSeconds * 1000))}`);
        if (!CURSOR_STATEMENT.test(text)) {
          const result = await this.conn.queryArrays(text, values);
          return { columns: result.columns, rows: result.rows.map((row) => row.map(toValue)) };
        }
        return await this.fetchBounded(text, values, limits);
      }, { readOnly: true });
    } catch (error) {
      if (error instanceof QueryError) throw error;
      if ((error as { sqlState?: string }).sqlState === QUERY_CANCELED) {
        throw new QueryError('E_QUERY_LIMIT', `query: stopped after ${limits!.timeoutSeconds} s, its time limit `
          + '(--timeout, or query.timeoutSeconds in the config file)');
      }
      throw new UsageError(`SQL error: ${(error as Error).message}`, { cause: error });
    }
  }

  /** The rows of `text`, FETCH_ROWS at a time, until they cost more than a quarter of the memory limit. */
  private async fetchBounded(text: string, values: unknown[], limits: QueryLimits): Promise<SqlResult> {
    const maxResultBytes = Math.floor(limits.maxMemoryMiB * 1024 * 1024 / 4);
    await this.conn.queryArrays(`DECLARE imgaudit_query NO SCROLL CURSOR FOR ${text}`, values);
    const rows: SqlValue[][] = [];
    let columns: string[] = [];
    let cost = 0;
    for (;;) {
      const batch = await this.conn.queryArrays(`FETCH FORWARD ${FETCH_ROWS} FROM imgaudit_query`);
      columns = batch.columns;
      for (const raw of batch.rows) {
        const row = raw.map(toValue);
        cost += row.reduce((sum: number, value) => sum + costOf(value), 16);
        if (cost > maxResultBytes) {
          throw new QueryError('E_QUERY_LIMIT', `query: the result passed its memory limit after ${rows.length} rows `
            + '(--max-memory, or query.maxMemoryMiB in the config file)');
        }
        rows.push(row);
      }
      if (batch.rows.length < FETCH_ROWS) return { columns, rows };
    }
  }

  central(): PgConn {
    return this.conn;
  }

  async close(): Promise<void> {
    await this.conn.close();
  }
}

/** Opens the store of `request`. Throws StoreError, MigrationError or UsageError. */
export async function openReadStore(request: ReadRequest): Promise<ReadStore> {
  if (!isPostgresUrl(request.location)) {
    if (request.host !== undefined) {
      throw new UsageError('--host picks one host of a central store: give --db postgres://... (an SQLite file holds one host)');
    }
    return new SqliteReadStore(request);
  }
  // The PostgreSQL client loads only for a central store: an SQLite read does not pay for it.
  const { connectCentral } = await import('./pg/pg-client.js');
  const conn = await connectCentral(request.location);
  try {
    await requireCurrentCentral(conn);
  } catch (error) {
    await conn.close();
    throw error;
  }
  return new CentralReadStore(conn, request.host);
}
