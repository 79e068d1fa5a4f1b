/**
 * The per-layer and estate figures of a run, built from the store for the
 * report (JSON, every human format, Prometheus) and for check: each image's
 * layers and reclaim figures, the shared bases, the file systems with their
 * growth and fill projection, per-root figures, and the orphans (image
 * files nothing uses).
 */
import path from 'node:path';
import type { Db } from '../store/db.js';
import { type ImageRecord, backingUse } from '../store/report-images.js';
import {
  type ChainExtrasRow, type ChainUsage, type LayerRow, completeRunTimes, historyChainUsage, runBaseSharings, runChainExtras, runConfig,
  runFilesystems, runLayerRows, runReferences, runSharingOverlays, visitHistoryImages,
} from '../store/report-layers.js';
import type { RunRecord } from '../store/report-runs.js';
import { SlopeFit, daysOf, fillProjection } from './growth.js';
import type {
  BaseReport, CategoryFigures, FilesystemReport, LayerReport, Orphan, ReclaimFigures, RootLayerFigures,
} from './model.js';

const DAY_MS = 86_400_000;

function figures(data: number | null, zero: number | null, preallocated: number | null): CategoryFigures | null {
  return data === null || zero === null || preallocated === null
    ? null : { dataBytes: data, zeroBytes: zero, preallocatedBytes: preallocated };
}

/** A layer row as the report shows it. */
export function layerReport(row: LayerRow, isMapped: boolean): LayerReport {
  return {
    depth: row.depth,
    path: path.resolve(row.path),
    format: row.format,
    diskUsageBytes: row.diskUsageBytes,
    own: figures(row.ownDataBytes, row.ownZeroBytes, row.ownPreallocatedBytes),
    trueOwn: figures(row.trueDataBytes, row.trueZeroBytes, row.truePreallocatedBytes),
    visible: isMapped ? figures(row.visibleDataBytes, row.visibleZeroBytes, row.visiblePreallocatedBytes) : null,
    shadowed: figures(row.shadowedDataBytes, row.shadowedZeroBytes, row.shadowedPreallocatedBytes),
  };
}

/** Reclaim figures of an image (null when its chain's layer figures were not computed). */
export function reclaimFigures(image: Pick<ImageRecord, 'diskUsageBytes'>, extras: ChainExtrasRow | undefined): ReclaimFigures | null {
  if (extras === undefined || extras.hasLayerFigures !== 1) return null;
  const deleteFreesBytes = image.diskUsageBytes + extras.extraDiskUsageBytes;
  const commitGrowthBytes = extras.commitGrowthBytes;
  return {
    deleteFreesBytes, commitGrowthBytes,
    commitFreesBytes: commitGrowthBytes === null ? null : deleteFreesBytes - commitGrowthBytes,
  };
}

/** The layer tables of a run, grouped by image id. */
export interface RunLayers {
  layers: Map<number, LayerRow[]>;
  extras: Map<number, ChainExtrasRow>;
}

/** Reads the run's layer rows and chain extras. */
export function readRunLayers(db: Db, runId: number): RunLayers {
  const layers = new Map<number, LayerRow[]>();
  for (const row of runLayerRows(db, runId)) {
    const list = layers.get(row.imageId);
    if (list === undefined) layers.set(row.imageId, [row]);
    else list.push(row);
  }
  const extras = new Map(runChainExtras(db, runId).map((row) => [row.imageId, row]));
  return { layers, extras };
}

/** The run's shared bases, with their overlays (by path). */
export function baseReports(db: Db, runId: number, images: readonly ImageRecord[]): BaseReport[] {
  const sharings = runBaseSharings(db, runId);
  if (sharings.length === 0) return [];
  const imageByChain = new Map(images.map((image) => [image.chainId, image.path]));
  const overlays = new Map<number, BaseReport['overlays']>();
  for (const row of runSharingOverlays(db, runId)) {
    const list = overlays.get(row.sharingId) ?? [];
    list.push({ path: imageByChain.get(row.chainId) ?? path.resolve(row.topPath), readBytes: row.readBytes, uniqueBytes: row.uniqueBytes });
    overlays.set(row.sharingId, list);
  }
  return sharings.map((row) => ({
    path: path.resolve(row.path),
    format: row.format,
    diskUsageBytes: row.diskUsageBytes,
    own: figures(row.ownDataBytes, row.ownZeroBytes, row.ownPreallocatedBytes),
    overlayCount: row.overlayCount,
    readBytes: row.readBytes,
    sharedBytes: row.sharedBytes,
    unreadBytes: row.unreadBytes,
    overlays: (overlays.get(row.sharingId) ?? []).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)),
  }));
}

