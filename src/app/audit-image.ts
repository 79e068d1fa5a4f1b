/**
 * Auditing one candidate file: reuse the previous chain state when every
 * file of the chain is unchanged (no image is opened), otherwise classify
 * it by magic, map its chain into the store, and record it in the run.
 */
import type { ScanConfig } from '../config/config.js';
import { type Classification, classify } from '../crawl/classify.js';
import type { Candidate } from '../crawl/crawler.js';
import { type StatCache, areAllUnchanged, statIdentity } from '../crawl/file-identity.js';
import { type ChainOpener, type EntrySink, type MapChainOutcome, mapChain } from '../crawl/map-chain.js';
import type { ChainLayerInfo } from '../map/image-chain.js';
import type { MapEntry } from '../map/map-entry.js';
import type { FileGuard } from '../map/opened-files.js';
import type { ChainRecord, DepthTotals, FindingRecord, ImageChange, LayerRecord } from '../store/records.js';
import type { ScanStore } from '../store/scan-store.js';
import { type InUse, imageInUse } from '../io/qemu-locks.js';
import { ChainAccount } from '../map/chain-account.js';
import type { MapPool } from './map-pool.js';
import {
  formatMismatchFinding, inUseFinding, layerFindings, mappingErrorFinding, notAnImageFinding, unreadableCandidateFinding,
  unstableFinding,
} from './scan-findings.js';

/** What every image of a run is audited with. */
export interface AuditContext {
  store: ScanStore;
  config: ScanConfig;
  runId: number;
  /** Run whose chain states may be reused (same fingerprint); undefined for a full scan. */
  reuseRunId: number | undefined;
  /**
   * The image paths of that run: every file under the roots is a candidate, most of them
   * no image, and a set spares each of them a query.
   */
  reusablePaths: ReadonlySet<string>;
  /** The previous complete run, to tell new and changed images. */
  previousRunId: number | undefined;
  open: ChainOpener;
  signal: AbortSignal;
  isRawName: (relativePath: string) => boolean;
  /** The roots boundary for backing files, data files and extents. */
  guardFile: FileGuard;
  onFinding: (path: string, finding: FindingRecord) => void;
  /** Stats of backing files, shared by the chains of this scan. */
  backingStats: StatCache;
  /** Map workers; chains are mapped on the main thread without them. */
  pool: MapPool | null;
  /** The run's roots (the workers rebuild the backing policy from them). */
  roots: readonly string[];
  /** /proc/locks read ahead (io/qemu-locks.ts loadLockTable): imageInUse waits for it once. */
  locksLoaded: Promise<void>;
}

/** What auditing one candidate came to. */
export type AuditResult =
  | { kind: 'skipped' }
  | { kind: 'image'; wasRead: boolean; virtualSizeBytes: number; isError: boolean };

interface MappedResult {
  mapId: number;
  depthTotals: DepthTotals[];
  unallocatedBytes: number;
}

function mapSink(context: AuditContext, layers: readonly ChainLayerInfo[], virtualSizeBytes: number): EntrySink<MappedResult> {
  const builder = context.store.maps.begin(virtualSizeBytes);
  const account = new ChainAccount(layers.map((layer) => layer.format === 'raw'));
  return {
    add(entry: MapEntry) {
      account.add(entry);
      builder.add(entry);
    },
    finish: () => ({ mapId: builder.finish(), depthTotals: account.depthTotals, unallocatedBytes: account.unallocatedBytes }),
    abort: () => builder.abort(),
  };
}

function layerRecord(layer: ChainLayerInfo): LayerRecord {
  return { ...layer, file: { ...layer.file }, extraFiles: layer.extraFiles.map((file) => ({ ...file })) };
}

