/**
 * The store side of the post-scan pass (per-layer figures, base sharing,
 * file systems, references; migration 0004): what a run still lacks, the
 * stored map entries streamed back in start order, and the rows the pass
 * writes.
 *
 * The run's chains, layer files and (base, overlay) pairs are first copied
 * into TEMP tables (per connection, spilled to disk by SQLite when large),
 * so that the work lists are read in id order, a page at a time, with no
 * statement open while the pass writes: memory stays flat in the number of
 * images and each page costs an index range, not a scan of the run.
 */
import { createHash } from 'node:crypto';
import type { MapEntry } from '../map/map-entry.js';
import type { Db, Statement } from './db.js';
import { ENTRY_FLAGS } from './map-writer.js';

/** Rows per page of a work list. */
const PAGE_ROWS = 256;

/** Bytes per SPEC §3 category (own, true, shadowed). */
export interface CategoryRow {
  dataBytes: number;
  zeroBytes: number;
  preallocatedBytes: number;
}

/** A layer file of the run that has no own allocation yet. */
export interface PendingFile {
  fileId: number;
  path: string;
  format: string;
  virtualSizeBytes: number | null;
  dev: number;
  ino: number;
  sizeBytes: number;
  allocatedBytes: number;
  mtimeNs: bigint;
  ctimeNs: bigint;
  /** A mapped chain state with this file on top: its depth-0 entries are the file's own allocation. */
  topMapId: number | null;
  /** The layer reads other files (external data files, vmdk extents): FIEMAP of this one tells nothing. */
  readsOtherFiles: boolean;
}

/** What the pass stores per file state. */
export interface FileAllocationRow {
  fileId: number;
  mapId: number;
  own: CategoryRow;
  /** null when the file system cannot tell or the layer's bytes live in other files. */
  true: CategoryRow | null;
  unwrittenBytes: number | null;
}

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

/** A base file and the run's chains that read it directly (depth 1). */
export interface BaseGroup {
  fileId: number;
  /** The overlays' chain states, in id order, with their maps. */
  overlays: { chainId: number; mapId: number }[];
  key: string;
}

/** What the pass stores per base sharing. */
export interface BaseSharingRow {
  readBytes: number;
  sharedBytes: number;
  unreadBytes: number;
  overlays: { readBytes: number; uniqueBytes: number }[];
}

/** A file system as statfs saw it. */
export interface FileSystemRow {
  rootId: number;
  dev: number;
  capacityBytes: number;
  freeBytes: number;
  availableBytes: number;
}

export type EntryRow = [start: number, length: number, depth: number, flags: number, offset: number | null];

function toEntry(row: EntryRow): MapEntry {
  const [startBytes, lengthBytes, depth, flags, offset] = row;
  return {
    startBytes, lengthBytes, depth,
    present: (flags & ENTRY_FLAGS.present) !== 0, zero: (flags & ENTRY_FLAGS.zero) !== 0,
    data: (flags & ENTRY_FLAGS.data) !== 0, compressed: (flags & ENTRY_FLAGS.compressed) !== 0,
    offsetBytes: offset ?? undefined, filename: undefined,
  };
}

/** Which entries of a stored map to stream. */
export type EntrySelection = 'all' | 'own';

const ENTRY_SQL: Readonly<Record<EntrySelection, string>> = {
  all: 'SELECT start_bytes, length_bytes, depth, flags, offset_bytes FROM map_entries WHERE map_id = ? ORDER BY start_bytes',
  // A file's own allocation: the present depth-0 entries of its map.
  own: `SELECT start_bytes, length_bytes, depth, flags, offset_bytes FROM map_entries
        WHERE map_id = ? AND depth = 0 AND (flags & ${ENTRY_FLAGS.present}) <> 0 ORDER BY start_bytes`,
};

/**
 * Streams stored maps in start order. `entries` iterates a statement
 * (`.iterate()`); several such streams may be open at once, each on a
 * statement of its own from a pool, and `closeAll` ends every stream still
 * open, since the connection cannot write while one is. `pagedEntries`
 * serves many streams at once (a base's overlays): each holds a page of
 * entries rather than an open statement, all pages read by one statement.
 */
export class MapEntryReader {
  private readonly idle: Record<EntrySelection, Statement[]> = { all: [], own: [] };
  private readonly open = new Set<Generator<MapEntry>>();
  private readonly pageAtDepth: Statement;

  constructor(private readonly db: Db) {
    this.pageAtDepth = db.prepare(`
      SELECT start_bytes, length_bytes, depth, flags, offset_bytes FROM map_entries
      WHERE map_id = ? AND start_bytes >= ? AND depth = ? AND (flags & ${ENTRY_FLAGS.present}) <> 0
      ORDER BY start_bytes LIMIT ?`).raw(true);
  }

