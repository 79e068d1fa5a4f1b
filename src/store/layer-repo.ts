/**
 * The store side of the post-scan pass (per-layer figures, base sharing,
 * file systems, references; migration 0004): what a run still lacks, the
 * stored map entries streamed back in start order, and the rows the pass
 * writes, one repository per table group:
 *
 * - `reader`: stored maps streamed back (map-entry-reader.ts);
 * - `allocations`: own and true allocation per file state (allocation-repo.ts);
 * - `chainFigures`: shadowed bytes and commit estimates per chain state (chain-figures-repo.ts);
 * - `sharings`: what overlays share of their bases (sharing-repo.ts);
 * - `runFacts`: file systems and references per run (run-facts-repo.ts).
 *
 * The run's chains, layer files and (base, overlay) pairs are first copied
 * into TEMP tables (per connection, spilled to disk by SQLite when large),
 * so that the work lists are read in id order, a page at a time, with no
 * statement open while the pass writes: memory stays flat in the number of
 * images and each page costs an index range, not a scan of the run.
 */
import { AllocationRepo } from './allocation-repo.js';
import { ChainFiguresRepo } from './chain-figures-repo.js';
import type { Db } from './db.js';
import { MapEntryReader } from './map-entry-reader.js';
import { clearWorkLists, createWorkLists, fillWorkLists } from './pass-work-lists.js';
import { RunFactsRepo } from './run-facts-repo.js';
import { SharingRepo } from './sharing-repo.js';

/** The repositories of the post-scan pass, over one connection and its TEMP work tables. */
export class LayerRepo {
  readonly reader: MapEntryReader;
  readonly allocations: AllocationRepo;
  readonly chainFigures: ChainFiguresRepo;
  readonly sharings: SharingRepo;
  readonly runFacts: RunFactsRepo;

  constructor(private readonly db: Db) {
    this.reader = new MapEntryReader(db);
    createWorkLists(db);
    this.allocations = new AllocationRepo(db);
    this.chainFigures = new ChainFiguresRepo(db);
    this.sharings = new SharingRepo(db);
    this.runFacts = new RunFactsRepo(db);
  }

  /**
   * Collects the run's mapped chain states, their layer files and their
   * (base, overlay) pairs into the TEMP work tables. Call inside a transaction.
   */
  prepareRun(runId: number): void {
    fillWorkLists(this.db, runId);
  }

  /** Empties the TEMP work tables. */
  clearRun(): void {
    clearWorkLists(this.db);
  }
}
