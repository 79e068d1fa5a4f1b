/**
 * The plain models the renderers work from (no formatting here): a stored
 * run's report, the diff of two runs, a run's findings, the list of runs.
 * Builders live next door (build-report.ts, build-diff.ts, build-check.ts).
 */
import type { CategoryBytes } from '../map/category-bytes.js';
import type { RunRecord, SeverityCounts } from '../store/report-runs.js';
import type { Table } from './table.js';

export type { RunRecord, SeverityCounts };

/** Bytes charged to one chain depth (SPEC §3). */
export interface DepthFigures {
  depth: number;
  dataBytes: number;
  zeroBytes: number;
  preallocatedBytes: number;
}

/** Why an image's chain could not be mapped. */
export interface ImageError {
  code: string;
  message: string;
}

/** One image of a run, audited as the top of its chain. */
export interface ImageFigures {
  /** Absolute path of the image file. */
  path: string;
  root: string;
  format: string;
  /** Null when the header could not be read. */
  virtualSizeBytes: number | null;
  /** st_blocks × 512 of the image file itself. */
  diskUsageBytes: number;
  /**
   * The backing file as QEMU opens it: the name in the header resolved
   * against the image's directory (protocol and `json:` names as written);
   * null when the image has none.
   */
  backing: string | null;
  /** Layers opened: the chain length when mapped. */
  chainLength: number;
  /** Empty when the chain could not be mapped. */
  byDepth: DepthFigures[];
  /** Null when the chain could not be mapped. */
  unallocatedBytes: number | null;
  error: ImageError | null;
  /** The backing layers (depth ≥ 1) as `normalised-path dev:ino`, to tell a re-based chain. */
  backingChain: string[];
  /** Who held the image open when the run saw it (QEMU's lock bytes): 'write', 'read' or null. */
  inUse: 'write' | 'read' | null;
}

/** Chain-level totals of a run (logical per depth; disk usage counts each file once). */
export interface RunTotals {
  virtualSizeBytes: number;
  diskUsageBytes: number;
  unallocatedBytes: number;
  byDepth: DepthFigures[];
}

/** Per-root totals (Prometheus). */
export interface RootTotals {
  root: string;
  imageCount: number;
  errorCount: number;
  virtualSizeBytes: number;
  diskUsageBytes: number;
  dataBytes: number;
  zeroBytes: number;
  preallocatedBytes: number;
  unallocatedBytes: number;
}

/** Data, zero and preallocated bytes of one layer, from one source. */
export type CategoryFigures = CategoryBytes;

/** One layer of an image's chain: what it holds itself, what the top reads of it, what the top hides of it. */
export interface LayerReport {
  depth: number;
  /** The layer's file, normalised (absolute). */
  path: string;
  format: string;
  /** st_blocks × 512 of the layer's file. */
  diskUsageBytes: number;
  /** The layer mapped alone (as if it had no backing file); null when not computed. */
  own: CategoryFigures | null;
  /** `own` re-categorised with the file system's extent map (unwritten extents are preallocated); null when unknown. */
  trueOwn: CategoryFigures | null;
  /** What the chain's top reads from this layer (the per-depth bytes); null when the chain was not mapped. */
  visible: CategoryFigures | null;
  /** Own bytes the upper layers hide (own − visible); null when not computed. */
  shadowed: CategoryFigures | null;
}

/** What deleting the image file, or committing it into its backing file, would give back. */
export interface ReclaimFigures {
  /** Disk usage of the image file and of its top layer's external data files. */
  deleteFreesBytes: number;
  /**
   * Host bytes the backing file would gain from `qemu-img commit`, data and
   * metadata (L2 tables, L1 growth, refcount blocks); null when not exact,
   * unknown or there is no backing file.
   */
  commitGrowthBytes: number | null;
  /** The range the growth is known to lie in (equal when exact; null when unknown). */
  commitGrowthMinBytes: number | null;
  commitGrowthMaxBytes: number | null;
  /** The data part of the growth alone (qcow2: data clusters allocated minus freed). */
  commitDataGrowthBytes: number | null;
  /** Growth range of a qcow2 backing file's image end offset (its apparent size); null when unknown or not qcow2. */
  commitEndGrowthMinBytes: number | null;
  commitEndGrowthMaxBytes: number | null;
  /** deleteFrees − commitGrowth: what a commit (then deleting the overlay) frees; null when commitGrowth is. */
  commitFreesBytes: number | null;
}

/** One image of `imgaudit report`: its figures, its layers, reclaim and growth. */
export interface ReportImage extends ImageFigures {
  /** The chain's layers, top first (those opened, when it could not be mapped). */
  chain: LayerReport[];
  /** Null when other images of the run read this one (a backing file), or its figures were not computed. */
  reclaim: ReclaimFigures | null;
  /** Least-squares growth of the image file's disk usage over the kept complete runs; null with fewer than 2 runs or runs less than a day apart. */
  growthPerDayBytes: number | null;
}

