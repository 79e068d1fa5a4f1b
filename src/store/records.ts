/** The shapes the scan hands to the store (plain data, no behaviour). */
import type { Severity } from '../config/config.js';
import type { CategoryBytes } from '../map/category-bytes.js';

/** A host file's identity as stat reports it. */
export interface FileState {
  path: string;
  dev: number;
  ino: number;
  sizeBytes: number;
  /** st_blocks × 512. */
  allocatedBytes: number;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

/** A qcow2 internal snapshot of a layer. */
export interface SnapshotRecord {
  id: string;
  name: string;
  createdAtMs: number;
  vmStateBytes: number;
}

/** One opened layer of a chain (depth 0 is the image itself). */
export interface LayerRecord {
  depth: number;
  format: string;
  virtualSizeBytes: number | null;
  backingName: string | null;
  backingFormat: string | null;
  clusterSizeBytes: number | null;
  version: string | null;
  flags: readonly string[];
  file: FileState;
  /** Files the layer reads besides its own (external data files). */
  extraFiles: readonly FileState[];
  /** Its qcow2 internal snapshots (absent: not read). */
  snapshots?: readonly SnapshotRecord[];
}

/** Bytes charged to one chain depth (SPEC §3). */
export type DepthTotals = CategoryBytes;

/** A problem found with an image. */
export interface FindingRecord {
  code: string;
  severity: Severity;
  /** The layer concerned, when there is one. */
  depth: number | null;
  message: string;
}

/** Why a chain could not be mapped. */
export interface ChainError {
  code: string;
  message: string;
}

/** Everything a scan learned about one image's chain. */
export interface ChainRecord {
  /** Layers opened; all of them when mapped, those opened before the failure otherwise. */
  layers: readonly LayerRecord[];
  /** The stored map, or null when the chain could not be mapped. */
  mapId: number | null;
  virtualSizeBytes: number | null;
  unallocatedBytes: number | null;
  /** Index = depth; null when the chain could not be mapped. */
  depthTotals: readonly DepthTotals[] | null;
  error: ChainError | null;
  findings: readonly FindingRecord[];
}

/** How an image's state compares with the previous complete run. */
export type ImageChange = 'unchanged' | 'changed' | 'new';
