/**
 * The plain models the renderers work from (no formatting here): a stored
 * run's report, the diff of two runs, a run's findings, the list of runs.
 * Builders live next door (build-report.ts, build-diff.ts, build-check.ts).
 */
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
  images: ImageFigures[];
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