/** One overlay reading a shared base directly. */
export interface SharingOverlay {
  path: string;
  /** What the overlay's chain reads from the base. */
  readBytes: number;
  /** ... that no other overlay reads. */
  uniqueBytes: number;
}

/** A base file and the overlays reading it directly. */
export interface BaseReport {
  path: string;
  format: string;
  diskUsageBytes: number;
  own: CategoryFigures | null;
  overlayCount: number;
  /** The union of what the overlays read from it. */
  readBytes: number;
  /** Read by two or more overlays. */
  sharedBytes: number;
  /** Own allocation no overlay reads. */
  unreadBytes: number;
  overlays: SharingOverlay[];
}

/** A file system holding one or more roots, at the end of the scan, with its growth. */
export interface FilesystemReport {
  roots: string[];
  /** st_dev (exact). */
  dev: number | bigint;
  capacityBytes: number;
  freeBytes: number;
  availableBytes: number;
  /** Σ virtual sizes of the images under the roots. */
  virtualSizeBytes: number;
  /** Disk usage of the image files under the roots, each file once. */
  diskUsageBytes: number;
  /** virtualSize / capacity; null when the capacity is 0. */
  overcommitRatio: number | null;
  /** Least-squares growth of `diskUsage` over the kept complete runs; null with fewer than 2 runs or runs less than a day apart. */
  growthPerDayBytes: number | null;
  /** The UTC date `available` reaches 0 at that rate; null when not growing. */
  fillsAt: string | null;
  daysToFull: number | null;
}

/** Per-root figures for Prometheus: growth, shadowed and truly preallocated bytes, orphans. */
export interface RootLayerFigures {
  root: string;
  growthPerDayBytes: number | null;
  /** Σ over the root's chains of their layers' shadowed bytes (logical: a layer counts once per chain). */
  shadowed: CategoryFigures;
  /** Σ over the root's image files (each once) of their own truly preallocated bytes (files where known). */
  truePreallocatedBytes: number;
  /** Disk usage of the orphans under the root (unreferenced images, bases whose overlays vanished). */
  orphanBytes: number;
  /** The shared bases under the root, and their own bytes by what their overlays read. */
  bases: { count: number; sharedBytes: number; readByOneBytes: number; unreadBytes: number };
}

/** An image file nothing uses: unreferenced and no backing file, or a base whose overlays vanished. */
export interface Orphan {
  kind: 'image' | 'base';
  path: string;
  root: string;
  diskUsageBytes: number;
  /** Days since the file last changed (mtime), at the run's start. */
  ageDays: number;
  /** For a base: the newest run whose chains read it. */
  lastReadRunId: number | null;
}

/** Findings of one code and severity. */
export interface FindingCount {
  code: string;
  severity: 'error' | 'warning' | 'info';
  count: number;
}

/** `imgaudit report`. */
export interface ReportModel {
  run: RunRecord;
  /** The complete run before this one (growth is measured from it). */
  previousRunId: number | null;
  totals: RunTotals;
  images: ReportImage[];
  /** Shared bases: files read directly by overlays, with what each overlay reads alone. */
  bases: BaseReport[];
  /** The file systems of the roots (empty when the scan recorded none). */
  filesystems: FilesystemReport[];
  /** Per root: growth, shadowed, truly preallocated and orphan bytes. */
  rootFigures: RootLayerFigures[];
  /** The report definitions rendered (the overview, or the one asked for). */
  sections: Table[];
  roots: RootTotals[];
  findingCounts: FindingCount[];
  /** Finish time of the newest complete run in the database. */
  lastSuccessAt: string | null;
  /** The newest run of any status. */
  newestRun: { id: number; status: RunRecord['status'] };
}

/** A figure in two runs. */
export interface FromTo {
  from: number | null;
  to: number | null;
}

/** An image present in both runs whose figures or chain differ. */
export interface ImageChange {
  path: string;
  virtualSize: FromTo;
  diskUsage: FromTo;
  /** TO − FROM per depth, over the depths of either run. */
  byDepth: DepthFigures[];
  backingChanged: boolean;
  /** Both states, for human output. */
  from: ImageFigures;
  to: ImageFigures;
}

/** `imgaudit diff`. */
export interface DiffModel {
  from: RunRecord;
  to: RunRecord;
  added: ImageFigures[];
  removed: ImageFigures[];
  changed: ImageChange[];
  unchangedCount: number;
  totals: { byDepth: DepthFigures[]; diskUsageBytes: number; virtualSizeBytes: number };
}

/** Severity of a finding. */
export type Severity = 'error' | 'warning' | 'info';

/** One finding of `imgaudit check`. */
export interface Finding {
  code: string;
  severity: Severity;
  path: string;
  depth: number | null;
  message: string;
}

/** `imgaudit check`. */
export interface CheckModel {
  run: RunRecord;
  failOn: Severity | 'never';
  findings: Finding[];
  counts: SeverityCounts;
  /** Findings at or above `failOn`. */
  failingCount: number;
}

/** `imgaudit runs`. */
export interface RunsModel {
  runs: RunRecord[];
}
