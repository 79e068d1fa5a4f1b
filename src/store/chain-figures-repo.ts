/**
 * The layer figures of the run's chain states (chains, chain_layers): the
 * states still without them, a page at a time, their layers, and the
 * shadowed bytes and commit estimates the pass stores.
 */
import { storedPath } from '../io/byte-path.js';
import type { CategoryRow } from './allocation-repo.js';
import type { Db, Statement } from './db.js';
import { PAGE_ROWS } from './pass-work-lists.js';
import type { FileState } from './records.js';

/** A chain state of the run whose layer figures are not computed yet. */
export interface PendingChain {
  chainId: number;
  mapId: number;
  virtualSizeBytes: number;
}

/** One layer of a chain state, with what the pass needs of its file. */
export interface ChainLayerRow {
  depth: number;
  fileId: number;
  path: string;
  format: string;
  clusterSizeBytes: number | null;
  virtualSizeBytes: number | null;
  allocatedBytes: number;
  /** Format version as the header says ('3' for qcow2 v3). */
  version: string | null;
  /** JSON array of header flags ('extended_l2', 'dirty', ...). */
  flags: string;
  /** The map holding the file's own allocation; null while it has none. */
  ownMapId: number | null;
}

/** A byte figure known to lie in [min, max] (exact when equal). */
export interface BytesRange {
  min: number;
  max: number;
}

/** The commit dry run of a chain state's top into its backing file, as stored on its chains row. */
export interface CommitFigures {
  /** Growth of the backing file's host bytes in use, data and metadata; null: unknown. */
  growth: BytesRange | null;
  /** The data part of it alone; null: unknown. */
  dataGrowthBytes: number | null;
  /** Growth of a qcow2 backing file's image end offset; null: unknown or not qcow2. */
  endGrowth: BytesRange | null;
}

/** Prepared statements over the chain states' layer figures. */
export class ChainFiguresRepo {
  private readonly pendingChainsStmt: Statement;
  private readonly layersOfChain: Statement;
  private readonly updateLayer: Statement;
  private readonly updateChain: Statement;
  private readonly fileStateStmt: Statement;

  /** Needs the TEMP work tables (createWorkLists). */
  constructor(db: Db) {
    this.pendingChainsStmt = db.prepare(`
      SELECT c.id AS chainId, c.map_id AS mapId, c.virtual_size_bytes AS virtualSizeBytes
      FROM temp.pass_chains p JOIN chains c ON c.id = p.chain_id
      WHERE p.chain_id > ? AND c.has_layer_figures = 0
      ORDER BY p.chain_id LIMIT ${PAGE_ROWS}`);
    this.layersOfChain = db.prepare(`
      SELECT cl.depth, cl.file_id AS fileId, f.path, f.path_bytes AS pathBytes, f.format, f.cluster_size_bytes AS clusterSizeBytes,
             f.virtual_size_bytes AS virtualSizeBytes, f.allocated_bytes AS allocatedBytes, f.version, f.flags,
             fa.map_id AS ownMapId
      FROM chain_layers cl JOIN files f ON f.id = cl.file_id
      LEFT JOIN file_allocations fa ON fa.file_id = cl.file_id
      WHERE cl.chain_id = ? ORDER BY cl.depth`);
    this.updateLayer = db.prepare(`
      UPDATE chain_layers SET shadowed_data_bytes = ?, shadowed_zero_bytes = ?, shadowed_preallocated_bytes = ?
      WHERE chain_id = ? AND depth = ?`);
    this.updateChain = db.prepare(`
      UPDATE chains SET commit_growth_bytes = ?, commit_growth_min_bytes = ?, commit_growth_max_bytes = ?,
                        commit_data_growth_bytes = ?, commit_end_growth_min_bytes = ?, commit_end_growth_max_bytes = ?,
                        has_layer_figures = ?
      WHERE id = ?`);
    this.fileStateStmt = db.prepare(`
      SELECT path, path_bytes AS pathBytes, dev, ino, size_bytes AS sizeBytes, allocated_bytes AS allocatedBytes, mtime_ns AS mtimeNs, ctime_ns AS ctimeNs
      FROM files WHERE id = ?`).safeIntegers(true);
  }

  /** The next page of the run's mapped chain states without layer figures, after chain id `afterId`. */
  pendingChains(afterId: number): PendingChain[] {
    return this.pendingChainsStmt.all(afterId) as PendingChain[];
  }

  /** The layers of a chain state, by depth. */
  chainLayers(chainId: number): ChainLayerRow[] {
    const rows = this.layersOfChain.all(chainId) as (ChainLayerRow & { pathBytes: Buffer | null })[];
    return rows.map(({ pathBytes, ...row }) => ({ ...row, path: storedPath(row.path, pathBytes) }));
  }

  /** Stores the shadowed bytes of one layer of a chain state. */
  saveShadowed(chainId: number, depth: number, shadowed: CategoryRow): void {
    this.updateLayer.run(shadowed.dataBytes, shadowed.zeroBytes, shadowed.preallocatedBytes, chainId, depth);
  }

  /** The identity a files row records (to tell whether the file changed since). */
  fileState(fileId: number): FileState | undefined {
    const row = this.fileStateStmt.get(fileId) as (Record<keyof FileState, bigint | string> & { pathBytes: Buffer | null }) | undefined;
    if (row === undefined) return undefined;
    return {
      path: storedPath(row.path as string, row.pathBytes), dev: Number(row.dev), ino: Number(row.ino), sizeBytes: Number(row.sizeBytes),
      allocatedBytes: Number(row.allocatedBytes), mtimeNs: row.mtimeNs as bigint, ctimeNs: row.ctimeNs as bigint,
    };
  }

  /** Stores a chain state's commit figures (null: no backing file); `isComplete` marks its layer figures done. */
  saveChainFigures(chainId: number, commit: CommitFigures | null, isComplete: boolean): void {
    const exact = commit?.growth !== null && commit?.growth !== undefined && commit.growth.min === commit.growth.max
      ? commit.growth.min : null;
    this.updateChain.run(exact, commit?.growth?.min ?? null, commit?.growth?.max ?? null, commit?.dataGrowthBytes ?? null,
      commit?.endGrowth?.min ?? null, commit?.endGrowth?.max ?? null, isComplete ? 1 : 0, chainId);
  }
}
