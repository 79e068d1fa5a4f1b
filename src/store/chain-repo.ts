/**
 * Files and chain states, stored once per distinct content: a chain state is
 * keyed by a hash of its layers' file rows, its map, its figures, its error
 * and its findings, so an unchanged image points at the same row every run.
 */
import path from 'node:path';
import { createHash } from 'node:crypto';
import { bytesIfEscaped, displayText, storedPath } from '../io/byte-path.js';
import type { Db, Statement } from './db.js';
import type { ChainRecord, FileState, LayerRecord, SnapshotRecord } from './records.js';

/** A chain state a previous run recorded for an image, with the files it was made of. */
export interface PreviousChain {
  chainId: number;
  isError: boolean;
  isMapped: boolean;
  /** The chain's files, each with the depth of the layer that reads it. */
  files: (FileState & { depth: number })[];
}

interface FileRow {
  depth: bigint;
  path: string;
  path_bytes: Buffer | null;
  dev: bigint;
  ino: bigint;
  size_bytes: bigint;
  allocated_bytes: bigint;
  mtime_ns: bigint;
  ctime_ns: bigint;
}

/** Text as stored: escaped bytes as \xNN (io/byte-path.ts). */
function nullableText(text: string | null | undefined): string | null {
  return text === null || text === undefined ? null : displayText(text);
}

/** Prepared statements for files and chain states. */
export class ChainRepo {
  private readonly selectFile: Statement;
  private readonly upsertFileStmt: Statement;
  private readonly chainByKey: Statement;
  private readonly insertChain: Statement;
  private readonly insertLayer: Statement;
  private readonly insertExtra: Statement;
  private readonly insertFinding: Statement;
  private readonly insertSnapshot: Statement;
  private readonly chainOfImage: Statement;
  private readonly filesOfChain: Statement;

