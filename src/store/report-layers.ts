/**
 * Reading one run's per-layer and estate figures for the reports (tables of
 * migration 0004): each chain layer's own, true, visible and shadowed bytes,
 * what committing or deleting an overlay would give back, the shared bases
 * and what their overlays read of them, the file systems under the roots,
 * the disk usage history behind the growth figures, the references, and
 * qcow2 internal snapshots. File identities are `dev:ino` strings (exact
 * beyond 2^53); file times are milliseconds.
 */
import type { Db } from './db.js';

/** One layer of an image's chain, as the run recorded it (null: not computed, or not mapped). */
export interface LayerRow {
  imageId: number;
  depth: number;
  path: string;
  format: string;
  fileKey: string;
  diskUsageBytes: number;
  mtimeMs: number;
  ownDataBytes: number | null;
  ownZeroBytes: number | null;
  ownPreallocatedBytes: number | null;
  trueDataBytes: number | null;
  trueZeroBytes: number | null;
  truePreallocatedBytes: number | null;
  visibleDataBytes: number | null;
  visibleZeroBytes: number | null;
  visiblePreallocatedBytes: number | null;
  shadowedDataBytes: number | null;
  shadowedZeroBytes: number | null;
  shadowedPreallocatedBytes: number | null;
}

/** Per image of a run: what its chain state says beyond the per-depth bytes. */
export interface ChainExtrasRow {
  imageId: number;
  /**
   * Host bytes `qemu-img commit` of the top into its backing file would add
   * to it, data and metadata (null: not exact, unknown or no backing), and
   * the range it is known to lie in (min = max when exact).
   */
  commitGrowthBytes: number | null;
  commitGrowthMinBytes: number | null;
  commitGrowthMaxBytes: number | null;
  /** The data part alone. */
  commitDataGrowthBytes: number | null;
  /** Growth range of a qcow2 backing file's image end offset. */
  commitEndGrowthMinBytes: number | null;
  commitEndGrowthMaxBytes: number | null;
  /** 1 once the post-scan pass computed the chain's layer figures. */
  hasLayerFigures: number;
  /** Disk usage of the external data files of the top layer (each once). */
  extraDiskUsageBytes: number;
  /** mtime of the image file. */
  mtimeMs: number;
}

/** A base file read directly by a set of overlays, with what they read of it. */
export interface BaseSharingRow {
  sharingId: number;
  path: string;
  format: string;
  fileKey: string;
  diskUsageBytes: number;
  ownDataBytes: number | null;
  ownZeroBytes: number | null;
  ownPreallocatedBytes: number | null;
  overlayCount: number;
  readBytes: number;
  sharedBytes: number;
  unreadBytes: number;
}

/** One overlay of a base sharing. */
export interface SharingOverlayRow {
  sharingId: number;
  chainId: number;
  /** The overlay chain's top file, as the chain named it. */
  topPath: string;
  readBytes: number;
  uniqueBytes: number;
}

/** A root's file system as statfs saw it at the end of the scan. */
export interface FilesystemRow {
  root: string;
  rootId: number;
  /** st_dev, as decimal text (exact). */
  dev: string;
  capacityBytes: number;
  freeBytes: number;
  availableBytes: number;
}

/** A complete run's start time. */
export interface RunTime {
  runId: number;
  startedAt: string;
}

/** A qcow2 internal snapshot of a layer file of a run's chains. */
export interface SnapshotRow {
  path: string;
  fileKey: string;
  snapshotId: string;
  name: string;
  createdAt: string;
  vmStateBytes: number;
}

/** The layers of every image of run `runId`, by image then depth. */
export function runLayerRows(db: Db, runId: number): LayerRow[] {
  return db.prepare(`
    SELECT ri.image_id AS imageId, cl.depth, f.path, f.format, f.dev || ':' || f.ino AS fileKey,
           f.allocated_bytes AS diskUsageBytes, f.mtime_ns / 1000000 AS mtimeMs,
           fa.data_bytes AS ownDataBytes, fa.zero_bytes AS ownZeroBytes, fa.preallocated_bytes AS ownPreallocatedBytes,
           fa.true_data_bytes AS trueDataBytes, fa.true_zero_bytes AS trueZeroBytes,
           fa.true_preallocated_bytes AS truePreallocatedBytes,
           cl.data_bytes AS visibleDataBytes, cl.zero_bytes AS visibleZeroBytes, cl.preallocated_bytes AS visiblePreallocatedBytes,
           cl.shadowed_data_bytes AS shadowedDataBytes, cl.shadowed_zero_bytes AS shadowedZeroBytes,
           cl.shadowed_preallocated_bytes AS shadowedPreallocatedBytes
    FROM run_images ri
    JOIN chain_layers cl ON cl.chain_id = ri.chain_id
    JOIN files f ON f.id = cl.file_id
    LEFT JOIN file_allocations fa ON fa.file_id = cl.file_id
    WHERE ri.run_id = ?
    ORDER BY ri.image_id, cl.depth`).all(runId) as LayerRow[];
}

