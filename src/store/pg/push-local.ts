/**
 * The host side of a push: reading an ended run out of the host's SQLite
 * file (its rows, its chain states with their layers, files, maps and
 * findings, its base sharings) and computing the content keys under which
 * the central store deduplicates them across hosts. A local chain key hashes
 * local row ids, which mean nothing elsewhere; the central key hashes what
 * they stand for (file identities, map hashes, figures, findings). Integers
 * are read exactly (bigint beyond 2^53: nanosecond times, device numbers).
 */
import { createHash } from 'node:crypto';
import type { Db, Statement } from '../db.js';
import { sqlStatement } from '../sql-file.js';
import { StoreError } from '../store-error.js';

/** A value as read: numbers, exact bigints, text, null. */
export type Value = number | bigint | string | null;
/** A row as read. */
export type Row = Record<string, Value | undefined>;

/** A file state's identity: the columns of the files table's unique key. */
export const FILE_KEY_COLUMNS = ['path', 'dev', 'ino', 'size_bytes', 'allocated_bytes', 'mtime_ns', 'ctime_ns', 'format'] as const;

/** A chain state as the central store needs it. */
export interface LocalChain {
  localId: number;
  centralKey: string;
  row: Row;
  layers: Row[];
  extras: Row[];
  findings: Row[];
  /** Local file ids of the chain (layers, extra files), top first. */
  fileIds: number[];
}

/** A base sharing as the central store needs it. */
export interface LocalSharing {
  localId: number;
  centralKey: string;
  row: Row;
  overlays: Row[];
}

/** An ended run's own rows. */
export interface LocalRun {
  row: Row;
  images: Row[];
  findings: Row[];
  depthTotals: Row[];
  filesystems: Row[];
  rootUsage: Row[];
  formatUsage: Row[];
  imageUse: Row[];
  references: Row[];
  sharingIds: number[];
}

const FILE = 'sqlite/push.sql';

function exact(value: unknown): Value {
  if (typeof value === 'bigint') {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
  }
  return value as Value;
}

/** JSON with bigints as decimal text (for hashing). */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

function sha256(value: unknown): string {
  return createHash('sha256').update(stableJson(value)).digest('hex');
}

/** The identity tuple of a file row, as text (for maps and hashing). */
export function fileKey(file: Row): string {
  return stableJson(FILE_KEY_COLUMNS.map((column) => file[column]));
}

/** Reads a host's SQLite file for a push; caches chain states, files and maps across runs. */
export class LocalReader {
  private readonly statements = new Map<string, Statement>();
  private readonly chainCache = new Map<number, LocalChain>();
  private readonly fileCache = new Map<number, Row>();
  private readonly mapCache = new Map<number, Row>();

  constructor(private readonly db: Db) {}

  private all(name: string, ...params: unknown[]): Row[] {
    let statement = this.statements.get(name);
    if (statement === undefined) {
      statement = this.db.prepare(sqlStatement(FILE, name)).safeIntegers(true);
      this.statements.set(name, statement);
    }
    return (statement.all(...params) as Record<string, unknown>[]).map((row) => {
      const out: Row = {};
      for (const [key, value] of Object.entries(row)) out[key] = exact(value);
      return out;
    });
  }

  private byIds(name: string, ids: readonly number[]): Row[] {
    const out: Row[] = [];
    for (let i = 0; i < ids.length; i += 5000) out.push(...this.all(name, JSON.stringify(ids.slice(i, i + 5000))));
    return out;
  }

  /** Runs that have ended (complete, interrupted, failed), oldest first. */
  endedRuns(): Row[] {
    return this.all('ended_runs');
  }

  /** The rows of run `runId`. */
  run(row: Row): LocalRun {
    const id = row.id;
    return {
      row,
      images: this.all('run_images', id),
      findings: this.all('run_findings', id),
      depthTotals: this.all('run_depth_totals', id),
      filesystems: this.all('run_filesystems', id),
      rootUsage: this.all('run_root_usage', id),
      formatUsage: this.all('run_format_usage', id),
      imageUse: this.all('run_image_use', id),
      references: this.all('run_references', id),
      sharingIds: this.all('run_base_sharings', id).map((r) => Number(r.sharing_id)),
    };
  }

  /** File rows by local id. */
  files(ids: readonly number[]): Map<number, Row> {
    const missing = [...new Set(ids)].filter((id) => !this.fileCache.has(id));
    for (const file of this.byIds('files', missing)) this.fileCache.set(Number(file.id), file);
    return new Map(ids.map((id) => [id, this.fileCache.get(id)!]));
  }