function chainRecord(outcome: MapChainOutcome<MappedResult>, top: LayerRecord | null, findings: FindingRecord[]): ChainRecord {
  if (outcome.kind === 'mapped') {
    const { depthTotals, unallocatedBytes, mapId } = outcome.result;
    return {
      layers: outcome.layers.map(layerRecord), mapId, virtualSizeBytes: outcome.virtualSizeBytes,
      unallocatedBytes, depthTotals, error: null, findings,
    };
  }
  const layers = outcome.layers.length > 0 ? outcome.layers.map(layerRecord) : top === null ? [] : [top];
  const error = findings.find((finding) => finding.severity === 'error') ?? { code: outcome.code, message: outcome.message };
  return {
    layers, mapId: null, virtualSizeBytes: layers[0]?.virtualSizeBytes ?? null, unallocatedBytes: null,
    depthTotals: null, error: { code: error.code, message: error.message }, findings,
  };
}

/** A depth-0 layer known only by stat (the image itself could not be opened). */
function statOnlyLayer(path: string, format: string): LayerRecord | null {
  const file = statIdentity(path);
  if (file === null) return null;
  return {
    depth: 0, format, virtualSizeBytes: null, backingName: null, backingFormat: null,
    clusterSizeBytes: null, version: null, flags: [], file, extraFiles: [],
  };
}

function changeOf(context: AuditContext, path: string, chainId: number): ImageChange {
  if (context.previousRunId === undefined) return 'new';
  const previous = context.store.runs.chainIdIn(context.previousRunId, path);
  if (previous === undefined) return 'new';
  return previous === chainId ? 'unchanged' : 'changed';
}

/** Records that the image was mapped while a writer held it (an info finding of the run). */
function noteInUse(context: AuditContext, candidate: Candidate, inUse: InUse): void {
  if (inUse !== 'write') return;
  const finding = inUseFinding(candidate.path);
  context.store.runs.addFinding(context.runId, candidate.path, finding);
  context.onFinding(candidate.path, finding);
}

function tryReuse(context: AuditContext, candidate: Candidate): AuditResult | null {
  if (context.reuseRunId === undefined || !context.reusablePaths.has(candidate.path)) return null;
  const previous = context.store.chains.previousChain(context.reuseRunId, candidate.path);
  if (previous === undefined || !previous.isMapped) return null;
  // The image's own files are stat'ed now; backing files once per scan (many chains share them).
  const own = previous.files.filter((file) => file.depth === 0);
  const backing = previous.files.filter((file) => file.depth > 0);
  if (!areAllUnchanged(own) || !areAllUnchanged(backing, (path) => context.backingStats.stat(path))) return null;
  const inUse = imageInUse(candidate.path);
  context.store.transaction(() => {
    const change = changeOf(context, candidate.path, previous.chainId);
    context.store.runs.addImage(context.runId, candidate.path, candidate.root, previous.chainId, change, inUse);
    noteInUse(context, candidate, inUse);
  });
  return { kind: 'image', wasRead: false, virtualSizeBytes: 0, isError: false };
}

/** A candidate that is no image (or may be one nobody can read): a finding at most; a file gone meanwhile, none. */
function skip(context: AuditContext, candidate: Candidate,
  classification: Classification & { kind: 'not-image' | 'unknown' }): AuditResult {
  const finding = classification.kind === 'not-image'
    ? notAnImageFinding(candidate.path, classification.extensionFormat)
    : statIdentity(candidate.path) === null ? null : unreadableCandidateFinding(candidate.path, classification.message);
  if (finding !== null) {
    context.store.runs.addFinding(context.runId, candidate.path, finding);
    context.onFinding(candidate.path, finding);
  }
  return { kind: 'skipped' };
}

function findingsOf(candidate: Candidate, classification: Classification, outcome: MapChainOutcome<MappedResult>): FindingRecord[] {
  const findings: FindingRecord[] = [];
  if (outcome.kind === 'failed') findings.push(mappingErrorFinding(outcome));
  findings.push(...layerFindings(outcome.layers));
  const mismatch = classification.kind === 'image'
    ? formatMismatchFinding(candidate.path, classification.format, classification.extensionFormat) : null;
  if (mismatch !== null) findings.push(mismatch);
  return findings;
}

