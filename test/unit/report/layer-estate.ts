/**
 * Filling the tables of migration 0004 (per-layer figures, base sharings,
 * file systems, references, snapshots) in a database written by estate.ts,
 * the way the scan's post-scan pass does, so that the reports can be tested
 * before (and independently of) that pass.
 */
import type Database from 'better-sqlite3';

type Db = Database.Database;

/** Data, zero, preallocated bytes. */
export interface Bytes3 {
  data: number;
  zero: number;
  preallocated: number;
}

/** Every stored state (files row) of the file at `path`. */
export function fileIds(db: Db, path: string): number[] {
  return db.prepare('SELECT id FROM files WHERE path = ? ORDER BY id').pluck().all(path) as number[];
}

/** The chain state run `runId` recorded for the image at `path`. */
export function chainIdIn(db: Db, runId: number, path: string): number {
  const id = db.prepare(`SELECT ri.chain_id FROM run_images ri JOIN images i ON i.id = ri.image_id
    WHERE ri.run_id = ? AND i.path = ?`).pluck().get(runId, path) as number | undefined;
  if (id === undefined) throw new Error(`no image ${path} in run ${runId}`);
  return id;
}

function rootId(db: Db, root: string): number {
  return db.prepare('SELECT id FROM roots WHERE path = ?').pluck().get(root) as number;
}

/** The own allocation (and, optionally, the extent-map figures) of every state of the file at `path`. */
export function setOwn(db: Db, path: string, own: Bytes3, trueOwn: Bytes3 | null = null, unwrittenBytes: number | null = null): void {
  const insert = db.prepare(`INSERT OR REPLACE INTO file_allocations (file_id, map_id, data_bytes, zero_bytes, preallocated_bytes,
    true_data_bytes, true_zero_bytes, true_preallocated_bytes, unwritten_bytes)
    VALUES (?, (SELECT min(id) FROM maps), ?, ?, ?, ?, ?, ?, ?)`);
  for (const id of fileIds(db, path)) {
    insert.run(id, own.data, own.zero, own.preallocated, trueOwn?.data ?? null, trueOwn?.zero ?? null,
      trueOwn?.preallocated ?? null, unwrittenBytes);
  }
}

/** The shadowed bytes of one layer of the chain run `runId` recorded for `imagePath`. */
export function setShadowed(db: Db, runId: number, imagePath: string, depth: number, shadowed: Bytes3): void {
  db.prepare(`UPDATE chain_layers SET shadowed_data_bytes = ?, shadowed_zero_bytes = ?, shadowed_preallocated_bytes = ?
    WHERE chain_id = ? AND depth = ?`).run(shadowed.data, shadowed.zero, shadowed.preallocated, chainIdIn(db, runId, imagePath), depth);
}

/** Marks the chain of `imagePath` in run `runId` as having layer figures, with a commit growth. */
export function setChainFigures(db: Db, runId: number, imagePath: string, commitGrowthBytes: number | null): void {
  db.prepare(`UPDATE chains SET has_layer_figures = 1, commit_growth_bytes = ?, commit_growth_min_bytes = ?,
                commit_growth_max_bytes = ?, commit_data_growth_bytes = ? WHERE id = ?`)
    .run(commitGrowthBytes, commitGrowthBytes, commitGrowthBytes, commitGrowthBytes, chainIdIn(db, runId, imagePath));
}

/** A base sharing of run `runId`: the base file and its overlays (image paths). */
export function addSharing(db: Db, runId: number, basePath: string, figures: { read: number; shared: number; unread: number },
  overlays: { path: string; read: number; unique: number }[]): void {
  const fileId = fileIds(db, basePath).at(-1)!;
  const key = `${basePath} ${runId}`;
  const id = Number(db.prepare(`INSERT INTO base_sharings (key, file_id, overlay_count, read_bytes, shared_bytes, unread_bytes)
    VALUES (?, ?, ?, ?, ?, ?)`).run(key, fileId, overlays.length, figures.read, figures.shared, figures.unread).lastInsertRowid);
  for (const overlay of overlays) {
    db.prepare('INSERT INTO base_sharing_overlays (sharing_id, chain_id, read_bytes, unique_bytes) VALUES (?, ?, ?, ?)')
      .run(id, chainIdIn(db, runId, overlay.path), overlay.read, overlay.unique);
  }
  db.prepare('INSERT INTO run_base_sharings (run_id, sharing_id) VALUES (?, ?)').run(runId, id);
}

/** The file system of `root` in run `runId`. */
export function addFilesystem(db: Db, runId: number, root: string,
  fs: { dev: number; capacity: number; free: number; available: number }): void {
  db.prepare(`INSERT INTO run_filesystems (run_id, root_id, dev, capacity_bytes, free_bytes, available_bytes)
    VALUES (?, ?, ?, ?, ?, ?)`).run(runId, rootId(db, root), fs.dev, fs.capacity, fs.free, fs.available);
}

/** A path a reference source named in run `runId`. */
export function addReference(db: Db, runId: number, path: string, source = '/etc/libvirt/qemu/vm.xml'): void {
  db.prepare('INSERT INTO run_references (run_id, path, source) VALUES (?, ?, ?)').run(runId, path, source);
}

/** A qcow2 internal snapshot of every state of the file at `path`. */
export function addSnapshot(db: Db, path: string, snapshot: { seq: number; id: string; name: string; createdAt: string }): void {
  for (const id of fileIds(db, path)) {
    db.prepare(`INSERT INTO file_snapshots (file_id, seq, snapshot_id, name, created_at, vm_state_bytes)
      VALUES (?, ?, ?, ?, ?, 0)`).run(id, snapshot.seq, snapshot.id, snapshot.name, snapshot.createdAt);
  }
}

/** Sets the mtime of every state of the file at `path`. */
export function setMtime(db: Db, path: string, iso: string): void {
  db.prepare('UPDATE files SET mtime_ns = ? WHERE path = ?').run(BigInt(Date.parse(iso)) * 1_000_000n, path);
}

/** Sets a run's finish time (the time file-system projections start from). */
export function setFinishedAt(db: Db, runId: number, iso: string): void {
  db.prepare('UPDATE runs SET finished_at = ? WHERE id = ?').run(iso, runId);
}
