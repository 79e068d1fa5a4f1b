/**
 * The own and true allocation of the run's layer files (file_allocations):
 * the files still without one, a page at a time, and the rows the pass
 * stores once per file state.
 */
import { storedPath } from '../io/byte-path.js';
import type { Db, Statement } from './db.js';
import { PAGE_ROWS } from './pass-work-lists.js';
import type { FileState } from './records.js';

/** Bytes per SPEC §3 category (own, true, shadowed). */
export interface CategoryRow {
  dataBytes: number;
  zeroBytes: number;
  preallocatedBytes: number;
}

/** A layer file of the run that has no own allocation yet. */
export interface PendingFile extends FileState {
  fileId: number;
  format: string;
  virtualSizeBytes: number | null;
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

/** Prepared statements over file_allocations and the files they describe. */
export class AllocationRepo {
  private readonly pendingFilesStmt: Statement;
  private readonly insertAllocation: Statement;
  private readonly ownMapOfFile: Statement;
  private readonly pathOfFile: Statement;

  /** Needs the TEMP work tables (createWorkLists). */
  constructor(db: Db) {
    this.pendingFilesStmt = db.prepare(`
      SELECT f.id AS fileId, f.path, f.path_bytes AS pathBytes, f.format, f.virtual_size_bytes AS virtualSizeBytes, f.dev, f.ino,
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
    this.ownMapOfFile = db.prepare('SELECT map_id FROM file_allocations WHERE file_id = ?').pluck();
    this.pathOfFile = db.prepare('SELECT path FROM files WHERE id = ?').pluck();
  }

  /** The next page of the run's layer files without an own allocation, after file id `afterId`. */
  pendingFiles(afterId: number): PendingFile[] {
    const rows = this.pendingFilesStmt.all(afterId) as (Record<keyof PendingFile, bigint | string | null> & { pathBytes: Buffer | null })[];
    return rows.map((row) => ({
      fileId: Number(row.fileId), path: storedPath(row.path as string, row.pathBytes), format: row.format as string,
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

  /** The map holding a file state's own allocation, if it has one. */
  ownMapId(fileId: number): number | undefined {
    return this.ownMapOfFile.get(fileId) as number | undefined;
  }

  /** The path of a file state. */
  filePath(fileId: number): string {
    return (this.pathOfFile.get(fileId) as string | undefined) ?? `file ${fileId}`;
  }
}