/** Disk usage of one run within a group of roots, each file (dev, ino) once. */
class UsageSum {
  private readonly seen = new Set<string>();
  bytes = 0;

  add(fileKey: string, bytes: number): void {
    if (this.seen.has(fileKey)) return;
    this.seen.add(fileKey);
    this.bytes += bytes;
  }
}

/**
 * Disk usage per run of the images of a group of roots, each file (dev,
 * ino) once per run: files are numbered, and a file counts in a run unless
 * it was last counted in that same run.
 */
class UsageHistory {
  private readonly lastRun: Int32Array;
  private readonly byRun = new Map<number, number>();
  /** The run being summed (rows come run by run): its sum is kept aside until another run's row arrives. */
  private currentRun = -1;
  private currentSum = 0;

  constructor(fileCount: number) {
    this.lastRun = new Int32Array(fileCount).fill(-1);
  }

  add(runId: number, usage: ChainUsage): void {
    if (runId !== this.currentRun) {
      this.flush();
      this.currentRun = runId;
      this.currentSum = this.byRun.get(runId) ?? 0;
    }
    for (let i = 0; i < usage.files.length; i++) {
      const file = usage.files[i]!;
      if (this.lastRun[file] === runId) continue;
      this.lastRun[file] = runId;
      this.currentSum += usage.bytes[i]!;
    }
  }

  /** Growth per day over the runs (by their start, in days). */
  slope(runDays: ReadonlyMap<number, number>): number | null {
    this.flush();
    const fit = new SlopeFit();
    for (const [runId, bytes] of [...this.byRun].sort((a, b) => a[0] - b[0])) fit.add(runDays.get(runId)!, bytes);
    return fit.slope();
  }

  private flush(): void {
    if (this.currentRun >= 0) this.byRun.set(this.currentRun, this.currentSum);
  }
}

/** Growth figures of a run: per image, per root, and the file systems. */
export interface GrowthFigures {
  /** By image id; absent: fewer than 2 runs. */
  imageGrowth: Map<number, number | null>;
  /** By root path. */
  rootGrowth: Map<string, number | null>;
  filesystems: FilesystemReport[];
}

function exactDev(text: string): number | bigint {
  const value = BigInt(text);
  return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}

/**
 * Growth per image, per root and per file system over the kept complete
 * runs up to `run` (least squares against each run's start time), and the
 * file systems of `run` with their projections.
 */
