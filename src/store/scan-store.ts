/**
 * The scan's view of the database: one connection (the single writer),
 * migrated on open, with the repositories the scan writes through.
 */
import { type Db, openDatabase } from './db.js';
import { ChainRepo } from './chain-repo.js';
import { LayerRepo } from './layer-repo.js';
import { MapWriter } from './map-writer.js';
import { migrate } from './migrator.js';
import { type PruneCounts, type RetentionPolicy, pruneRuns } from './retention.js';
import { RunRepo } from './run-repo.js';

/** Longest time scan results stay uncommitted (and invisible to other connections). */
const COMMIT_INTERVAL_MS = 250;

/** The database as one scan writes it. */
export class ScanStore {
  readonly runs: RunRepo;
  readonly chains: ChainRepo;
  readonly maps: MapWriter;
  readonly layers: LayerRepo;

  private batchStartedMs = 0;

  private constructor(private readonly db: Db) {
    this.runs = new RunRepo(db);
    this.chains = new ChainRepo(db);
    this.maps = new MapWriter(db);
    this.layers = new LayerRepo(db);
    this.maps.afterBlock = () => this.commitIfDue();
  }

  /**
   * Opens (creating) the database at `file`, applies pending migrations and
   * removes what a crashed scan left half-written. The caller holds the scan
   * lock. Throws StoreError / MigrationError.
   */
  static open(file: string): ScanStore {
    const db = openDatabase(file);
    try {
      migrate(db);
      const store = new ScanStore(db);
      store.maps.deleteProvisionalMaps();
      return store;
    } catch (error) {
      db.close();
      throw error;
    }
  }

  /**
   * Opens a batch: from now on writes share one transaction, committed every
   * COMMIT_INTERVAL_MS by `commitIfDue` and by `endBatch`. A crash loses at
   * most the uncommitted part of the batch; the database stays consistent.
   */
  beginBatch(): void {
    this.db.exec('BEGIN');
    this.batchStartedMs = Date.now();
  }

  /** Commits the batch (and opens the next) when it is older than COMMIT_INTERVAL_MS. */
  commitIfDue(): void {
    if (!this.db.inTransaction || Date.now() - this.batchStartedMs < COMMIT_INTERVAL_MS) return;
    this.db.exec('COMMIT');
    this.beginBatch();
  }

  /** Commits what the batch holds. */
  endBatch(): void {
    if (this.db.inTransaction) this.db.exec('COMMIT');
  }

  /** Runs `work` in one transaction (a savepoint inside a batch). */
  transaction<T>(work: () => T): T {
    return this.db.transaction(work)();
  }

  /** Applies a retention policy. */
  prune(policy: RetentionPolicy): PruneCounts {
    return pruneRuns(this.db, policy);
  }

  /** Commits the open batch and closes the connection (SQLite checkpoints the WAL then). */
  close(): void {
    try {
      this.endBatch();
    } finally {
      this.db.close();
    }
  }
}
