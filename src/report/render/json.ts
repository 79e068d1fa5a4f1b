/**
 * JSON output: the contracts of SPEC §2.3 (report) and §2.4 (diff), and
 * those of check, runs and single report definitions. Keys are camelCase,
 * bytes are integers; integers beyond 2^53 (only possible from SQL) are
 * written exactly.
 */
import type {
  BaseReport, CategoryFigures, CheckModel, DepthFigures, DiffModel, FilesystemReport, ImageFigures, LayerReport,
  ReportImage, ReportModel, RunRecord, RunsModel,
} from '../model.js';
import { type Table, camelCase } from '../table.js';

const BIGINT_MARK = '\u0000bigint:';

/**
 * JSON text (2-space indented, final newline); bigints as exact integers.
 * Without bigints (the rule: they come only from SQL), JSON.stringify runs
 * without a replacer, several times faster on large reports.
 */
export function toJson(value: unknown): string {
  try {
    return `${JSON.stringify(value, null, 2)}\n`;
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
  }
  const text = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `${BIGINT_MARK}${v}` : v), 2);
  return `${text.replace(/"\\u0000bigint:(-?\d+)"/g, '$1')}\n`;
}

/** The `run` object of the report contract. */
export function runJson(run: RunRecord): object {
  return {
    id: run.id, startedAt: run.startedAt, finishedAt: run.finishedAt, status: run.status, roots: run.roots,
    imageCount: run.imageCount, errorCount: run.errorCount,
  };
}

function depthJson(figures: DepthFigures): object {
  return { depth: figures.depth, data: figures.dataBytes, zero: figures.zeroBytes, preallocated: figures.preallocatedBytes };
}

/** An image object of the report contract. */
export function imageJson(image: ImageFigures): object {
  return {
    path: image.path, format: image.format, virtualSize: image.virtualSizeBytes, diskUsage: image.diskUsageBytes,
    backing: image.backing, chainLength: image.chainLength, byDepth: image.byDepth.map(depthJson),
    unallocated: image.unallocatedBytes, error: image.error === null ? null : { code: image.error.code, message: image.error.message },
    inUse: image.inUse,
  };
}

function categoriesJson(figures: CategoryFigures | null): object | null {
  return figures === null ? null : { data: figures.dataBytes, zero: figures.zeroBytes, preallocated: figures.preallocatedBytes };
}

function layerJson(layer: LayerReport): object {
  return {
    depth: layer.depth, path: layer.path, format: layer.format, diskUsage: layer.diskUsageBytes,
    own: categoriesJson(layer.own), trueOwn: categoriesJson(layer.trueOwn), visible: categoriesJson(layer.visible),
    shadowed: categoriesJson(layer.shadowed),
  };
}

/** An image object of the report: the SPEC §2.3 keys, then its layers, reclaim and growth figures. */
export function reportImageJson(image: ReportImage): object {
  return {
    ...imageJson(image),
    chain: image.chain.map(layerJson),
    reclaim: image.reclaim === null ? null : {
      deleteFrees: image.reclaim.deleteFreesBytes, commitGrowth: image.reclaim.commitGrowthBytes,
      commitFrees: image.reclaim.commitFreesBytes,
      commitGrowthMin: image.reclaim.commitGrowthMinBytes, commitGrowthMax: image.reclaim.commitGrowthMaxBytes,
      commitDataGrowth: image.reclaim.commitDataGrowthBytes,
      commitEndGrowthMin: image.reclaim.commitEndGrowthMinBytes, commitEndGrowthMax: image.reclaim.commitEndGrowthMaxBytes,
    },
    growthPerDay: image.growthPerDayBytes,
  };
}

/** A shared base of the report. */
export function baseJson(base: BaseReport): object {
  return {
    path: base.path, format: base.format, diskUsage: base.diskUsageBytes, own: categoriesJson(base.own),
    overlayCount: base.overlayCount, read: base.readBytes, shared: base.sharedBytes, unread: base.unreadBytes,
    overlays: base.overlays.map((o) => ({ path: o.path, read: o.readBytes, unique: o.uniqueBytes })),
  };
}

/** A file system of the report. */
export function filesystemJson(fs: FilesystemReport): object {
  return {
    roots: fs.roots, dev: fs.dev, capacity: fs.capacityBytes, free: fs.freeBytes, available: fs.availableBytes,
    virtualSize: fs.virtualSizeBytes, diskUsage: fs.diskUsageBytes, overcommitRatio: fs.overcommitRatio,
    growthPerDay: fs.growthPerDayBytes, fillsAt: fs.fillsAt, daysToFull: fs.daysToFull,
  };
}

/** `imgaudit report --format json` (SPEC §2.3, plus bases, file systems and per-layer figures). */
export function reportJson(model: ReportModel): string {
  return toJson({
    run: runJson(model.run),
    totals: {
      virtualSize: model.totals.virtualSizeBytes, diskUsage: model.totals.diskUsageBytes,
      unallocated: model.totals.unallocatedBytes, byDepth: model.totals.byDepth.map(depthJson),
    },
    images: model.images.map(reportImageJson),
    bases: model.bases.map(baseJson),
    filesystems: model.filesystems.map(filesystemJson),
  });
}

/** One report definition (`--by`, `--report`) as JSON: its columns and rows, keys in camelCase. */
export function tableJson(model: ReportModel, table: Table): string {
  const keys = table.columns.map((column) => camelCase(column.key));
  return toJson({
    report: table.name,
    title: table.title,
    run: runJson(model.run),
    columns: table.columns.map((column, i) => ({ name: keys[i], type: column.kind })),
    rows: table.rows.map((row) => Object.fromEntries(row.map((cell, i) => [keys[i]!, cell]))),
  });
}

/** `imgaudit diff --format json` (SPEC §2.4). */
export function diffJson(model: DiffModel): string {
  return toJson({
    from: runJson(model.from),
    to: runJson(model.to),
    added: model.added.map(imageJson),
    removed: model.removed.map(imageJson),
    changed: model.changed.map((change) => ({
      path: change.path,
      virtualSize: { from: change.virtualSize.from, to: change.virtualSize.to },
      diskUsage: { from: change.diskUsage.from, to: change.diskUsage.to },
      byDepth: change.byDepth.map(depthJson),
      backingChanged: change.backingChanged,
    })),
    totals: {
      byDepth: model.totals.byDepth.map(depthJson),
      diskUsage: model.totals.diskUsageBytes,
      virtualSize: model.totals.virtualSizeBytes,
    },
  });
}

/** `imgaudit check --format json`. */
export function checkJson(model: CheckModel): string {
  return toJson({
    run: runJson(model.run),
    failOn: model.failOn,
    counts: model.counts,
    failing: model.failingCount,
    findings: model.findings.map((f) => ({ code: f.code, severity: f.severity, path: f.path, depth: f.depth, message: f.message })),
  });
}

/** `imgaudit runs --format json`. */
export function runsJson(model: RunsModel): string {
  return toJson({
    runs: model.runs.map((run) => ({
      ...runJson(run),
      newCount: run.newCount, changedCount: run.changedCount,
      virtualSize: run.virtualSizeBytes, diskUsage: run.diskUsageBytes, data: run.dataBytes, zero: run.zeroBytes,
      preallocated: run.preallocatedBytes, unallocated: run.unallocatedBytes, findings: run.findings,
    })),
  });
}

/** `imgaudit query --format json`: an array of row objects keyed by the query's column names. */
export function queryJson(table: Table): string {
  return toJson(table.rows.map((row) => Object.fromEntries(row.map((cell, i) => [table.columns[i]!.key, cell]))));
}