/** Per image of run `runId`: commit growth, whether layer figures exist, extra files' disk usage, mtime. */
export function runChainExtras(db: Db, runId: number): ChainExtrasRow[] {
  return db.prepare(`
    SELECT ri.image_id AS imageId, c.commit_growth_bytes AS commitGrowthBytes, c.commit_growth_min_bytes AS commitGrowthMinBytes,
           c.commit_growth_max_bytes AS commitGrowthMaxBytes, c.commit_data_growth_bytes AS commitDataGrowthBytes,
           c.commit_end_growth_min_bytes AS commitEndGrowthMinBytes, c.commit_end_growth_max_bytes AS commitEndGrowthMaxBytes,
           c.has_layer_figures AS hasLayerFigures,
           coalesce((SELECT sum(ef.allocated_bytes) FROM chain_extra_files ce JOIN files ef ON ef.id = ce.file_id
                     WHERE ce.chain_id = c.id AND ce.depth = 0), 0) AS extraDiskUsageBytes,
           f.mtime_ns / 1000000 AS mtimeMs
    FROM run_images ri
    JOIN chains c ON c.id = ri.chain_id
    JOIN files f ON f.id = c.top_file_id
    WHERE ri.run_id = ?`).all(runId) as ChainExtrasRow[];
}

/** The base sharings of run `runId`, most overlays first. */
export function runBaseSharings(db: Db, runId: number): BaseSharingRow[] {
  return db.prepare(`
    SELECT bs.id AS sharingId, f.path, f.format, f.dev || ':' || f.ino AS fileKey, f.allocated_bytes AS diskUsageBytes,
           fa.data_bytes AS ownDataBytes, fa.zero_bytes AS ownZeroBytes, fa.preallocated_bytes AS ownPreallocatedBytes,
           bs.overlay_count AS overlayCount, bs.read_bytes AS readBytes, bs.shared_bytes AS sharedBytes,
           bs.unread_bytes AS unreadBytes
    FROM run_base_sharings rbs
    JOIN base_sharings bs ON bs.id = rbs.sharing_id
    JOIN files f ON f.id = bs.file_id
    LEFT JOIN file_allocations fa ON fa.file_id = bs.file_id
    WHERE rbs.run_id = ?
    ORDER BY bs.overlay_count DESC, f.path`).all(runId) as BaseSharingRow[];
}

/** The overlays of run `runId`'s base sharings. */
export function runSharingOverlays(db: Db, runId: number): SharingOverlayRow[] {
  return db.prepare(`
    SELECT bso.sharing_id AS sharingId, bso.chain_id AS chainId, f.path AS topPath,
           bso.read_bytes AS readBytes, bso.unique_bytes AS uniqueBytes
    FROM run_base_sharings rbs
    JOIN base_sharing_overlays bso ON bso.sharing_id = rbs.sharing_id
    JOIN chains c ON c.id = bso.chain_id
    JOIN files f ON f.id = c.top_file_id
    WHERE rbs.run_id = ?`).all(runId) as SharingOverlayRow[];
}

/** The file systems of run `runId`'s roots, by root. */
export function runFilesystems(db: Db, runId: number): FilesystemRow[] {
  return db.prepare(`
    SELECT ro.path AS root, rf.root_id AS rootId, CAST(rf.dev AS TEXT) AS dev, rf.capacity_bytes AS capacityBytes,
           rf.free_bytes AS freeBytes, rf.available_bytes AS availableBytes
    FROM run_filesystems rf
    JOIN roots ro ON ro.id = rf.root_id
    WHERE rf.run_id = ?
    ORDER BY ro.path`).all(runId) as FilesystemRow[];
}

/** The complete runs up to run `runId` (inclusive), oldest first. */
export function completeRunTimes(db: Db, runId: number): RunTime[] {
  return db.prepare(`
    SELECT id AS runId, started_at AS startedAt FROM runs
    WHERE status = 'complete' AND id <= ? ORDER BY id`).all(runId) as RunTime[];
}

/** Every stored chain state's image file disk usage (st_blocks × 512 of its top file), by chain id. */
export function chainTopUsage(db: Db): Map<number, number> {
  // Every stored chain state (retention keeps only those of kept runs): cheaper than picking those of the runs.
  // Two columns in the same order (every chain state has its top file: a foreign key), read as plain numbers:
  // an array per row would be an allocation per chain state.
  const ids = db.prepare('SELECT id FROM chains ORDER BY id').pluck().all() as number[];
  const bytes = db.prepare('SELECT f.allocated_bytes FROM chains c JOIN files f ON f.id = c.top_file_id ORDER BY c.id')
    .pluck().all() as number[];
  const usage = new Map<number, number>();
  for (let i = 0; i < ids.length; i++) usage.set(ids[i]!, bytes[i]!);
  return usage;
}

