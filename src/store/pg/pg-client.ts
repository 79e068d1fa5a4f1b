/**
 * The only importer of `pg` (node-postgres): one connection to the central
 * store with the settings conninfo.ts resolved, transactions (read-only ones
 * for the reading commands), integers read exactly (int8 and integral
 * numeric become numbers, or bigint beyond 2^53), and every error turned
 * into a StoreError whose message names the server without its password
 * and is scrubbed of every secret.
 */
import fs from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import pg from 'pg';
import { StoreError } from '../store-error.js';
import { type ConnSettings, redactUrl, resolveConnSettings } from './conninfo.js';

/** A row of a query, by column name. */
export type PgRow = Record<string, unknown>;

/** An open connection to the central store. */
export interface PgConn {
  /** user@host:port/database, for messages. */
  readonly label: string;
  query<T = PgRow>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Rows as arrays, with the column names (for `query`, where names may repeat). */
  queryArrays(sql: string, params?: readonly unknown[]): Promise<{ columns: string[]; rows: unknown[][] }>;
  /** Runs `body` in one transaction; commits when it resolves, rolls back when it throws. */
  transaction<T>(body: () => Promise<T>, options?: { readOnly?: boolean; repeatableRead?: boolean }): Promise<T>;
  close(): Promise<void>;
}

/** SQLSTATE classes after which the same work may simply be tried again. */
export function isRetryable(error: unknown): boolean {
  const code = (error as { sqlState?: string } | undefined)?.sqlState;
  return code === '40P01' || code === '40001';
}

/** A StoreError from the central store, with its SQLSTATE when the server gave one. */
export class CentralError extends StoreError {
  constructor(message: string, readonly sqlState: string | undefined, options?: ErrorOptions) {
    super(message, options);
  }
}

function exactInteger(text: string): number | bigint {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : BigInt(text);
}

function numeric(text: string): number | bigint | string {
  if (/^-?\d+$/.test(text)) return exactInteger(text);
  const n = Number(text);
  return Number.isFinite(n) ? n : text;
}