export function growthFigures(db: Db, run: RunRecord, images: readonly ImageRecord[],
  options: { perImage?: boolean; perRoot?: boolean } = {}): GrowthFigures {
  const runDays = new Map(completeRunTimes(db, run.id).map((r) => [r.runId, daysOf(r.startedAt)]));
  const fsRows = runFilesystems(db, run.id);
  const groupOfRoot = new Map<number, string>();
  for (const row of fsRows) groupOfRoot.set(row.rootId, row.dev);
  const rootPaths = new Map((db.prepare('SELECT id, path FROM roots').all() as { id: number; path: string }[])
    .map((r) => [r.id, r.path]));
  const perImage = options.perImage !== false;
  const perRoot = options.perRoot !== false;
  const imageFits = new Map<number, SlopeFit>();
  // The history is the costly part (every image of every kept run): read it only when something shows it.
  const needsHistory = perImage || perRoot || fsRows.length > 0;
  const { chains, fileCount } = needsHistory ? historyChainUsage(db) : { chains: new Map<number, ChainUsage>(), fileCount: 0 };
  const rootHistories = new Map<number, UsageHistory>();
  const groupHistories = new Map<string, UsageHistory>();
  const historyOf = <K>(histories: Map<K, UsageHistory>, key: K): UsageHistory => {
    let history = histories.get(key);
    if (history === undefined) histories.set(key, history = new UsageHistory(fileCount));
    return history;
  };
  if (needsHistory) visitHistoryImages(db, run.id, (runId, imageId, rootId, chainId) => {
    const usage = chains.get(chainId);
    if (usage === undefined) return;
    if (perImage) {
      let fit = imageFits.get(imageId);
      if (fit === undefined) imageFits.set(imageId, fit = new SlopeFit());
      fit.add(runDays.get(runId)!, usage.bytes[0]!);
    }
    if (perRoot) historyOf(rootHistories, rootId).add(runId, usage);
    const group = groupOfRoot.get(rootId);
    if (group !== undefined) historyOf(groupHistories, group).add(runId, usage);
  });
  const imageGrowth = new Map<number, number | null>();
  for (const [imageId, fit] of imageFits) imageGrowth.set(imageId, fit.slope());
  const rootGrowth = new Map<string, number | null>();
  for (const [rootId, history] of rootHistories) {
    const root = rootPaths.get(rootId);
    if (root !== undefined && run.roots.includes(root)) rootGrowth.set(root, history.slope(runDays));
  }
  // The reported run's own figures (it may be an interrupted run, outside the history).
  const current = new Map<string, { virtual: number; usage: UsageSum }>();
  const groupOfPath = new Map(fsRows.map((row) => [row.root, row.dev]));
  for (const image of images) {
    const group = groupOfPath.get(image.root);
    if (group === undefined) continue;
    let entry = current.get(group);
    if (entry === undefined) current.set(group, entry = { virtual: 0, usage: new UsageSum() });
    entry.virtual += image.virtualSizeBytes ?? 0;
    entry.usage.add(image.fileKey, image.diskUsageBytes);
  }
  const extraUsage = db.prepare(`
    SELECT ro.path AS root, f.dev || ':' || f.ino AS fileKey, f.allocated_bytes AS bytes
    FROM run_images ri JOIN roots ro ON ro.id = ri.root_id
    JOIN chain_extra_files ce ON ce.chain_id = ri.chain_id AND ce.depth = 0
    JOIN files f ON f.id = ce.file_id WHERE ri.run_id = ?`).all(run.id) as { root: string; fileKey: string; bytes: number }[];
  for (const extra of extraUsage) {
    const group = groupOfPath.get(extra.root);
    if (group !== undefined) current.get(group)?.usage.add(extra.fileKey, extra.bytes);
  }
  const at = run.finishedAt ?? run.startedAt;
  const groups = new Map<string, typeof fsRows>();
  for (const row of fsRows) groups.set(row.dev, [...(groups.get(row.dev) ?? []), row]);
  const filesystems: FilesystemReport[] = [...groups].map(([dev, rows]) => {
    const first = rows[0]!;
    const entry = current.get(dev);
    const virtualSizeBytes = entry?.virtual ?? 0;
    const growth = groupHistories.get(dev)?.slope(runDays) ?? null;
    const projection = fillProjection(first.availableBytes, growth, at);
    return {
      roots: rows.map((row) => row.root),
      dev: exactDev(dev),
      capacityBytes: first.capacityBytes,
      freeBytes: first.freeBytes,
      availableBytes: first.availableBytes,
      virtualSizeBytes,
      diskUsageBytes: entry?.usage.bytes ?? 0,
      overcommitRatio: first.capacityBytes > 0 ? virtualSizeBytes / first.capacityBytes : null,
      growthPerDayBytes: growth === null ? null : Math.round(growth),
      fillsAt: projection.fillsAt,
      daysToFull: projection.daysToFull,
    };
  }).sort((a, b) => (a.roots[0]! < b.roots[0]! ? -1 : 1));
  return { imageGrowth, rootGrowth, filesystems };
}

/** What the orphan search needs to know besides the run's images. */
export interface OrphanOptions {
  /** Files unchanged for less than this are not orphans (check.orphanMinAge). */
  minAgeMs: number;
}

/** True when the run's scan had reference sources: it recorded references, or its config names sources. */
function hasReferenceSources(db: Db, runId: number, referenceCount: number): boolean {
  if (referenceCount > 0) return true;
  const config = runConfig(db, runId) as { references?: { libvirtDomainDirs?: unknown; pathLists?: unknown } } | null;
  const references = config?.references;
  const nonEmpty = (value: unknown): boolean => Array.isArray(value) && value.length > 0;
  return references !== undefined && (nonEmpty(references.libvirtDomainDirs) || nonEmpty(references.pathLists));
}

/** The orphans of a run and the bases whose overlays vanished too recently to be orphans. */
export interface OrphanSearch {
  orphans: Orphan[];
  /** Bases no chain reads any more that are younger than the minimum age, or named by a reference. */
  unreadBases: { path: string; lastReadRunId: number }[];
  /** Whether reference sources were configured (unreferenced images are orphans only then). */
  hasReferences: boolean;
}

/**
 * Image files of the run nothing uses, unchanged for at least
 * `options.minAgeMs` before the run started:
 * - kind `base`: a file an earlier kept run's chains read as a backing layer
 *   that no chain of this run reads, still an image of this run;
 * - kind `image`: when reference sources are configured, an image no
 *   reference names that is no backing layer of any image of the run.
 * A file a reference names is never an orphan.
 */
