/**
 * Building the model of `imgaudit report` from the store: the run, its
 * totals, every image with its per-depth figures, the report definitions
 * asked for, and what Prometheus output needs.
 */
import { DEFAULT_CONFIG } from '../config/config.js';
import { durationMs } from '../config/parsers.js';
import type { Db } from '../store/db.js';
import { runDepthTotals, runFindings, runImages, runRootTotals } from '../store/report-images.js';
import { runsOverview } from '../store/report-runs.js';
import type { ReportDefinition } from './definitions.js';
import { baseReports } from './base-reports.js';
import { growthFigures } from './growth-figures.js';
import { derivedFindings } from './build-check.js';
import { imageFigures } from './image-figures.js';
import { type RunLayers, layerReport, readRunLayers, reclaimFigures } from './layer-reports.js';
import type { FindingCount, ReportImage, ReportModel } from './model.js';
import { backingLayerTest, findOrphans } from './orphans.js';
import { rootLayerFigures } from './root-layer-figures.js';
import { sectionTable } from './sections.js';
import { previousCompleteRun, selectRun } from './select-run.js';

/** What to report. */
export interface ReportRequest {
  run: number | 'latest';
  /** The report definitions to run. */
  sections: readonly ReportDefinition[];
  /** `--top N`: rows of the top-N definitions. */
  limit: number;
  /** Orphans unchanged for less than this are not counted (config `check.orphanMinAge`; default 7d). */
  orphanMinAgeMs?: number;
  /** The estate figures to compute (default: all); the others are left empty. */
  parts?: Partial<ReportParts>;
}

/** The costlier parts of the report model, each computed only for the outputs that show it. */
export interface ReportParts {
  /** Each image's `chain` and `reclaim`, and `bases` (JSON; Prometheus sums the bases per root). */
  layers: boolean;
  /** Each image's `growthPerDay` (JSON). */
  imageGrowth: boolean;
  /** `filesystems` with their growth and projection, and the roots' growth (overview, JSON, Prometheus). */
  filesystems: boolean;
  /** `rootFigures`: shadowed, truly preallocated and orphan bytes per root (Prometheus). */
  rootFigures: boolean;
}

/** The parts each output shows: `format` and whether it is the overview. */
export function reportParts(format: string, isOverview: boolean): ReportParts {
  if (!isOverview) return { layers: false, imageGrowth: false, filesystems: false, rootFigures: false };
  return {
    layers: format === 'json', imageGrowth: format === 'json',
    filesystems: format !== 'csv', rootFigures: format === 'prometheus',
  };
}

function nullableRound(value: number | null): number | null {
  return value === null ? null : Math.round(value);
}

const SEVERITY_ORDER = { error: 0, warning: 1, info: 2 } as const;

function countFinding(counts: Map<string, FindingCount>, finding: Pick<FindingCount, 'code' | 'severity'>): void {
  const key = `${finding.severity} ${finding.code}`;
  const entry = counts.get(key) ?? { code: finding.code, severity: finding.severity, count: 0 };
  entry.count++;
  counts.set(key, entry);
}

/** Builds the report model. Throws RunSelectionError, DefinitionError or UsageError (SQL). */
export function buildReport(db: Db, request: ReportRequest): ReportModel {
  const run = selectRun(db, request.run);
  const previousRunId = previousCompleteRun(db, run)?.id ?? null;
  const params = { runId: run.id, previousRunId, limit: request.limit };
  const counts = new Map<string, FindingCount>();
  for (const finding of runFindings(db, run.id)) countFinding(counts, finding);
  const overview = runsOverview(db);
  const parts: ReportParts = { layers: true, imageGrowth: true, filesystems: true, rootFigures: true, ...request.parts };
  const records = runImages(db, run.id);
  const layers: RunLayers = parts.layers || parts.rootFigures ? readRunLayers(db, run.id) : { layers: new Map(), extras: new Map() };
  const growth = parts.filesystems || parts.imageGrowth || parts.rootFigures
    ? growthFigures(db, run, records, { perImage: parts.imageGrowth, perRoot: parts.rootFigures })
    : { imageGrowth: new Map<number, number | null>(), rootGrowth: new Map<string, number | null>(), filesystems: [] };
  const orphanSearch = parts.rootFigures
    ? findOrphans(db, run, records, layers.extras,
      { minAgeMs: request.orphanMinAgeMs ?? durationMs(DEFAULT_CONFIG.check.orphanMinAge)! })
    : null;
  const orphans = orphanSearch?.orphans ?? [];
  if (orphanSearch !== null) {
    // Prometheus counts findings as check lists them (with the default thresholds), not only those the scan recorded.
    const defaults = DEFAULT_CONFIG.check;
    const derived = derivedFindings(db, run, { images: records, layers, orphans: orphanSearch, filesystems: growth.filesystems }, {
      deepChainLayers: defaults.deepChainLayers, basePatterns: [], fillWarningDays: defaults.fillWarningDays,
      overcommitRatio: defaults.overcommitRatio, snapshotMaxAgeMs: durationMs(defaults.snapshotMaxAge)!,
    });
    for (const finding of derived) countFinding(counts, finding);
  }
  const bases = parts.layers || parts.rootFigures ? baseReports(db, run.id, records) : [];
  // Deleting or committing an image other chains read breaks them: reclaim figures are for leaves only.
  const isBackingLayer = backingLayerTest(records);
  const images: ReportImage[] = records.map((record) => ({
    ...imageFigures(record),
    chain: (layers.layers.get(record.imageId) ?? []).map((row) => layerReport(row, record.errorCode === null)),
    reclaim: isBackingLayer(record) ? null : reclaimFigures(record, layers.extras.get(record.imageId)),
    growthPerDayBytes: nullableRound(growth.imageGrowth.get(record.imageId) ?? null),
  }));
  return {
    run,
    previousRunId,
    totals: {
      virtualSizeBytes: run.virtualSizeBytes,
      diskUsageBytes: run.diskUsageBytes,
      unallocatedBytes: run.unallocatedBytes,
      byDepth: runDepthTotals(db, run.id),
    },
    images,
    bases,
    filesystems: growth.filesystems,
    rootFigures: parts.rootFigures ? rootLayerFigures(run.roots, records, layers, growth.rootGrowth, orphans, bases) : [],
    sections: request.sections.map((definition) => sectionTable(db, definition, params)),
    roots: runRootTotals(db, run.id),
    findingCounts: [...counts.values()].sort((a, b) =>
      SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || a.code.localeCompare(b.code)),
    lastSuccessAt: overview.lastSuccessAt,
    newestRun: overview.newest ?? { id: run.id, status: run.status },
  };
}