  /**
   * The present entries of map `mapId` at `depth`, read `pageRows` at a time
   * (no statement stays open between pages). `wholeMaps` keeps the maps that
   * fit in one page for the streams that follow (copies of an image share
   * their maps: read once, streamed per overlay).
   */
  pagedEntries(mapId: number, depth: number, pageRows: number, wholeMaps?: Map<number, readonly EntryRow[]>): Iterable<MapEntry> {
    const page = this.pageAtDepth;
    return {
      *[Symbol.iterator]() {
        const whole = wholeMaps?.get(mapId);
        if (whole !== undefined) {
          for (const row of whole) yield toEntry(row);
          return;
        }
        for (let from = 0; ;) {
          const rows = page.all(mapId, from, depth, pageRows) as EntryRow[];
          if (from === 0 && rows.length < pageRows) wholeMaps?.set(mapId, rows);
          for (const row of rows) yield toEntry(row);
          if (rows.length < pageRows) return;
          from = rows[rows.length - 1]![0] + 1;
        }
      },
    };
  }

  /** The entries of map `mapId`, re-read on each iteration. */
  entries(mapId: number, selection: EntrySelection): Iterable<MapEntry> {
    return { [Symbol.iterator]: () => this.stream(mapId, selection) };
  }

  /** Ends the streams a consumer left open. */
  closeAll(): void {
    for (const stream of this.open) stream.return(undefined);
    this.open.clear();
  }

  private stream(mapId: number, selection: EntrySelection): Generator<MapEntry> {
    const generator = this.rows(mapId, selection);
    this.open.add(generator);
    return generator;
  }

  private *rows(mapId: number, selection: EntrySelection): Generator<MapEntry> {
    const pool = this.idle[selection];
    const statement = pool.pop() ?? this.db.prepare(ENTRY_SQL[selection]).raw(true);
    try {
      for (const row of statement.iterate(mapId) as IterableIterator<EntryRow>) yield toEntry(row);
    } finally {
      pool.push(statement);
    }
  }
}

/** Prepared statements of the post-scan pass. */
export class LayerRepo {
  readonly reader: MapEntryReader;
  private readonly pendingFilesStmt: Statement;
  private readonly insertAllocation: Statement;
  private readonly pendingChainsStmt: Statement;
  private readonly layersOfChain: Statement;
  private readonly updateLayer: Statement;
  private readonly updateChain: Statement;
  private readonly baseFilesStmt: Statement;
  private readonly overlaysOfBase: Statement;
  private readonly sharingByKey: Statement;
  private readonly ownMapOfFile: Statement;
  private readonly pathOfFile: Statement;
  private readonly insertSharing: Statement;
  private readonly insertSharingOverlay: Statement;
  private readonly linkSharing: Statement;
  private readonly insertFileSystem: Statement;
  private readonly insertReference: Statement;