  /** Map rows by local id; a map without a hash (still being written) is an error. */
  maps(ids: readonly number[]): Map<number, Row> {
    const missing = [...new Set(ids)].filter((id) => !this.mapCache.has(id));
    for (const map of this.byIds('maps', missing)) {
      if (map.hash === null) throw new StoreError(`map ${String(map.id)} of an ended run has no hash; run imgaudit scan once, then push`);
      this.mapCache.set(Number(map.id), map);
    }
    return new Map(ids.map((id) => [id, this.mapCache.get(id)!]));
  }

  /** The entries of local maps `mapIds` (with their local map_id), in order. */
  mapEntries(mapIds: readonly number[]): Row[] {
    return this.all('map_entries', JSON.stringify(mapIds));
  }

  /** Own allocations and snapshots of files, by local file id. */
  fileFacts(fileIds: readonly number[]): { allocations: Row[]; snapshots: Row[] } {
    return { allocations: this.byIds('file_allocations', fileIds), snapshots: this.byIds('file_snapshots', fileIds) };
  }

  /** Chain states by local id, with their central keys. */
  chains(ids: readonly number[]): Map<number, LocalChain> {
    const missing = [...new Set(ids)].filter((id) => !this.chainCache.has(id));
    if (missing.length > 0) {
      const rows = this.byIds('chains', missing);
      const group = (list: Row[]) => {
        const out = new Map<number, Row[]>();
        for (const row of list) {
          const id = Number(row.chain_id);
          const entry = out.get(id);
          if (entry === undefined) out.set(id, [row]);
          else entry.push(row);
        }
        return out;
      };
      const layers = group(this.byIds('chain_layers', missing));
      const extras = group(this.byIds('chain_extra_files', missing));
      const findings = group(this.byIds('chain_findings', missing));
      const fileIds = new Set<number>();
      for (const list of [...layers.values(), ...extras.values()]) for (const r of list) fileIds.add(Number(r.file_id));
      for (const row of rows) fileIds.add(Number(row.top_file_id));
      const files = this.files([...fileIds]);
      const maps = this.maps(rows.filter((r) => r.map_id !== null).map((r) => Number(r.map_id)));
      for (const row of rows) {
        const id = Number(row.id);
        const chainLayers = layers.get(id) ?? [];
        const chainExtras = extras.get(id) ?? [];
        const chainFindings = findings.get(id) ?? [];
        const key = (fileId: Value | undefined) => fileKey(files.get(Number(fileId))!);
        const centralKey = sha256({
          top: key(row.top_file_id),
          map: row.map_id === null ? null : maps.get(Number(row.map_id))!.hash,
          chain: [row.layer_count, row.virtual_size_bytes, row.unallocated_bytes, row.error_code, row.error_message,
            row.commit_growth_bytes, row.has_layer_figures, row.commit_growth_min_bytes, row.commit_growth_max_bytes,
            row.commit_data_growth_bytes, row.commit_end_growth_min_bytes, row.commit_end_growth_max_bytes],
          layers: chainLayers.map((l) => [l.depth, key(l.file_id), l.data_bytes, l.zero_bytes, l.preallocated_bytes,
            l.shadowed_data_bytes, l.shadowed_zero_bytes, l.shadowed_preallocated_bytes]),
          extras: chainExtras.map((e) => [e.depth, key(e.file_id)]),
          findings: chainFindings.map((f) => [f.seq, f.code, f.severity, f.depth, f.message]),
        });
        this.chainCache.set(id, {
          localId: id, centralKey, row, layers: chainLayers, extras: chainExtras, findings: chainFindings,
          fileIds: [Number(row.top_file_id), ...chainLayers.map((l) => Number(l.file_id)), ...chainExtras.map((e) => Number(e.file_id))],
        });
      }
    }
    return new Map(ids.map((id) => {
      const chain = this.chainCache.get(id);
      if (chain === undefined) throw new StoreError(`chain state ${id} is missing from the host's database`);
      return [id, chain];
    }));
  }

  /** Base sharings by local id, with central keys (from their base file and overlay chains' central keys). */
  sharings(ids: readonly number[]): LocalSharing[] {
    if (ids.length === 0) return [];
    const rows = this.byIds('base_sharings', ids);
    const overlays = this.byIds('base_sharing_overlays', ids);
    const chains = this.chains([...new Set(overlays.map((o) => Number(o.chain_id)))]);
    const files = this.files(rows.map((r) => Number(r.file_id)));
    return rows.map((row) => {
      const own = overlays.filter((o) => o.sharing_id === row.id);
      const centralKey = sha256({
        base: fileKey(files.get(Number(row.file_id))!),
        figures: [row.overlay_count, row.read_bytes, row.shared_bytes, row.unread_bytes],
        overlays: own.map((o) => [chains.get(Number(o.chain_id))!.centralKey, o.read_bytes, o.unique_bytes]).sort(),
      });
      return { localId: Number(row.id), centralKey, row, overlays: own };
    });
  }
}
