/**
 * `imgaudit scan` as a use case: lock the database, open and migrate it,
 * close runs a crash left `running`, crawl the roots, audit every candidate
 * under the limiter (the store is the single writer), compute the per-layer
 * figures the run still lacks (layer-figures.ts), end the run with its
 * totals, apply retention. No argv, no output, no process handling: the
 * caller passes an AbortSignal and an event callback.
 */
import { createHash } from 'node:crypto';
import os from 'node:os';
import { ConfigError } from '../config/config-error.js';
import { type ScanConfig } from '../config/config.js';
import { durationMs } from '../config/parsers.js';
import { type Candidate, crawl, nestedRoots, normaliseRoots } from '../crawl/crawler.js';
import { globMatcher } from '../crawl/glob-match.js';
import { StatCache } from '../crawl/file-identity.js';
import { Limiter } from '../crawl/limiter.js';
import { type ChainOpener, openImageChain } from '../crawl/map-chain.js';
import { loadLockTable } from '../io/qemu-locks.js';
import { asStoreError } from '../store/db.js';
import { redactUrl } from '../store/pg/conninfo.js';
import type { FindingRecord } from '../store/records.js';
import type { ReadCounters } from '../store/run-repo.js';
import { ScanLock } from '../store/scan-lock.js';
import { ScanStore } from '../store/scan-store.js';
import { type AuditContext, auditImage } from './audit-image.js';
import { rootsGuard } from './backing-policy.js';
import { MapPool, builtWorker } from './map-pool.js';
import { ExtentSieve } from './extent-sieve.js';
import { recordLayerFigures } from './layer-figures.js';
import type { ScanEvent, ScanProgress, ScanSummary } from './scan-events.js';
import { RootTally } from './root-tally.js';
import { noImagesFinding, reachesThreshold } from './scan-findings.js';
import { toolVersion } from './tool-version.js';

/** How to run a scan. */
export interface ScanOptions {
  config: ScanConfig;
  /** Re-read every chain instead of reusing unchanged ones. */
  isFull: boolean;
  /** Aborting stops dispatching; what is done is committed and the run is `interrupted`. */
  signal: AbortSignal;
  onEvent?: (event: ScanEvent) => void;
  /** Chain opener (tests count or perturb opens through it); chains are then mapped on the main thread. */
  open?: ChainOpener;
  /** The map worker script (default: the built one next to this module), or null to map on the main thread. */
  workers?: URL | null;
}

/**
 * What mapping results depend on besides the files: reuse needs an equal
 * fingerprint (the raw patterns decide which files without magic are
 * images). `recorded` names what a chain state's audit records beyond its
 * map, so that runs of an imgaudit that did not record it (file snapshots
 * came with migration 0004) are not reused.
 */
function fingerprintOf(config: ScanConfig, roots: readonly string[]): string {
  return createHash('sha256').update(JSON.stringify({
    toolVersion: toolVersion(), roots, rawPatterns: config.rawPatterns,
    followBackingOutsideRoots: config.followBackingOutsideRoots, maxChainDepth: config.maxChainDepth,
    recorded: ['file-snapshots'],
  })).digest('hex').slice(0, 32);
}

/** The configuration as a run stores it: a central store's URL without its password. */
function storedConfig(config: ScanConfig): ScanConfig {
  return config.push.database === null ? config : { ...config, push: { ...config.push, database: redactUrl(config.push.database) } };
}

/** Worker threads for `concurrency` chains in flight. */
function mapWorkers(concurrency: number): number {
  const forced = Number(process.env.IMGAUDIT_MAP_WORKERS);
  if (Number.isInteger(forced) && forced > 0) return Math.min(concurrency, forced);
  return Math.min(concurrency, os.availableParallelism());
}

function isAbort(error: unknown, signal: AbortSignal): boolean {
  return signal.aborted && (error === signal.reason || (error as Error | undefined)?.name === 'AbortError');
}

