/**
 * Disk usage growth over the kept complete runs, per image, per root and
 * per file system, and the file systems of a run with their fill
 * projection and overcommit.
 */
import type { Db } from '../store/db.js';
import type { ImageRecord } from '../store/report-images.js';
import {
  chainTopUsage, completeRunTimes, rootUsageHistory, rootsUsageHistory, runFilesystems, visitHistoryImages,
} from '../store/report-layers.js';
import type { RunRecord } from '../store/report-runs.js';
import { SlopeFit, daysOf, fillProjection } from './growth.js';
import type { FilesystemReport } from './model.js';

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

/** Growth per day of per-run disk usage (by run id) over the runs' start times (in days). */
function usageSlope(byRun: ReadonlyMap<number, number> | undefined, runDays: ReadonlyMap<number, number>): number | null {
  if (byRun === undefined) return null;
  const fit = new SlopeFit();
  for (const [runId, bytes] of [...byRun].sort((a, b) => a[0] - b[0])) fit.add(runDays.get(runId)!, bytes);
  return fit.slope();
}

/** Growth figures of a run: per image, per root, and the file systems. */
export interface GrowthFigures {
  /** By image id; absent: fewer than 2 runs, or runs less than a day apart. */
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
  const rootPaths = new Map((db.prepare('SELECT id, path FROM roots').all() as { id: number; path: string }[])
    .map((r) => [r.id, r.path]));
  const perImage = options.perImage !== false;
  const perRoot = options.perRoot !== false;
  // Per root and per file system, the disk usage of each kept complete run is materialised (run_root_usage):
  // one row per run and root. Only a file system holding several roots sums its files across them, each once.
  const rootUsage = new Map<number, Map<number, number>>();
  if (perRoot || fsRows.length > 0) {
    for (const row of rootUsageHistory(db, run.id)) {
      let byRun = rootUsage.get(row.rootId);
      if (byRun === undefined) rootUsage.set(row.rootId, byRun = new Map());
      byRun.set(row.runId, row.bytes);
    }
  }
  const groupUsage = new Map<string, Map<number, number>>();
  const rootsOfGroup = new Map<string, number[]>();
  for (const row of fsRows) rootsOfGroup.set(row.dev, [...(rootsOfGroup.get(row.dev) ?? []), row.rootId]);
  for (const [dev, rootIds] of rootsOfGroup) {
    const byRun = rootIds.length === 1 ? rootUsage.get(rootIds[0]!)
      : new Map(rootsUsageHistory(db, run.id, rootIds).map((row) => [row.runId, row.bytes]));
    if (byRun !== undefined && byRun.size > 0) groupUsage.set(dev, byRun);
  }
  // Per image, the history is every image of every kept run: read only when something shows it (JSON),
  // and fitted only for the images of the run reported (no other image's growth is shown). Both lists
  // are walked by ascending image id, side by side: no lookup per image and run.
  const imageGrowth = new Map<number, number | null>();
  if (perImage) {
    const topUsage = chainTopUsage(db);
    const fits = images.map((image) => ({ imageId: image.imageId, fit: new SlopeFit(), points: 0 }))
      .sort((a, b) => a.imageId - b.imageId);
    visitHistoryImages(db, run.id, (runId, imageIds, chainIds) => {
      const days = runDays.get(runId)!;
      let at = 0;
      for (let i = 0; i < imageIds.length && at < fits.length; i++) {
        const imageId = imageIds[i]!;
        while (at < fits.length && fits[at]!.imageId < imageId) at++;
        const entry = fits[at];
        if (entry === undefined || entry.imageId !== imageId) continue;
        const bytes = topUsage.get(chainIds[i]!);
        if (bytes === undefined) continue;
        entry.fit.add(days, bytes);
        entry.points++;
      }
    });
    for (const entry of fits) if (entry.points > 0) imageGrowth.set(entry.imageId, entry.fit.slope());
  }
  const rootGrowth = new Map<string, number | null>();
  if (perRoot) {
    for (const [rootId, byRun] of rootUsage) {
      const root = rootPaths.get(rootId);
      if (root !== undefined && run.roots.includes(root)) rootGrowth.set(root, usageSlope(byRun, runDays));
    }
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
    const growth = usageSlope(groupUsage.get(dev), runDays);
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