  constructor(db: Db) {
    this.selectFile = db.prepare(`
      SELECT id, virtual_size_bytes IS NOT NULL AS is_complete FROM files
      WHERE path = ? AND dev = ? AND ino = ? AND size_bytes = ? AND allocated_bytes = ? AND mtime_ns = ?
        AND ctime_ns = ? AND format = ?`);
    this.upsertFileStmt = db.prepare(`
      INSERT INTO files (path, dev, ino, size_bytes, allocated_bytes, mtime_ns, ctime_ns, format,
                         virtual_size_bytes, backing_name, backing_format, cluster_size_bytes, version, flags, path_bytes)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (path, dev, ino, size_bytes, allocated_bytes, mtime_ns, ctime_ns, format) DO UPDATE SET
        virtual_size_bytes = coalesce(virtual_size_bytes, excluded.virtual_size_bytes),
        backing_name = coalesce(backing_name, excluded.backing_name),
        backing_format = coalesce(backing_format, excluded.backing_format),
        cluster_size_bytes = coalesce(cluster_size_bytes, excluded.cluster_size_bytes),
        version = coalesce(version, excluded.version),
        flags = CASE WHEN excluded.flags <> '[]' THEN excluded.flags ELSE flags END
      RETURNING id`).pluck();
    this.chainByKey = db.prepare('SELECT id FROM chains WHERE key = ?').pluck();
    this.insertChain = db.prepare(`
      INSERT INTO chains (key, top_file_id, map_id, layer_count, virtual_size_bytes, unallocated_bytes,
                          error_code, error_message)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
    this.insertLayer = db.prepare(`
      INSERT INTO chain_layers (chain_id, depth, file_id, data_bytes, zero_bytes, preallocated_bytes)
      VALUES (?, ?, ?, ?, ?, ?)`);
    this.insertExtra = db.prepare('INSERT OR IGNORE INTO chain_extra_files (chain_id, depth, file_id) VALUES (?, ?, ?)');
    this.insertFinding = db.prepare(`
      INSERT INTO chain_findings (chain_id, seq, code, severity, depth, message) VALUES (?, ?, ?, ?, ?, ?)`);
    // Per file state: a file whose snapshot table changed is another file state (mtime, ctime).
    this.insertSnapshot = db.prepare(`
      INSERT OR IGNORE INTO file_snapshots (file_id, seq, snapshot_id, name, created_at, vm_state_bytes)
      VALUES (?, ?, ?, ?, ?, ?)`);
    this.chainOfImage = db.prepare(`
      SELECT c.id, c.error_code, c.map_id FROM run_images ri
      JOIN images i ON i.id = ri.image_id JOIN chains c ON c.id = ri.chain_id
      WHERE ri.run_id = ? AND i.path = ?`);
    this.filesOfChain = db.prepare(`
      SELECT cl.depth, f.path, f.path_bytes, f.dev, f.ino, f.size_bytes, f.allocated_bytes, f.mtime_ns, f.ctime_ns
      FROM chain_layers cl JOIN files f ON f.id = cl.file_id WHERE cl.chain_id = ?
      UNION ALL
      SELECT ce.depth, f.path, f.path_bytes, f.dev, f.ino, f.size_bytes, f.allocated_bytes, f.mtime_ns, f.ctime_ns
      FROM chain_extra_files ce JOIN files f ON f.id = ce.file_id WHERE ce.chain_id = ?`).safeIntegers(true);
  }

  /** The file row for a state (and format), created or completed with the header facts given. */
  fileId(state: FileState, format: string, layer?: LayerRecord): number {
    // Backing paths come as QEMU resolves them ('vms/../bases/b.qcow2'): store one spelling per file.
    // The text as reports show it; a path not UTF-8 keeps its bytes beside it (migrations/0010_add_path_bytes.sql).
    const resolved = path.resolve(state.path);
    const file = { ...state, path: displayText(resolved) };
    const known = this.selectFile.get(file.path, file.dev, file.ino, file.sizeBytes, file.allocatedBytes, file.mtimeNs,
      file.ctimeNs, format) as { id: number; is_complete: number } | undefined;
    if (known !== undefined && (known.is_complete === 1 || layer?.virtualSizeBytes == null)) return known.id;
    return this.upsertFileStmt.get(
      file.path, file.dev, file.ino, file.sizeBytes, file.allocatedBytes, file.mtimeNs, file.ctimeNs, format,
      layer?.virtualSizeBytes ?? null, nullableText(layer?.backingName), layer?.backingFormat ?? null,
      layer?.clusterSizeBytes ?? null, layer?.version ?? null, JSON.stringify(layer?.flags ?? []), bytesIfEscaped(resolved),
    ) as number;
  }

  /** Stores a chain state unless an identical one exists; returns its id. Call inside a transaction. */
  saveChain(record: ChainRecord): number {
    const layerFiles = record.layers.map((layer) => ({
      fileId: this.fileId(layer.file, layer.format, layer),
      extraIds: layer.extraFiles.map((extra) => this.fileId(extra, 'raw')),
    }));
    record.layers.forEach((layer, depth) => this.saveSnapshots(layerFiles[depth]!.fileId, layer.snapshots ?? []));
    const key = createHash('sha256').update(JSON.stringify({
      layerFiles,
      mapId: record.mapId,
      virtualSizeBytes: record.virtualSizeBytes,
      unallocatedBytes: record.unallocatedBytes,
      depthTotals: record.depthTotals,
      error: record.error,
      findings: record.findings,
    })).digest('hex');
    const existing = this.chainByKey.get(key) as number | undefined;
    if (existing !== undefined) return existing;
    const chainId = Number(this.insertChain.run(
      key, layerFiles[0]!.fileId, record.mapId, record.layers.length, record.virtualSizeBytes,
      record.unallocatedBytes, record.error?.code ?? null, nullableText(record.error?.message),
    ).lastInsertRowid);
    layerFiles.forEach(({ fileId, extraIds }, depth) => {
      const totals = record.depthTotals?.[depth];
      this.insertLayer.run(chainId, depth, fileId, totals?.dataBytes ?? null, totals?.zeroBytes ?? null,
        totals?.preallocatedBytes ?? null);
      for (const extraId of extraIds) this.insertExtra.run(chainId, depth, extraId);
    });
    record.findings.forEach((finding, seq) => {
      this.insertFinding.run(chainId, seq, finding.code, finding.severity, finding.depth, displayText(finding.message));
    });
    return chainId;
  }

  /** Records a file state's internal snapshots (once: later calls for the same state change nothing). */
  private saveSnapshots(fileId: number, snapshots: readonly SnapshotRecord[]): void {
    snapshots.forEach((snapshot, seq) => {
      // A date beyond what Date holds (a hostile header) is stored as the epoch.
      const createdAt = new Date(snapshot.createdAtMs);
      this.insertSnapshot.run(fileId, seq, displayText(snapshot.id), displayText(snapshot.name),
        (Number.isNaN(createdAt.getTime()) ? new Date(0) : createdAt).toISOString(), snapshot.vmStateBytes);
    });
  }

  /** The chain state `runId` recorded for the image at `path`, with its files. */
  previousChain(runId: number, path: string): PreviousChain | undefined {
    const row = this.chainOfImage.get(runId, displayText(path)) as
      { id: number; error_code: string | null; map_id: number | null } | undefined;
    if (row === undefined) return undefined;
    const files = (this.filesOfChain.all(row.id, row.id) as FileRow[]).map((f) => ({
      depth: Number(f.depth), path: storedPath(f.path, f.path_bytes), dev: Number(f.dev), ino: Number(f.ino), sizeBytes: Number(f.size_bytes),
      allocatedBytes: Number(f.allocated_bytes), mtimeNs: f.mtime_ns, ctimeNs: f.ctime_ns,
    }));
    return { chainId: row.id, isError: row.error_code !== null, isMapped: row.map_id !== null, files };
  }
}