  constructor(private readonly db: Db) {
    this.reader = new MapEntryReader(db);
    // TEMP tables live as long as the connection, invisible to other connections.
    db.exec(`
      CREATE TEMP TABLE IF NOT EXISTS pass_chains (chain_id INTEGER PRIMARY KEY);
      CREATE TEMP TABLE IF NOT EXISTS pass_files (file_id INTEGER PRIMARY KEY);
      CREATE TEMP TABLE IF NOT EXISTS pass_bases (
        file_id INTEGER NOT NULL, chain_id INTEGER NOT NULL, map_id INTEGER NOT NULL,
        PRIMARY KEY (file_id, chain_id)) WITHOUT ROWID;`);
    this.pendingFilesStmt = db.prepare(`
      SELECT f.id AS fileId, f.path, f.format, f.virtual_size_bytes AS virtualSizeBytes, f.dev, f.ino,
             f.size_bytes AS sizeBytes, f.allocated_bytes AS allocatedBytes, f.mtime_ns AS mtimeNs, f.ctime_ns AS ctimeNs,
             (SELECT c.map_id FROM chains c WHERE c.top_file_id = f.id AND c.map_id IS NOT NULL
              ORDER BY c.id DESC LIMIT 1) AS topMapId,
             EXISTS (SELECT 1 FROM chain_layers cl JOIN chain_extra_files ce
                       ON ce.chain_id = cl.chain_id AND ce.depth = cl.depth
                     WHERE cl.file_id = f.id) AS readsOtherFiles
      FROM temp.pass_files p JOIN files f ON f.id = p.file_id
      WHERE p.file_id > ? AND NOT EXISTS (SELECT 1 FROM file_allocations fa WHERE fa.file_id = p.file_id)
      ORDER BY p.file_id LIMIT ${PAGE_ROWS}`).safeIntegers(true);
    this.insertAllocation = db.prepare(`
      INSERT OR IGNORE INTO file_allocations (file_id, map_id, data_bytes, zero_bytes, preallocated_bytes,
        true_data_bytes, true_zero_bytes, true_preallocated_bytes, unwritten_bytes)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.pendingChainsStmt = db.prepare(`
      SELECT c.id AS chainId, c.map_id AS mapId, c.virtual_size_bytes AS virtualSizeBytes
      FROM temp.pass_chains p JOIN chains c ON c.id = p.chain_id
      WHERE p.chain_id > ? AND c.has_layer_figures = 0
      ORDER BY p.chain_id LIMIT ${PAGE_ROWS}`);
    this.layersOfChain = db.prepare(`
      SELECT cl.depth, cl.file_id AS fileId, f.path, f.format, f.cluster_size_bytes AS clusterSizeBytes,
             f.virtual_size_bytes AS virtualSizeBytes, f.allocated_bytes AS allocatedBytes, f.version, f.flags,
             fa.map_id AS ownMapId
      FROM chain_layers cl JOIN files f ON f.id = cl.file_id
      LEFT JOIN file_allocations fa ON fa.file_id = cl.file_id
      WHERE cl.chain_id = ? ORDER BY cl.depth`);
    this.updateLayer = db.prepare(`
      UPDATE chain_layers SET shadowed_data_bytes = ?, shadowed_zero_bytes = ?, shadowed_preallocated_bytes = ?
      WHERE chain_id = ? AND depth = ?`);
    this.updateChain = db.prepare(`
      UPDATE chains SET commit_growth_bytes = ?, has_layer_figures = ? WHERE id = ?`);
    this.baseFilesStmt = db.prepare(`
      SELECT DISTINCT file_id FROM temp.pass_bases WHERE file_id > ? ORDER BY file_id LIMIT ${PAGE_ROWS}`).pluck();
    this.overlaysOfBase = db.prepare(
      'SELECT chain_id AS chainId, map_id AS mapId FROM temp.pass_bases WHERE file_id = ? ORDER BY chain_id');
    this.sharingByKey = db.prepare('SELECT id FROM base_sharings WHERE key = ?').pluck();
    this.ownMapOfFile = db.prepare('SELECT map_id FROM file_allocations WHERE file_id = ?').pluck();
    this.pathOfFile = db.prepare('SELECT path FROM files WHERE id = ?').pluck();
    this.insertSharing = db.prepare(`
      INSERT INTO base_sharings (key, file_id, overlay_count, read_bytes, shared_bytes, unread_bytes)
      VALUES (?, ?, ?, ?, ?, ?)`);
    this.insertSharingOverlay = db.prepare(`
      INSERT INTO base_sharing_overlays (sharing_id, chain_id, read_bytes, unique_bytes) VALUES (?, ?, ?, ?)`);
    this.linkSharing = db.prepare('INSERT OR IGNORE INTO run_base_sharings (run_id, sharing_id) VALUES (?, ?)');
    this.insertFileSystem = db.prepare(`
      INSERT OR REPLACE INTO run_filesystems (run_id, root_id, dev, capacity_bytes, free_bytes, available_bytes)
      VALUES (?, ?, ?, ?, ?, ?)`);
    this.insertReference = db.prepare('INSERT OR IGNORE INTO run_references (run_id, path, source) VALUES (?, ?, ?)');
  }

  /**
   * Collects the run's mapped chain states, their layer files and their
   * (base, overlay) pairs into the TEMP work tables. Call inside a transaction.
   */
  prepareRun(runId: number): void {
    this.db.exec('DELETE FROM temp.pass_chains; DELETE FROM temp.pass_files; DELETE FROM temp.pass_bases;');
    this.db.prepare(`
      INSERT OR IGNORE INTO temp.pass_chains (chain_id)
      SELECT ri.chain_id FROM run_images ri JOIN chains c ON c.id = ri.chain_id
      WHERE ri.run_id = ? AND c.map_id IS NOT NULL`).run(runId);
    this.db.exec(`
      INSERT OR IGNORE INTO temp.pass_files (file_id)
      SELECT cl.file_id FROM temp.pass_chains p JOIN chain_layers cl ON cl.chain_id = p.chain_id;
      INSERT OR IGNORE INTO temp.pass_bases (file_id, chain_id, map_id)
      SELECT cl.file_id, c.id, c.map_id FROM temp.pass_chains p
      JOIN chains c ON c.id = p.chain_id JOIN chain_layers cl ON cl.chain_id = p.chain_id AND cl.depth = 1;`);
  }

  /** Empties the TEMP work tables. */
  clearRun(): void {
    this.db.exec('DELETE FROM temp.pass_chains; DELETE FROM temp.pass_files; DELETE FROM temp.pass_bases;');
  }

  /** The next page of the run's layer files without an own allocation, after file id `afterId`. */
  pendingFiles(afterId: number): PendingFile[] {
    const rows = this.pendingFilesStmt.all(afterId) as Record<keyof PendingFile, bigint | string | null>[];
    return rows.map((row) => ({
      fileId: Number(row.fileId), path: row.path as string, format: row.format as string,
      virtualSizeBytes: row.virtualSizeBytes === null ? null : Number(row.virtualSizeBytes),
      dev: Number(row.dev), ino: Number(row.ino), sizeBytes: Number(row.sizeBytes), allocatedBytes: Number(row.allocatedBytes),
      mtimeNs: row.mtimeNs as bigint, ctimeNs: row.ctimeNs as bigint,
      topMapId: row.topMapId === null ? null : Number(row.topMapId), readsOtherFiles: Number(row.readsOtherFiles) !== 0,
    }));
  }

  /** Stores a file state's own allocation (the first one stored wins). */
  saveAllocation(row: FileAllocationRow): void {
    const t = row.true;
    this.insertAllocation.run(row.fileId, row.mapId, row.own.dataBytes, row.own.zeroBytes, row.own.preallocatedBytes,
      t?.dataBytes ?? null, t?.zeroBytes ?? null, t?.preallocatedBytes ?? null, row.unwrittenBytes);
  }

  /** The next page of the run's mapped chain states without layer figures, after chain id `afterId`. */
  pendingChains(afterId: number): PendingChain[] {
    return this.pendingChainsStmt.all(afterId) as PendingChain[];
  }

  /** The layers of a chain state, by depth. */
  chainLayers(chainId: number): ChainLayerRow[] {
    return this.layersOfChain.all(chainId) as ChainLayerRow[];
  }

  /** Stores the shadowed bytes of one layer of a chain state. */
  saveShadowed(chainId: number, depth: number, shadowed: CategoryRow): void {
    this.updateLayer.run(shadowed.dataBytes, shadowed.zeroBytes, shadowed.preallocatedBytes, chainId, depth);
  }

  /** Stores a chain state's commit growth estimate; `isComplete` marks its layer figures done. */
  saveChainFigures(chainId: number, commitGrowthBytes: number | null, isComplete: boolean): void {
    this.updateChain.run(commitGrowthBytes, isComplete ? 1 : 0, chainId);
  }

  /** The next page of base files (read at depth 1 by the run's chains), after file id `afterId`. */
  baseFiles(afterId: number): number[] {
    return this.baseFilesStmt.all(afterId) as number[];
  }

  /** A base file with the run's overlays of it and the key of that sharing. */
  baseGroup(fileId: number): BaseGroup {
    const overlays = this.overlaysOfBase.all(fileId) as { chainId: number; mapId: number }[];
    const hash = createHash('sha256').update(`base-file:${fileId};overlay-chains:`);
    for (const { chainId } of overlays) hash.update(`${chainId},`);
    return { fileId, overlays, key: hash.digest('hex') };
  }

  /** The map holding a file state's own allocation, if it has one. */
  ownMapId(fileId: number): number | undefined {
    return this.ownMapOfFile.get(fileId) as number | undefined;
  }

  /** The path of a file state. */
  filePath(fileId: number): string {
    return (this.pathOfFile.get(fileId) as string | undefined) ?? `file ${fileId}`;
  }

  /** The id of the stored sharing with this key, if any. */
  sharingId(key: string): number | undefined {
    return this.sharingByKey.get(key) as number | undefined;
  }

  /** Stores a sharing; returns its id. */
  saveSharing(group: BaseGroup, figures: BaseSharingRow): number {
    const id = Number(this.insertSharing.run(group.key, group.fileId, group.overlays.length, figures.readBytes,
      figures.sharedBytes, figures.unreadBytes).lastInsertRowid);
    group.overlays.forEach(({ chainId }, i) => {
      const overlay = figures.overlays[i]!;
      this.insertSharingOverlay.run(id, chainId, overlay.readBytes, overlay.uniqueBytes);
    });
    return id;
  }

  /** Records that the run uses a sharing. */
  linkRunSharing(runId: number, sharingId: number): void {
    this.linkSharing.run(runId, sharingId);
  }

  /** Records a root's file system as the run saw it. */
  saveFileSystem(runId: number, row: FileSystemRow): void {
    this.insertFileSystem.run(runId, row.rootId, row.dev, row.capacityBytes, row.freeBytes, row.availableBytes);
  }

  /** Records a path a reference source names as in use. */
  saveReference(runId: number, path: string, source: string): void {
    this.insertReference.run(runId, path, source);
  }
}
