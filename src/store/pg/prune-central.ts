/**
 * `imgaudit prune --db postgres://...`: retention on the central store, per
 * host (one host with --host, else every host), by the rules of the SQLite
 * retention (retention.ts), then the shared content no run of any host
 * references. One transaction under an exclusive lock that pushes hold
 * shared; a dry run rolls back.
 */
import type { RetentionPolicy } from '../retention.js';
import { sqlStatement } from '../sql-file.js';
import { type PgConn, connectCentral } from './pg-client.js';
import { requireCurrentCentral } from './pg-migrator.js';

const FILE = 'postgres/prune.sql';
const sql = (name: string) => sqlStatement(FILE, name);

/** What a central prune removed (or would remove), per host. */
export interface CentralPruneResult {
  hosts: { host: string; removedRunIds: number[]; keptRunIds: number[] }[];
  counts: { runs: number; chains: number; maps: number; files: number };
  isDryRun: boolean;
  databaseBytesBefore: number;
  databaseBytesAfter: number;
}

const ROLLBACK = Symbol('dry run');

async function count(conn: PgConn, name: string, params: unknown[] = []): Promise<number> {
  const rows = await conn.query<{ n: number }>(`WITH d AS (${sql(name)} RETURNING 1) SELECT count(*)::bigint AS n FROM d`, params);
  return Number(rows[0]?.n ?? 0);
}

/** Applies `policy` to `host` (or every host). Throws StoreError. */
export async function pruneCentral(conn: PgConn, options: { host: string | undefined; policy: RetentionPolicy; isDryRun: boolean }):
  Promise<CentralPruneResult> {
  const bytes = async () => Number((await conn.query<{ bytes: number }>(sql('database_bytes')))[0]?.bytes ?? 0);
  const databaseBytesBefore = await bytes();
  let result: CentralPruneResult | undefined;
  try {
    await conn.transaction(async () => {
      await conn.query(sql('lock'));
      const hosts = (await conn.query<{ host_name: string }>(sql('hosts'), [options.host ?? null])).map((r) => r.host_name);
      const perHost: CentralPruneResult['hosts'] = [];
      let runs = 0;
      for (const host of hosts) {
        const ids = async () => (await conn.query<{ local_id: number }>(sql('run_ids'), [host])).map((r) => r.local_id);
        const before = await ids();
        if (options.policy.keepRuns !== null) runs += await count(conn, 'drop_by_count', [host, options.policy.keepRuns]);
        if (options.policy.olderThanMs !== null) {
          const cutoff = new Date(options.policy.now.getTime() - options.policy.olderThanMs).toISOString();
          runs += await count(conn, 'drop_by_age', [host, cutoff]);
        }
        const after = await ids();
        const kept = new Set(after);
        perHost.push({ host, removedRunIds: before.filter((id) => !kept.has(id)), keptRunIds: after });
      }
      let chains = 0;
      let maps = 0;
      let files = 0;
      if (runs > 0) {
        await conn.query(sql('drop_sharings'));
        chains = await count(conn, 'drop_chains');
        await conn.query(sql('drop_file_facts'));
        maps = await count(conn, 'drop_maps');
        files = await count(conn, 'drop_files');
        await conn.query(sql('drop_images'));
        await conn.query(sql('drop_roots'));
      }
      result = { hosts: perHost, counts: { runs, chains, maps, files }, isDryRun: options.isDryRun, databaseBytesBefore, databaseBytesAfter: 0 };
      if (options.isDryRun) throw ROLLBACK;
    });
  } catch (error) {
    if (error !== ROLLBACK) throw error;
  }
  result!.databaseBytesAfter = await bytes();
  return result!;
}

/** Connects to the central store at `location` (schema current), prunes, closes. */
export async function pruneCentralDatabase(location: string, options: { host: string | undefined; policy: RetentionPolicy; isDryRun: boolean }):
  Promise<CentralPruneResult> {
  const conn = await connectCentral(location);
  try {
    await requireCurrentCentral(conn);
    return await pruneCentral(conn, options);
  } finally {
    await conn.close();
  }
}
