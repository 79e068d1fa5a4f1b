/** What a scan reports while it runs and when it ends (the CLI renders these). */
import type { Severity } from '../config/config.js';
import type { FindingRecord } from '../store/records.js';

/** Counters of a scan in progress. */
export interface ScanProgress {
  /** Candidate files found so far (final once `isCrawlDone`). */
  found: number;
  /** Candidates handled (audited, reused or skipped as not images). */
  done: number;
  isCrawlDone: boolean;
  images: number;
  /** Chains opened and mapped (not reused). */
  read: number;
  /** Virtual bytes of the chains read. */
  mappedBytes: number;
  elapsedMs: number;
}

/** One event of a running scan. */
export type ScanEvent =
  | { kind: 'progress'; progress: ScanProgress }
  | { kind: 'finding'; path: string; finding: FindingRecord };

/** The outcome of a scan. */
export interface ScanSummary {
  runId: number;
  /** `failed`: a root or directory could not be read (the run is kept, but is no complete picture). */
  status: 'complete' | 'interrupted' | 'failed';
  images: number;
  /** Images that could not be mapped. */
  errors: number;
  newImages: number;
  changedImages: number;
  read: number;
  mappedBytes: number;
  elapsedMs: number;
  /** Findings of the run (its chains' and its own), by severity. */
  findings: Record<Severity, number>;
  /** 1 when a finding reaches the configured threshold, else 0. */
  exitStatus: 0 | 1;
}
