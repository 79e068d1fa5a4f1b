/**
 * `imgaudit push`: ships the ended runs of a host's SQLite file that the
 * central store lacks, oldest first, each in ONE central transaction (so an
 * interrupted push — server restart, network cut, kill -9 — leaves either
 * the whole run or nothing, and the next push sends what is missing). The
 * central store is the only bookkeeping: it says which local run ids of the
 * host it holds. Within a run's transaction, a per-host advisory lock makes
 * two pushes of one host take turns; paths, file states, maps, chain states
 * and base sharings are looked up by content key first and only the
 * missing ones are sent (an unchanged next run sends little more than its
 * run rows). Deadlocks between hosts inserting the same content retry.
 */
import { redactUrl } from './conninfo.js';
import { isRetryable, type PgConn } from './pg-client.js';
import { FILE_KEY_COLUMNS, type LocalChain, LocalReader, type LocalRun, type LocalSharing, type Row, type Value, fileKey } from './push-local.js';
import type { Db } from '../db.js';
import { sqlStatement } from '../sql-file.js';
import { StoreError } from '../store-error.js';

const FILE = 'postgres/push.sql';
/** Rows per insert statement (one array per column). */
const BATCH_ROWS = 20_000;
/** Tries of one run's transaction when hosts deadlock on shared content. */
const MAX_TRIES = 6;

/** What one push did. */
export interface PushResult {
  host: string;
  /** Local ids of the runs sent now. */
  pushedRunIds: number[];
  /** Ended runs the central store already had. */
  alreadyThere: number;
  /** Rows sent, by table (content found centrally is not sent). */
  rows: Record<string, number>;
}

/** Test and benchmark hooks: called between the steps of a run's transaction. */
export interface PushHooks {
  onStep?: (step: string, localRunId: number) => Promise<void> | void;
}

const sql = (name: string) => sqlStatement(FILE, name);

/** Array parameters for PostgreSQL: bigints as decimal text. */
function param(value: Value | undefined): Value {
  return typeof value === 'bigint' ? value.toString() : value ?? null;
}

function columnsOf(rows: readonly Row[], columns: readonly string[]): Value[][] {
  return columns.map((column) => rows.map((row) => param(row[column] ?? null)));
}

