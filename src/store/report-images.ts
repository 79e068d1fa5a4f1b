/**
 * Reading one run's images for the reports: each image's chain state with
 * its layers and per-depth bytes, the run's per-depth totals, its findings,
 * and which files earlier runs used as backing layers. File identities are
 * returned as `dev:ino` strings (exact even beyond 2^53).
 */
import type { Db } from './db.js';

/** Bytes charged to one depth of a chain (null when the chain was not mapped). */
export interface LayerFigures {
  depth: number;
  /** The layer's file as the chain named it (may hold `..`). */
  path: string;
  fileKey: string;
  format: string;
  dataBytes: number | null;
  zeroBytes: number | null;
  preallocatedBytes: number | null;
}

/** One image of a run, with the chain state it had. */
export interface ImageRecord {
  imageId: number;
  path: string;
  root: string;
  format: string;
  virtualSizeBytes: number | null;
  diskUsageBytes: number;
  backingName: string | null;
  chainLength: number;
  unallocatedBytes: number | null;
  errorCode: string | null;
  errorMessage: string | null;
  chainId: number;
  fileKey: string;
  /** Who held the image open when the run saw it (QEMU's lock bytes): a writer, only readers, or nobody. */
  inUse: 'write' | 'read' | null;
  /** Layers opened, by depth (all of them when the chain was mapped). */
  layers: LayerFigures[];
}

/** Per-depth totals of a run. */
export interface DepthTotalsRecord {
  depth: number;
  dataBytes: number;
  zeroBytes: number;
  preallocatedBytes: number;
}

/** A finding of a run (of an image's chain state, or of the run itself). */
export interface FindingRow {
  path: string;
  code: string;
  severity: 'error' | 'warning' | 'info';
  depth: number | null;
  message: string;
}

/** A file some run up to a given one used as a backing layer (depth >= 1). */
export interface BackingUseRecord {
  path: string;
  fileKey: string;
  /** The newest run (up to the given one) in which a chain read it. */
  lastRunId: number;
}

/** The images of run `runId`, sorted by path, each with its layers. */
export function runImages(db: Db, runId: number): ImageRecord[] {
  const images = db.prepare(`
    SELECT ri.image_id AS imageId, i.path, ro.path AS root, f.format,
           c.virtual_size_bytes AS virtualSizeBytes, f.allocated_bytes AS diskUsageBytes,
           f.backing_name AS backingName, c.layer_count AS chainLength, c.unallocated_bytes AS unallocatedBytes,
           c.error_code AS errorCode, c.error_message AS errorMessage, ri.chain_id AS chainId,
           f.dev || ':' || f.ino AS fileKey, u.in_use AS inUse
    FROM run_images ri
    LEFT JOIN run_image_use u ON u.run_id = ri.run_id AND u.image_id = ri.image_id
    JOIN images i ON i.id = ri.image_id
    JOIN roots ro ON ro.id = ri.root_id
    JOIN chains c ON c.id = ri.chain_id
    JOIN files f ON f.id = c.top_file_id
    WHERE ri.run_id = ?
    ORDER BY i.path`).all(runId) as Omit<ImageRecord, 'layers'>[];
  const layers = db.prepare(`
    SELECT ri.image_id AS imageId, cl.depth, f.path, f.dev || ':' || f.ino AS fileKey, f.format,
           cl.data_bytes AS dataBytes, cl.zero_bytes AS zeroBytes, cl.preallocated_bytes AS preallocatedBytes
    FROM run_images ri
    JOIN chain_layers cl ON cl.chain_id = ri.chain_id
    JOIN files f ON f.id = cl.file_id
    WHERE ri.run_id = ?
    ORDER BY ri.image_id, cl.depth`).all(runId) as (LayerFigures & { imageId: number })[];
  const byImage = new Map<number, LayerFigures[]>();
  for (const { imageId, ...layer } of layers) {
    const list = byImage.get(imageId);
    if (list === undefined) byImage.set(imageId, [layer]);
    else list.push(layer);
  }
  return images.map((image) => ({ ...image, layers: byImage.get(image.imageId) ?? [] }));
}

/** The materialised per-depth totals of run `runId` (logical), by depth. */
export function runDepthTotals(db: Db, runId: number): DepthTotalsRecord[] {
  return db.prepare(`
    SELECT depth, data_bytes AS dataBytes, zero_bytes AS zeroBytes, preallocated_bytes AS preallocatedBytes
    FROM run_depth_totals WHERE run_id = ? ORDER BY depth`).all(runId) as DepthTotalsRecord[];
}

/** Every finding recorded for run `runId`, by path then code. */
export function runFindings(db: Db, runId: number): FindingRow[] {
  return db.prepare(`
    SELECT path, code, severity, depth, message FROM run_findings_all WHERE run_id = ?
    ORDER BY path, code, depth, message`).all(runId) as FindingRow[];
}

/** Files used as backing layers by the chains of runs up to `runId`. */
export function backingUse(db: Db, runId: number): BackingUseRecord[] {
  // run_images is reached by run (its primary key's prefix); the distinct
  // chain states of those runs are few, and their layers are found by chain.
  return db.prepare(`
    SELECT f.path, f.dev || ':' || f.ino AS fileKey, max(u.lastRunId) AS lastRunId
    FROM (SELECT chain_id, max(run_id) AS lastRunId FROM run_images WHERE run_id <= ? GROUP BY chain_id) u
    JOIN chain_layers cl ON cl.chain_id = u.chain_id AND cl.depth >= 1
    JOIN files f ON f.id = cl.file_id
    GROUP BY f.path, f.dev, f.ino`).all(runId) as BackingUseRecord[];
}

/** Per-root totals of run `runId` (view run_root_totals), by root. */
export function runRootTotals(db: Db, runId: number): {
  root: string; imageCount: number; errorCount: number; virtualSizeBytes: number; diskUsageBytes: number;
  dataBytes: number; zeroBytes: number; preallocatedBytes: number; unallocatedBytes: number;
}[] {
  return db.prepare(`
    SELECT root, image_count AS imageCount, error_count AS errorCount, virtual_size_bytes AS virtualSizeBytes,
           disk_usage_bytes AS diskUsageBytes, data_bytes AS dataBytes, zero_bytes AS zeroBytes,
           preallocated_bytes AS preallocatedBytes, unallocated_bytes AS unallocatedBytes
    FROM run_root_totals WHERE run_id = ? ORDER BY root`).all(runId) as ReturnType<typeof runRootTotals>;
}