/**
 * Calls `visit(runId, imageIds, chainIds)` for every complete run up to
 * `runId`, in order: the run's images by ascending id and their chain
 * states, two parallel columns. Each run's rows are read at once (stepping a
 * cursor row by row costs several times more), as plain numbers (an array
 * per row would be an allocation per image and run).
 */
export function visitHistoryImages(db: Db, runId: number,
  visit: (runId: number, imageIds: readonly number[], chainIds: readonly number[]) => void): void {
  const runIds = db.prepare("SELECT id FROM runs WHERE status = 'complete' AND id <= ? ORDER BY id").pluck().all(runId) as number[];
  const imageIds = db.prepare('SELECT image_id FROM run_images WHERE run_id = ? ORDER BY image_id').pluck();
  const chainIds = db.prepare('SELECT chain_id FROM run_images WHERE run_id = ? ORDER BY image_id').pluck();
  for (const id of runIds) visit(id, imageIds.all(id) as number[], chainIds.all(id) as number[]);
}

/** Disk usage of a root (or of a set of roots) in one run. */
export interface UsageRow {
  runId: number;
  rootId: number;
  bytes: number;
}

/** Per complete run up to `runId`, per root: the disk usage materialised when the run ended (run_root_usage). */
export function rootUsageHistory(db: Db, runId: number): UsageRow[] {
  return db.prepare(`
    SELECT u.run_id AS runId, u.root_id AS rootId, u.disk_usage_bytes AS bytes
    FROM runs r JOIN run_root_usage u ON u.run_id = r.id
    WHERE r.status = 'complete' AND r.id <= ? ORDER BY r.id`).all(runId) as UsageRow[];
}

/**
 * Per complete run up to `runId`: the disk usage of the images of `rootIds`
 * together, each host file (dev, ino) once across them (roots sharing a
 * file system). Reads every kept run's images of those roots.
 */
export function rootsUsageHistory(db: Db, runId: number, rootIds: readonly number[]): Omit<UsageRow, 'rootId'>[] {
  const roots = rootIds.map(() => '?').join(', ');
  return db.prepare(`
    SELECT used.run_id AS runId, sum(used.bytes) AS bytes
    FROM (SELECT per_file.run_id, max(f.allocated_bytes) AS bytes
          FROM (SELECT ri.run_id, c.top_file_id AS file_id
                FROM runs r JOIN run_images ri ON ri.run_id = r.id JOIN chains c ON c.id = ri.chain_id
                WHERE r.status = 'complete' AND r.id <= ? AND ri.root_id IN (${roots})
                UNION
                SELECT ri.run_id, ce.file_id
                FROM runs r JOIN run_images ri ON ri.run_id = r.id
                JOIN chain_extra_files ce ON ce.chain_id = ri.chain_id AND ce.depth = 0
                WHERE r.status = 'complete' AND r.id <= ? AND ri.root_id IN (${roots})) per_file
          JOIN files f ON f.id = per_file.file_id
          GROUP BY per_file.run_id, f.dev, f.ino) used
    GROUP BY used.run_id ORDER BY used.run_id`).all(runId, ...rootIds, runId, ...rootIds) as Omit<UsageRow, 'rootId'>[];
}

/** Paths the run's reference sources name as in use. */
export function runReferences(db: Db, runId: number): string[] {
  return db.prepare('SELECT DISTINCT path FROM run_references WHERE run_id = ?').pluck().all(runId) as string[];
}

/** The run's stored configuration (JSON), or null when it is not valid JSON. */
export function runConfig(db: Db, runId: number): unknown {
  const text = db.prepare('SELECT config FROM runs WHERE id = ?').pluck().get(runId) as string | undefined;
  try {
    return text === undefined ? null : JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

/** qcow2 internal snapshots of the layer files of run `runId`'s chains (each file once). */
export function runSnapshots(db: Db, runId: number): SnapshotRow[] {
  return db.prepare(`
    SELECT f.path, f.dev || ':' || f.ino AS fileKey, s.snapshot_id AS snapshotId, s.name, s.created_at AS createdAt,
           s.vm_state_bytes AS vmStateBytes
    FROM (SELECT DISTINCT cl.file_id FROM run_images ri JOIN chain_layers cl ON cl.chain_id = ri.chain_id
          WHERE ri.run_id = ?) used
    JOIN file_snapshots s ON s.file_id = used.file_id
    JOIN files f ON f.id = used.file_id
    ORDER BY f.path, s.seq`).all(runId) as SnapshotRow[];
}
