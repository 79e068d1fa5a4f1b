/**
 * One host's runs, read out of the central store into an in-memory SQLite
 * database with the SQLite schema (all migrations) and the host's own run
 * ids: the reading commands then run on it exactly as on the host's own
 * file, so their output is the same for the same runs. Everything is read
 * in one READ ONLY, REPEATABLE READ transaction; map entries only when
 * asked (`query` may read them; the reports do not).
 */
import { type Db, openDatabase } from '../db.js';
import { migrate } from '../migrator.js';
import { sqlStatement } from '../sql-file.js';
import { StoreError } from '../store-error.js';
import type { PgConn } from './pg-client.js';

const FILE = 'postgres/snapshot.sql';
const sql = (name: string) => sqlStatement(FILE, name);

interface Rows {
  columns: string[];
  rows: unknown[][];
}

/** The hosts of the central store with their run counts. */
export async function centralHosts(conn: PgConn): Promise<{ host: string; runCount: number }[]> {
  const rows = await conn.query<{ host_name: string; run_count: number }>(sql('hosts'));
  return rows.map((r) => ({ host: r.host_name, runCount: r.run_count }));
}

/** The host to read: `host` if given and known, else the only one. Throws StoreError. */
export async function pickHost(conn: PgConn, host: string | undefined): Promise<string> {
  const hosts = await centralHosts(conn);
  if (host !== undefined) {
    if (!hosts.some((h) => h.host === host)) {
      throw new StoreError(`host '${host}' has no runs in the central store ${conn.label}`
        + (hosts.length === 0 ? '' : ` (hosts: ${hosts.map((h) => h.host).join(', ')})`));
    }
    return host;
  }
  if (hosts.length === 1) return hosts[0]!.host;
  if (hosts.length === 0) throw new StoreError(`the central store ${conn.label} holds no runs yet (imgaudit push sends them)`);
  throw new StoreError(`the central store holds ${hosts.length} hosts: pick one with --host NAME (${hosts.map((h) => h.host).join(', ')}), `
    + 'or use report --fleet');
}

function column(result: Rows, name: string): unknown[] {
  const index = result.columns.indexOf(name);
  return result.rows.map((row) => row[index]);
}

function ids(...lists: unknown[][]): number[] {
  const out = new Set<number>();
  for (const list of lists) for (const value of list) if (value !== null && value !== undefined) out.add(Number(value));
  return [...out].sort((a, b) => a - b);
}

function load(db: Db, table: string, result: Rows): void {
  if (result.rows.length === 0) return;
  const insert = db.prepare(`INSERT INTO ${table} (${result.columns.join(', ')}) VALUES (${result.columns.map(() => '?').join(', ')})`);
  for (const row of result.rows) insert.run(...(row as (number | bigint | string | null)[]));
}

/** Reads host `host`'s runs into a new in-memory SQLite database (the caller closes it). */
export async function snapshotHost(conn: PgConn, host: string, options: { withMapEntries?: boolean } = {}): Promise<Db> {
  const tables = await conn.transaction(async () => {
    const out = new Map<string, Rows>();
    const read = async (name: string, param: unknown): Promise<Rows> => {
      const result = await conn.queryArrays(sql(name), [param]);
      out.set(name, result);
      return result;
    };
    for (const name of ['runs', 'run_images', 'run_findings', 'run_depth_totals', 'run_base_sharings', 'run_filesystems',
      'run_root_usage', 'run_format_usage', 'run_image_use', 'run_references']) {
      await read(name, host);
    }
    const sharings = await read('base_sharings', ids(column(out.get('run_base_sharings')!, 'sharing_id')));
    const overlays = await read('base_sharing_overlays', ids(column(sharings, 'id')));
    const chainIds = ids(column(out.get('run_images')!, 'chain_id'), column(overlays, 'chain_id'));
    const chains = await read('chains', chainIds);
    const layers = await read('chain_layers', chainIds);
    const extras = await read('chain_extra_files', chainIds);
    await read('chain_findings', chainIds);
    const fileIds = ids(column(chains, 'top_file_id'), column(layers, 'file_id'), column(extras, 'file_id'), column(sharings, 'file_id'));
    await read('files', fileIds);
    const allocations = await read('file_allocations', fileIds);
    await read('file_snapshots', fileIds);
    const mapIds = ids(column(chains, 'map_id'), column(allocations, 'map_id'));
    await read('maps', mapIds);
    if (options.withMapEntries === true) await read('map_entries', mapIds);
    await read('roots', ids(column(out.get('run_images')!, 'root_id'), column(out.get('run_filesystems')!, 'root_id'),
      column(out.get('run_root_usage')!, 'root_id')));
    await read('images', ids(column(out.get('run_images')!, 'image_id'), column(out.get('run_image_use')!, 'image_id')));
    return out;
  }, { readOnly: true, repeatableRead: true });

  const db = openDatabase(':memory:');
  try {
    migrate(db);
    db.pragma('foreign_keys = OFF');
    db.transaction(() => {
      for (const table of ['roots', 'images', 'files', 'maps', 'map_entries', 'chains', 'chain_layers', 'chain_extra_files',
        'chain_findings', 'file_allocations', 'file_snapshots', 'base_sharings', 'base_sharing_overlays', 'runs', 'run_images',
        'run_findings', 'run_depth_totals', 'run_base_sharings', 'run_filesystems', 'run_root_usage', 'run_format_usage',
        'run_image_use', 'run_references']) {
        const result = tables.get(table);
        if (result !== undefined) load(db, table, result);
      }
    })();
    db.pragma('foreign_keys = ON');
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}