const TYPES = {
  getTypeParser(oid: number, format?: string): (text: string) => unknown {
    if (oid === 20) return exactInteger;
    if (oid === 1700) return numeric;
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

function scrub(text: string, settings: Pick<ConnSettings, 'secrets'>): string {
  let out = text;
  for (const secret of settings.secrets) out = out.split(secret).join('***');
  return redactUrl(out);
}

function describe(error: unknown): { message: string; sqlState: string | undefined } {
  const e = error as { code?: string; message?: string; errors?: { message?: string }[] };
  const sqlState = typeof e?.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) ? e.code : undefined;
  let message = e?.message ?? String(error);
  if (message === '' && Array.isArray(e?.errors)) message = e.errors.map((x) => x.message).join('; ');
  if (e?.code === 'ENOENT' || e?.code === 'ECONNREFUSED') message = `no server is listening (${e.code})`;
  if (/client password must be a string/.test(message)) {
    message = 'the server asks for a password and none was found (URL, PGPASSWORD, a private ~/.pgpass or PGPASSFILE, '
      + 'or the service file)';
  }
  return { message, sqlState };
}

function tlsOptions(settings: ConnSettings, isSocket: boolean): ConnectionOptions | false {
  if (isSocket || settings.sslMode === 'disable' || settings.sslMode === 'allow' || settings.sslMode === 'prefer') return false;
  const read = (file: string | undefined, what: string): Buffer | undefined => {
    if (file === undefined) return undefined;
    try {
      return fs.readFileSync(file);
    } catch (error) {
      throw new StoreError(`cannot read ${what} '${file}': ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
  };
  const client = { cert: read(settings.sslCert, 'sslcert'), key: read(settings.sslKey, 'sslkey') };
  if (settings.sslMode === 'require') return { ...client, rejectUnauthorized: false };
  const ca = read(settings.sslRootCert, 'sslrootcert');
  if (ca === undefined) {
    throw new StoreError(`sslmode=${settings.sslMode} needs a root certificate: set sslrootcert, PGSSLROOTCERT or ~/.postgresql/root.crt`);
  }
  if (settings.sslMode === 'verify-ca') return { ...client, ca, rejectUnauthorized: true, checkServerIdentity: () => undefined };
  return { ...client, ca, rejectUnauthorized: true, servername: settings.host };
}

class Connection implements PgConn {
  constructor(private readonly client: pg.Client, private readonly settings: ConnSettings) {}

  get label(): string {
    return this.settings.label;
  }

  private fail(error: unknown): never {
    if (error instanceof StoreError) throw error;
    const { message, sqlState } = describe(error);
    throw new CentralError(`central store ${this.settings.label}: ${scrub(message, this.settings)}`, sqlState);
  }

  async query<T = PgRow>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    try {
      const result = await this.client.query(sql, params as unknown[]);
      return (Array.isArray(result) ? result.at(-1)?.rows ?? [] : result.rows) as T[];
    } catch (error) {
      this.fail(error);
    }
  }

  async queryArrays(sql: string, params: readonly unknown[] = []): Promise<{ columns: string[]; rows: unknown[][] }> {
    try {
      const result = await this.client.query({ text: sql, values: params as unknown[], rowMode: 'array' });
      return { columns: result.fields.map((field) => field.name), rows: result.rows as unknown[][] };
    } catch (error) {
      this.fail(error);
    }
  }

  async transaction<T>(body: () => Promise<T>, options: { readOnly?: boolean; repeatableRead?: boolean } = {}): Promise<T> {
    const mode = `${options.repeatableRead ? ' ISOLATION LEVEL REPEATABLE READ' : ''}${options.readOnly ? ' READ ONLY' : ''}`;
    await this.query(`BEGIN${mode}`);
    let result: T;
    try {
      result = await body();
    } catch (error) {
      try {
        await this.client.query('ROLLBACK');
      } catch {
        // the connection is gone: the server rolled back
      }
      throw error;
    }
    await this.query('COMMIT');
    return result;
  }

  async close(): Promise<void> {
    try {
      await this.client.end();
    } catch {
      // closing a broken connection
    }
  }
}

/**
 * Connects to the central store at `location` (a postgres:// URL, completed
 * by the PG* environment, service and password files). Throws StoreError
 * with a message that never holds the password.
 */
export async function connectCentral(location: string, env: NodeJS.ProcessEnv = process.env): Promise<PgConn> {
  const settings = resolveConnSettings(location, env);
  const isSocket = settings.host.startsWith('/');
  const attempt = async (ssl: ConnectionOptions | false): Promise<PgConn> => {
    const client = new pg.Client({
      host: settings.host, port: settings.port, user: settings.user, database: settings.database,
      // A function: node-postgres then never reads ~/.pgpass itself (conninfo.ts did).
      password: (async () => settings.password) as () => Promise<string>,
      ssl, application_name: settings.applicationName, types: TYPES,
      connectionTimeoutMillis: settings.connectTimeoutSeconds * 1000, keepAlive: true,
    });
    // A dropped connection emits 'error' outside any query: the next query fails instead.
    client.on('error', () => undefined);
    try {
      await client.connect();
    } catch (error) {
      await client.end().catch(() => undefined);
      const { message, sqlState } = describe(error);
      throw new CentralError(`cannot connect to the central store ${settings.label}: ${scrub(message, settings)}`, sqlState, {
        cause: scrub(message, settings),
      });
    }
    return new Connection(client, settings);
  };
  if (!isSocket && settings.sslMode === 'prefer') {
    // libpq's prefer: TLS without verification when the server offers it, plain otherwise.
    try {
      return await attempt({ rejectUnauthorized: false });
    } catch (error) {
      if (!/does not support SSL/i.test((error as Error).message)) throw error;
    }
  }
  return attempt(tlsOptions(settings, isSocket));
}