class ScanDriver {
  private readonly startedAtMs = Date.now();
  private readonly progress: ScanProgress = {
    found: 0, done: 0, isCrawlDone: false, images: 0, read: 0, mappedBytes: 0, elapsedMs: 0,
  };

  /** A root or directory could not be read: the run ends `failed`, never `complete`. */
  hasGaps = false;

  constructor(private readonly options: ScanOptions, private readonly context: AuditContext) {}

  /** Chains read so far and their virtual bytes. */
  get readCounters(): ReadCounters {
    return { readCount: this.progress.read, mappedBytes: this.progress.mappedBytes };
  }

  async run(roots: readonly string[]): Promise<void> {
    const { signal } = this.options;
    const { config } = this.options;
    const limiter = new Limiter(config.concurrency);
    const sieve = new ExtentSieve(this.context);
    const tally = new RootTally(roots);
    for await (const item of crawl({ roots, include: config.include, exclude: config.exclude })) {
      if (signal.aborted || limiter.hasFailed) break;
      if (item.kind === 'root-problem') {
        const finding: FindingRecord = { code: item.code, severity: item.severity, depth: null, message: item.message };
        this.context.store.runs.addFinding(this.context.runId, item.path, finding);
        this.context.onFinding(item.path, finding);
        // A root with a gap has its own finding; "no image under this root" would mislead.
        if (item.isGap) tally.unreadable(item.root);
        // What could not be read may hold images: the run is no complete picture of the estate.
        if (item.isGap) this.hasGaps = true;
        continue;
      }
      this.progress.found++;
      tally.candidate(item.root);
      if (sieve.hold(item)) continue;
      await limiter.whenReady();
      if (signal.aborted || limiter.hasFailed) break;
      limiter.run(() => this.audit(item, tally));
    }
    this.progress.isCrawlDone = true;
    // Candidates that may be extents of a descriptor: audited once every descriptor has been seen.
    for (const { candidate, isExtent } of signal.aborted || limiter.hasFailed ? [] : sieve.release()) {
      if (isExtent) {
        this.progress.done++;
        tally.image(candidate.root); // of a descriptor's image
        continue;
      }
      await limiter.whenReady();
      if (signal.aborted || limiter.hasFailed) break;
      limiter.run(() => this.audit(candidate, tally));
    }
    await limiter.idle();
    if (!signal.aborted && !limiter.hasFailed) this.reportEmptyRoots(tally);
    this.emitProgress();
  }

  private reportEmptyRoots(tally: RootTally): void {
    for (const { root, candidates } of tally.empty()) {
      const finding = noImagesFinding(root, candidates);
      this.context.store.runs.addFinding(this.context.runId, root, finding);
      this.context.onFinding(root, finding);
    }
  }

  private async audit(candidate: Candidate, tally: RootTally): Promise<void> {
    if (this.options.signal.aborted) return;
    try {
      const result = await auditImage(this.context, candidate);
      this.context.store.commitIfDue();
      if (result.kind === 'image') {
        tally.image(candidate.root);
        this.progress.images++;
        if (result.wasRead) {
          this.progress.read++;
          this.progress.mappedBytes += result.virtualSizeBytes;
        }
      }
    } catch (error) {
      if (isAbort(error, this.options.signal)) return;
      throw error;
    }
    this.progress.done++;
    this.emitProgress();
  }

  private emitProgress(): void {
    this.progress.elapsedMs = Date.now() - this.startedAtMs;
    this.options.onEvent?.({ kind: 'progress', progress: { ...this.progress } });
  }
}

function summarise(store: ScanStore, runId: number, options: ScanOptions, elapsedMs: number): ScanSummary {
  const row = store.runs.summary(runId);
  const status = row.status === 'complete' || row.status === 'failed' ? row.status : 'interrupted';
  const hasFailure = (['error', 'warning', 'info'] as const)
    .some((severity) => row.findings[severity] > 0 && reachesThreshold(severity, options.config.check.failOn));
  return {
    runId, status, images: row.imageCount, errors: row.errorCount, newImages: row.newCount,
    changedImages: row.changedCount, read: row.readCount, mappedBytes: row.mappedBytes, elapsedMs,
    findings: row.findings, exitStatus: hasFailure ? 1 : 0,
  };
}