/** Redacts URLs with passwords inside a run's stored config (older runs may hold one). */
function redactConfig(text: Value): Value {
  return typeof text === 'string' ? text.replace(/postgres(?:ql)?:\/\/[^"\s]*/gi, (url) => redactUrl(url)) : text;
}

class RunPush {
  readonly rows: Record<string, number> = {};

  constructor(private readonly conn: PgConn, private readonly reader: LocalReader, private readonly host: string,
    private readonly hooks: PushHooks) {}

  private count(table: string, n: number): void {
    this.rows[table] = (this.rows[table] ?? 0) + n;
  }

  private async insert(name: string, table: string, rows: readonly Row[], columns: readonly string[],
    prefix: readonly Value[] = []): Promise<Row[]> {
    const out: Row[] = [];
    for (let i = 0; i < rows.length; i += BATCH_ROWS) {
      const batch = rows.slice(i, i + BATCH_ROWS);
      const result = await this.conn.query<Row>(sql(name), [...prefix, ...columnsOf(batch, columns)]);
      out.push(...result);
    }
    this.count(table, rows.length);
    return out;
  }

  /** Central ids of paths (inserted when missing, with the exact bytes of a path not UTF-8: `[text, hex]` pairs). */
  private async idsByText(insertName: string, selectName: string, table: string, values: [Value | undefined, Value | undefined][]): Promise<Map<string, number>> {
    const hexOf = new Map(values.map(([text, hex]) => [String(text), hex ?? null]));
    const unique = [...hexOf.keys()].sort();
    await this.conn.query(sql(insertName), [unique, unique.map((text) => hexOf.get(text)!)]);
    const rows = await this.conn.query<{ id: number; path: string }>(sql(selectName), [unique]);
    this.count(table, unique.length);
    return new Map(rows.map((r) => [r.path, r.id]));
  }

  private async step(name: string, localRunId: number): Promise<void> {
    await this.hooks.onStep?.(name, localRunId);
  }

  /** Central file ids for local file ids (inserting the missing file states). */
  private async fileIds(localIds: readonly number[]): Promise<Map<number, number>> {
    const files = this.reader.files([...new Set(localIds)]);
    const byKey = new Map<string, Row>();
    for (const file of files.values()) byKey.set(fileKey(file), file);
    const rows = [...byKey.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([, row]) => row);
    for (let i = 0; i < rows.length; i += BATCH_ROWS) {
      await this.conn.query(sql('insert_files'), columnsOf(rows.slice(i, i + BATCH_ROWS), [
        ...FILE_KEY_COLUMNS, 'virtual_size_bytes', 'backing_name', 'backing_format', 'cluster_size_bytes', 'version', 'flags',
        'path_hex']));
    }
    this.count('files', rows.length);
    const central = new Map<string, number>();
    for (let i = 0; i < rows.length; i += BATCH_ROWS) {
      const batch = rows.slice(i, i + BATCH_ROWS);
      const found = await this.conn.query<{ id: number; ord: number }>(sql('file_ids'), columnsOf(batch, FILE_KEY_COLUMNS));
      for (const { id, ord } of found) central.set(fileKey(batch[ord - 1]!), id);
    }
    return new Map([...files].map(([localId, row]) => [localId, central.get(fileKey(row))!]));
  }

  /** Central map ids for local map ids (inserting missing maps with their entries). */
  private async mapIds(localIds: readonly number[]): Promise<Map<number, number>> {
    const maps = this.reader.maps([...new Set(localIds)]);
    const hashes = [...new Set([...maps.values()].map((m) => String(m.hash)))].sort();
    const central = new Map<string, number>();
    for (const r of await this.conn.query<{ id: number; hash: string }>(sql('existing_maps'), [hashes])) central.set(r.hash, r.id);
    const missing = [...new Map([...maps.values()].filter((m) => !central.has(String(m.hash))).map((m) => [String(m.hash), m])).values()]
      .sort((a, b) => (String(a.hash) < String(b.hash) ? -1 : 1));
    if (missing.length > 0) {
      const inserted = await this.insert('insert_maps', 'maps', missing, ['hash', 'entry_count', 'virtual_size_bytes']);
      const insertedHashes = new Set(inserted.map((r) => String(r.hash)));
      for (const r of inserted) central.set(String(r.hash), Number(r.id));
      // Entries of the maps inserted now, read and sent for many maps at once.
      const mine = missing.filter((map) => insertedHashes.has(String(map.hash)));
      let batch: Row[] = [];
      let batchMaps: number[] = [];
      let batchEntries = 0;
      const flush = async () => {
        if (batchMaps.length === 0) return;
        for (const entry of this.reader.mapEntries(batchMaps)) batch.push({ ...entry, map_id: centralByLocal.get(Number(entry.map_id))! });
        await this.insert('insert_map_entries', 'map_entries', batch, ['map_id', 'start_bytes', 'length_bytes', 'depth', 'flags', 'offset_bytes']);
        batch = [];
        batchMaps = [];
        batchEntries = 0;
      };
      const centralByLocal = new Map(mine.map((map) => [Number(map.id), central.get(String(map.hash))!]));
      for (const map of mine) {
        batchMaps.push(Number(map.id));
        batchEntries += Number(map.entry_count);
        if (batchEntries >= BATCH_ROWS) await flush();
      }
      await flush();
      // Maps another host inserted meanwhile.
      const late = missing.filter((m) => !insertedHashes.has(String(m.hash))).map((m) => String(m.hash));
      if (late.length > 0) {
        for (const r of await this.conn.query<{ id: number; hash: string }>(sql('existing_maps'), [late])) central.set(r.hash, r.id);
      }
    }
    return new Map([...maps].map(([localId, row]) => [localId, central.get(String(row.hash))!]));
  }

  /** Inserts the chain states the central store lacks; returns central ids by central key. */
  private async chainIds(chains: readonly LocalChain[], fileIds: Map<number, number>, mapIds: Map<number, number>,
    existing: Map<string, number>): Promise<Map<string, number>> {
    const ids = new Map(existing);
    const missing = [...new Map(chains.filter((c) => !ids.has(c.centralKey)).map((c) => [c.centralKey, c])).values()]
      .sort((a, b) => (a.centralKey < b.centralKey ? -1 : 1));
    if (missing.length === 0) return ids;
    const rows = missing.map((c) => ({
      ...c.row, key: c.centralKey, top_file_id: fileIds.get(Number(c.row.top_file_id))!,
      map_id: c.row.map_id === null ? null : mapIds.get(Number(c.row.map_id))!,
    }));
    const inserted = await this.insert('insert_chains', 'chains', rows, ['key', 'top_file_id', 'map_id', 'layer_count',
      'virtual_size_bytes', 'unallocated_bytes', 'error_code', 'error_message', 'commit_growth_bytes', 'has_layer_figures',
      'commit_growth_min_bytes', 'commit_growth_max_bytes', 'commit_data_growth_bytes', 'commit_end_growth_min_bytes',
      'commit_end_growth_max_bytes']);
    for (const r of inserted) ids.set(String(r.key), Number(r.id));
    const insertedKeys = new Set(inserted.map((r) => String(r.key)));
    const mine = missing.filter((c) => insertedKeys.has(c.centralKey));
    const central = (c: LocalChain) => ids.get(c.centralKey)!;
    const layers = mine.flatMap((c) => c.layers.map((l) => ({ ...l, chain_id: central(c), file_id: fileIds.get(Number(l.file_id))! })));
    await this.insert('insert_chain_layers', 'chain_layers', layers, ['chain_id', 'depth', 'file_id', 'data_bytes', 'zero_bytes',
      'preallocated_bytes', 'shadowed_data_bytes', 'shadowed_zero_bytes', 'shadowed_preallocated_bytes']);
    const extras = mine.flatMap((c) => c.extras.map((e) => ({ ...e, chain_id: central(c), file_id: fileIds.get(Number(e.file_id))! })));
    if (extras.length > 0) await this.insert('insert_chain_extra_files', 'chain_extra_files', extras, ['chain_id', 'depth', 'file_id']);
    const findings = mine.flatMap((c) => c.findings.map((f) => ({ ...f, chain_id: central(c) })));
    if (findings.length > 0) {
      await this.insert('insert_chain_findings', 'chain_findings', findings, ['chain_id', 'seq', 'code', 'severity', 'depth', 'message']);
    }
    // Chain states another host inserted meanwhile.
    const late = missing.filter((c) => !ids.has(c.centralKey)).map((c) => c.centralKey);
    if (late.length > 0) {
      for (const r of await this.conn.query<{ id: number; key: string }>(sql('existing_chains'), [late])) ids.set(r.key, r.id);
    }
    return ids;
  }

  /** Sends one run inside the caller's transaction; false when the central store already had it. */
  async send(run: LocalRun): Promise<boolean> {
    const localId = Number(run.row.id);
    // Shared with other pushes, exclusive for a central prune: content found here stays until commit.
    await this.conn.query(sqlStatement('postgres/prune.sql', 'push_lock'));
    await this.conn.query(sql('host_lock'), [this.host]);
    if ((await this.conn.query(sql('has_run'), [this.host, localId])).length > 0) return false;
    await this.step('locked', localId);

    const sharings: LocalSharing[] = this.reader.sharings(run.sharingIds);
    const chainIds = [...new Set([...run.images.map((i) => Number(i.chain_id)),
      ...sharings.flatMap((s) => s.overlays.map((o) => Number(o.chain_id)))])];
    const chains = this.reader.chains(chainIds);
    const keys = [...new Set([...chains.values()].map((c) => c.centralKey))];
    const existing = new Map<string, number>();
    for (let i = 0; i < keys.length; i += BATCH_ROWS) {
      const found = await this.conn.query<{ id: number; key: string }>(sql('existing_chains'), [keys.slice(i, i + BATCH_ROWS)]);
      for (const r of found) existing.set(r.key, r.id);
    }
    const existingSharings = new Map<string, number>();
    if (sharings.length > 0) {
      const found = await this.conn.query<{ id: number; key: string }>(sql('existing_sharings'), [sharings.map((s) => s.centralKey)]);
      for (const r of found) existingSharings.set(r.key, r.id);
    }
    const missingChains = [...chains.values()].filter((c) => !existing.has(c.centralKey));
    const missingSharings = sharings.filter((s) => !existingSharings.has(s.centralKey));
    await this.step('looked-up', localId);

    // File states and maps of what is missing, then the chain states.
    const localFileIds = [...new Set([...missingChains.flatMap((c) => c.fileIds), ...missingSharings.map((s) => Number(s.row.file_id))])];
    const fileIds = await this.fileIds(localFileIds);
    const facts = this.reader.fileFacts(localFileIds);
    const mapIds = await this.mapIds([...missingChains.filter((c) => c.row.map_id !== null).map((c) => Number(c.row.map_id)),
      ...facts.allocations.map((a) => Number(a.map_id))]);
    await this.step('maps', localId);
    const centralChains = await this.chainIds([...chains.values()], fileIds, mapIds, existing);
    if (facts.allocations.length > 0) {
      await this.insert('insert_file_allocations', 'file_allocations', facts.allocations.map((a) => ({
        ...a, file_id: fileIds.get(Number(a.file_id))!, map_id: mapIds.get(Number(a.map_id))!,
      })).sort((a, b) => Number(a.file_id) - Number(b.file_id)), ['file_id', 'map_id', 'data_bytes', 'zero_bytes', 'preallocated_bytes',
        'true_data_bytes', 'true_zero_bytes', 'true_preallocated_bytes', 'unwritten_bytes']);
    }
    if (facts.snapshots.length > 0) {
      await this.insert('insert_file_snapshots', 'file_snapshots', facts.snapshots.map((s) => ({ ...s, file_id: fileIds.get(Number(s.file_id))! })),
        ['file_id', 'seq', 'snapshot_id', 'name', 'created_at', 'vm_state_bytes']);
    }
    const sharingIds = new Map(existingSharings);
    if (missingSharings.length > 0) {
      const sorted = [...missingSharings].sort((a, b) => (a.centralKey < b.centralKey ? -1 : 1));
      const inserted = await this.insert('insert_sharings', 'base_sharings', sorted.map((s) => ({
        ...s.row, key: s.centralKey, file_id: fileIds.get(Number(s.row.file_id))!,
      })), ['key', 'file_id', 'overlay_count', 'read_bytes', 'shared_bytes', 'unread_bytes']);
      for (const r of inserted) sharingIds.set(String(r.key), Number(r.id));
      const insertedKeys = new Set(inserted.map((r) => String(r.key)));
      const overlays = sorted.filter((s) => insertedKeys.has(s.centralKey)).flatMap((s) => s.overlays.map((o) => ({
        ...o, sharing_id: sharingIds.get(s.centralKey)!, chain_id: centralChains.get(chains.get(Number(o.chain_id))!.centralKey)!,
      })));
      if (overlays.length > 0) {
        await this.insert('insert_sharing_overlays', 'base_sharing_overlays', overlays, ['sharing_id', 'chain_id', 'read_bytes', 'unique_bytes']);
      }
      const late = sorted.filter((s) => !sharingIds.has(s.centralKey)).map((s) => s.centralKey);
      if (late.length > 0) {
        for (const r of await this.conn.query<{ id: number; key: string }>(sql('existing_sharings'), [late])) sharingIds.set(r.key, r.id);
      }
    }
    await this.step('chains', localId);

    // The run and its own rows.
    const rootIds = await this.idsByText('insert_roots', 'root_ids', 'roots',
      [...run.images, ...run.filesystems, ...run.rootUsage].map((row) => [row.root_path, row.root_path_hex]));
    const imageIds = await this.idsByText('insert_images', 'image_ids', 'images',
      [...run.images, ...run.imageUse].map((row) => [row.image_path, row.image_path_hex]));
    const r = run.row;
    const [inserted] = await this.conn.query<{ id: number }>(sql('insert_run'), [
      r.started_at, r.finished_at, r.status, r.pid, r.host, r.tool_version, r.roots, redactConfig(r.config ?? null), r.fingerprint, r.is_full,
      r.image_count, r.error_count, r.new_count, r.changed_count, r.read_count, r.mapped_bytes, r.virtual_size_bytes,
      r.disk_usage_bytes, r.unallocated_bytes, r.data_bytes, r.zero_bytes, r.preallocated_bytes, this.host, localId,
      new Date().toISOString(),
    ].map((v) => param(v as Value)));
    const runId = inserted!.id;
    this.count('runs', 1);
    await this.step('run', localId);
    await this.insert('insert_run_images', 'run_images', run.images.map((i) => ({
      image_id: imageIds.get(String(i.image_path))!, chain_id: centralChains.get(chains.get(Number(i.chain_id))!.centralKey)!,
      root_id: rootIds.get(String(i.root_path))!, change: i.change,
    })), ['image_id', 'chain_id', 'root_id', 'change'], [runId]);
    await this.conn.query(sql('insert_run_base_files'), [runId]);
    await this.conn.query(sql('insert_run_layer_totals'), [runId]);
    await this.step('run-images', localId);
    if (run.findings.length > 0) {
      await this.insert('insert_run_findings', 'run_findings', run.findings, ['path', 'code', 'severity', 'message'], [runId]);
    }
    if (run.depthTotals.length > 0) {
      await this.insert('insert_run_depth_totals', 'run_depth_totals', run.depthTotals,
        ['depth', 'data_bytes', 'zero_bytes', 'preallocated_bytes'], [runId]);
    }
    if (run.filesystems.length > 0) {
      await this.insert('insert_run_filesystems', 'run_filesystems', run.filesystems.map((f) => ({ ...f, root_id: rootIds.get(String(f.root_path))! })),
        ['root_id', 'dev', 'capacity_bytes', 'free_bytes', 'available_bytes'], [runId]);
    }
    if (run.rootUsage.length > 0) {
      await this.insert('insert_run_root_usage', 'run_root_usage', run.rootUsage.map((u) => ({ ...u, root_id: rootIds.get(String(u.root_path))! })),
        ['root_id', 'disk_usage_bytes'], [runId]);
    }
    if (run.formatUsage.length > 0) {
      await this.insert('insert_run_format_usage', 'run_format_usage', run.formatUsage, ['format', 'disk_usage_bytes'], [runId]);
    }
    if (run.imageUse.length > 0) {
      await this.insert('insert_run_image_use', 'run_image_use', run.imageUse.map((u) => ({ ...u, image_id: imageIds.get(String(u.image_path))! })),
        ['image_id', 'in_use'], [runId]);
    }
    if (run.references.length > 0) {
      await this.insert('insert_run_references', 'run_references', run.references, ['path', 'source'], [runId]);
    }
    if (sharings.length > 0) {
      await this.insert('insert_run_base_sharings', 'run_base_sharings',
        [...new Set(sharings.map((s) => sharingIds.get(s.centralKey)!))].map((id) => ({ sharing_id: id })), ['sharing_id'], [runId]);
    }
    await this.step('done', localId);
    return true;
  }
}

/**
 * Pushes the ended runs of `local` (a host's SQLite file, opened read-only)
 * that the central store lacks, under host name `host`. Throws StoreError
 * (the runs sent before the failure stay sent).
 */
export async function pushRuns(local: Db, conn: PgConn, host: string, hooks: PushHooks = {}): Promise<PushResult> {
  const reader = new LocalReader(local);
  // One read transaction: the runs read stay whole even if the host's retention runs meanwhile.
  local.exec('BEGIN');
  try {
    return await pushEnded(reader, conn, host, hooks);
  } finally {
    local.exec('COMMIT');
  }
}

async function pushEnded(reader: LocalReader, conn: PgConn, host: string, hooks: PushHooks): Promise<PushResult> {
  const pushed = new Map((await conn.query<{ local_id: number; started_at: string }>(sql('pushed_local_ids'), [host]))
    .map((r) => [r.local_id, r.started_at]));
  const ended = reader.endedRuns();
  // Another file under the same name (a recreated database, two hosts named alike) would have its runs
  // taken for ones already sent: refuse rather than lose them.
  const clash = ended.find((row) => pushed.has(Number(row.id)) && pushed.get(Number(row.id)) !== row.started_at);
  if (clash !== undefined) {
    throw new StoreError(`the central store holds another run #${String(clash.id)} for host '${host}' (started `
      + `${pushed.get(Number(clash.id))}, this file's started ${String(clash.started_at)}): this database is not the one `
      + `that pushed as '${host}' (recreated, or another host of that name); push it under another --host name`);
  }
  const result: PushResult = { host, pushedRunIds: [], alreadyThere: 0, rows: {} };
  for (const row of ended) {
    const localId = Number(row.id);
    if (pushed.has(localId)) {
      result.alreadyThere++;
      continue;
    }
    const run = reader.run(row);
    for (let attempt = 1; ; attempt++) {
      const push = new RunPush(conn, reader, host, hooks);
      try {
        const isSent = await conn.transaction(() => push.send(run));
        if (isSent) {
          result.pushedRunIds.push(localId);
          for (const [table, n] of Object.entries(push.rows)) result.rows[table] = (result.rows[table] ?? 0) + n;
        } else result.alreadyThere++;
        break;
      } catch (error) {
        if (!isRetryable(error) || attempt >= MAX_TRIES) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50 * attempt * Math.random()));
      }
    }
  }
  return result;
}