export function findOrphans(db: Db, run: RunRecord, images: readonly ImageRecord[],
  extras: ReadonlyMap<number, ChainExtrasRow>, options: OrphanOptions): OrphanSearch {
  const usedPaths = new Set<string>();
  const usedKeys = new Set<string>();
  for (const image of images) {
    for (const layer of image.layers) {
      if (layer.depth === 0) continue;
      usedPaths.add(path.resolve(layer.path));
      usedKeys.add(layer.fileKey);
    }
  }
  const lastUse = new Map<string, number>();
  for (const use of backingUse(db, run.id)) {
    const key = path.resolve(use.path);
    lastUse.set(key, Math.max(lastUse.get(key) ?? 0, use.lastRunId));
  }
  const references = runReferences(db, run.id);
  const hasReferences = hasReferenceSources(db, run.id, references.length);
  const referenced = new Set(references.map((ref) => path.resolve(ref)));
  const startMs = Date.parse(run.startedAt);
  const orphans: Orphan[] = [];
  const unreadBases: OrphanSearch['unreadBases'] = [];
  for (const image of images) {
    if (usedPaths.has(image.path) || usedKeys.has(image.fileKey)) continue;
    const mtimeMs = extras.get(image.imageId)?.mtimeMs;
    const ageMs = mtimeMs === undefined ? 0 : startMs - mtimeMs;
    const isOld = mtimeMs !== undefined && ageMs >= options.minAgeMs;
    const isReferenced = referenced.has(image.path);
    const lastReadRunId = lastUse.get(image.path);
    const orphan = { path: image.path, root: image.root, diskUsageBytes: image.diskUsageBytes, ageDays: Math.floor(ageMs / DAY_MS) };
    if (lastReadRunId !== undefined) {
      if (isOld && !isReferenced) orphans.push({ kind: 'base', ...orphan, lastReadRunId });
      else unreadBases.push({ path: image.path, lastReadRunId });
    } else if (hasReferences && !isReferenced && isOld) {
      orphans.push({ kind: 'image', ...orphan, lastReadRunId: null });
    }
  }
  return { orphans, unreadBases, hasReferences };
}

function roundOrNull(value: number | null): number | null {
  return value === null ? null : Math.round(value);
}

/** Per-root figures: growth, shadowed bytes over the root's chains, truly preallocated bytes, orphan bytes, shared bases. */
export function rootLayerFigures(roots: readonly string[], images: readonly ImageRecord[], layers: RunLayers,
  growth: ReadonlyMap<string, number | null>, orphans: readonly Orphan[], bases: readonly BaseReport[]): RootLayerFigures[] {
  const byRoot = new Map<string, RootLayerFigures & { seen: Set<string> }>();
  for (const root of roots) {
    byRoot.set(root, {
      root, growthPerDayBytes: roundOrNull(growth.get(root) ?? null), shadowed: { dataBytes: 0, zeroBytes: 0, preallocatedBytes: 0 },
      truePreallocatedBytes: 0, orphanBytes: 0, bases: { count: 0, sharedBytes: 0, readByOneBytes: 0, unreadBytes: 0 },
      seen: new Set(),
    });
  }
  for (const image of images) {
    const entry = byRoot.get(image.root);
    if (entry === undefined) continue;
    for (const row of layers.layers.get(image.imageId) ?? []) {
      entry.shadowed.dataBytes += row.shadowedDataBytes ?? 0;
      entry.shadowed.zeroBytes += row.shadowedZeroBytes ?? 0;
      entry.shadowed.preallocatedBytes += row.shadowedPreallocatedBytes ?? 0;
      if (row.depth === 0 && row.truePreallocatedBytes !== null && !entry.seen.has(row.fileKey)) {
        entry.seen.add(row.fileKey);
        entry.truePreallocatedBytes += row.truePreallocatedBytes;
      }
    }
  }
  for (const orphan of orphans) {
    const entry = byRoot.get(orphan.root);
    if (entry !== undefined) entry.orphanBytes += orphan.diskUsageBytes;
  }
  for (const base of bases) {
    const root = roots.find((r) => base.path.startsWith(`${r}/`));
    const entry = root === undefined ? undefined : byRoot.get(root);
    if (entry === undefined) continue;
    entry.bases.count++;
    entry.bases.sharedBytes += base.sharedBytes;
    entry.bases.readByOneBytes += base.readBytes - base.sharedBytes;
    entry.bases.unreadBytes += base.unreadBytes;
  }
  return [...byRoot.values()].map(({ seen: _seen, ...figures }) => figures);
}