function applyRetention(store: ScanStore, config: ScanConfig): void {
  const { keepRuns, olderThan } = config.retention;
  if (keepRuns === null && olderThan === null) return;
  store.prune({ keepRuns, olderThanMs: olderThan === null ? null : durationMs(olderThan), now: new Date() });
}

/**
 * Runs one scan. Throws ConfigError (no roots), LockError, StoreError or
 * MigrationError (run-level: nothing or nothing more is written); image-level
 * problems are findings in the summary.
 */
export async function runScan(options: ScanOptions): Promise<ScanSummary> {
  const { config, signal } = options;
  const roots = normaliseRoots(config.roots);
  if (roots.length === 0) throw new ConfigError("no roots to scan: give ROOT arguments or set 'roots' in the config file");
  const startedAt = new Date();
  const lock = ScanLock.acquire(config.database);
  const locksLoaded = loadLockTable();
  try {
    const store = ScanStore.open(config.database);
    try {
      store.runs.interruptStale();
      const fingerprint = fingerprintOf(config, roots);
      const runId = store.runs.begin({
        roots, config: storedConfig(config), fingerprint, isFull: options.isFull, host: config.host ?? os.hostname(), toolVersion: toolVersion(),
        pid: process.pid, startedAt,
      });
      const reuseRunId = options.isFull ? undefined : store.runs.lastComplete(fingerprint);
      const context: AuditContext = {
        store, config, runId, signal, reuseRunId,
        reusablePaths: reuseRunId === undefined ? new Set() : store.runs.imagePaths(reuseRunId),
        previousRunId: store.runs.lastComplete(),
        open: options.open ?? openImageChain,
        isRawName: globMatcher(config.rawPatterns),
        guardFile: rootsGuard(roots, config.followBackingOutsideRoots),
        onFinding: (path, finding) => options.onEvent?.({ kind: 'finding', path, finding }),
        backingStats: new StatCache(),
        roots,
        pool: null,
        locksLoaded,
      };
      for (const { root, under } of nestedRoots(config.roots)) {
        const finding: FindingRecord = { code: 'E_ROOT_IGNORED', severity: 'info', depth: null,
          message: `root '${root}' lies inside root '${under}': its files are audited once, under '${under}'` };
        store.runs.addFinding(runId, root, finding);
        context.onFinding(root, finding);
      }
      // Chains are mapped on worker threads, unless a test injects an opener or runs from sources.
      const workerUrl = options.open === undefined ? (options.workers === undefined ? builtWorker() : options.workers) : null;
      if (workerUrl !== null) context.pool = new MapPool(mapWorkers(config.concurrency), workerUrl, signal);
      const driver = new ScanDriver(options, context);
      try {
        store.beginBatch();
        await driver.run(roots);
        if (!signal.aborted) {
          const { pool } = context;
          await recordLayerFigures({
            store, config, runId, roots, signal, onFinding: context.onFinding,
            ...(pool === null ? {} : { extents: (path: string) => pool.extents(path) }),
          });
        }
        context.pool?.close();
        store.endBatch();
      } catch (error) {
        context.pool?.close();
        try {
          store.runs.end(runId, 'failed', new Date(), driver.readCounters);
        } catch {
          // The original error says more; the next scan marks the run interrupted.
        }
        throw error;
      }
      context.pool?.close();
      const status = signal.aborted ? 'interrupted' : driver.hasGaps ? 'failed' : 'complete';
      store.runs.end(runId, status, new Date(), driver.readCounters);
      if (status === 'complete') applyRetention(store, config);
      return summarise(store, runId, options, Date.now() - startedAt.getTime());
    } finally {
      store.close();
    }
  } catch (error) {
    throw asStoreError(error);
  } finally {
    lock.release();
  }
}