function mapOrFail(context: AuditContext, candidate: Candidate, classification: Classification): Promise<MapChainOutcome<MappedResult>> {
  if (classification.kind === 'unreadable') {
    const { code, message } = classification;
    return Promise.resolve({ kind: 'failed', layers: [], code, message, errno: null, depth: 0 });
  }
  return mapChain(candidate.path, {
    open: context.open, maxDepth: context.config.maxChainDepth, changeRetries: context.config.changeRetries,
    signal: context.signal, guardFile: context.guardFile,
    sink: (chain) => mapSink(context, chain.layers, chain.virtualSizeBytes),
  });
}

/** Classifies the candidate and maps it when it is an image: on a map worker, or on this thread. */
async function classifyAndMap(context: AuditContext, candidate: Candidate): Promise<{
  classification: Classification; outcome: MapChainOutcome<MappedResult> | null;
}> {
  if (context.pool === null) {
    const classification = classify(candidate.path, candidate.relativePath, context.isRawName);
    if (classification.kind === 'not-image' || classification.kind === 'unknown') return { classification, outcome: null };
    return { classification, outcome: await mapOrFail(context, candidate, classification) };
  }
  const audit = await context.pool.map({
    kind: 'map', file: candidate.path, maxDepth: context.config.maxChainDepth, changeRetries: context.config.changeRetries,
    roots: context.roots, followBackingOutsideRoots: context.config.followBackingOutsideRoots,
    isRawName: context.isRawName(candidate.relativePath),
  }, (virtualSizeBytes) => {
    const builder = context.store.maps.begin(virtualSizeBytes);
    return {
      addColumns: (columns) => builder.addColumns(columns),
      finish: (digest) => builder.finish(digest),
      abort: () => builder.abort(),
    };
  });
  const { classification } = audit;
  if (classification.kind !== 'unreadable') return audit;
  const { code, message } = classification;
  return { classification, outcome: { kind: 'failed', layers: [], code, message, errno: null, depth: 0 } };
}

/** Audits one candidate. Throws only the signal's reason and store errors. */
export async function auditImage(context: AuditContext, candidate: Candidate): Promise<AuditResult> {
  await context.locksLoaded;
  const reused = tryReuse(context, candidate);
  if (reused !== null) return reused;
  // Who holds the image open (QEMU's lock bytes, read from /proc/locks; no lock is taken), as the audit
  // starts (the worker classifies and maps next); never a reason to skip it.
  const inUse = imageInUse(candidate.path);
  const { classification, outcome } = await classifyAndMap(context, candidate);
  if (classification.kind === 'not-image' || classification.kind === 'unknown') return skip(context, candidate, classification);
  if (outcome === null) return { kind: 'skipped' }; // only a file that is no image has no outcome
  let top: LayerRecord | null = null;
  if (outcome.kind === 'failed' && outcome.layers.length === 0) {
    top = statOnlyLayer(candidate.path, classification.kind === 'image' ? classification.format : 'unknown');
    if (top === null) return { kind: 'skipped' }; // the file vanished meanwhile
  }
  const findings = findingsOf(candidate, classification, outcome);
  const unstable = outcome.kind === 'mapped' && !outcome.isStable ? unstableFinding(candidate.path, outcome.attempts) : null;
  const record = chainRecord(outcome, top, findings);
  context.store.transaction(() => {
    const chainId = context.store.chains.saveChain(record);
    context.store.runs.addImage(context.runId, candidate.path, candidate.root, chainId, changeOf(context, candidate.path, chainId), inUse);
    if (unstable !== null) context.store.runs.addFinding(context.runId, candidate.path, unstable);
    if (outcome.kind === 'mapped') noteInUse(context, candidate, inUse);
  });
  for (const finding of unstable === null ? findings : [...findings, unstable]) context.onFinding(candidate.path, finding);
  const isMapped = outcome.kind === 'mapped';
  return { kind: 'image', wasRead: isMapped, virtualSizeBytes: isMapped ? outcome.virtualSizeBytes : 0, isError: !isMapped };
}
