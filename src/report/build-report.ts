/**
 * Building the model of `imgaudit report` from the store: the run, its
 * totals, every image with its per-depth figures, the report definitions
 * asked for, and what Prometheus output needs.
 */
import type { Db } from '../store/db.js';
import { runDepthTotals, runFindings, runImages, runRootTotals } from '../store/report-images.js';
import { runsOverview } from '../store/report-runs.js';
import type { ReportDefinition } from './definitions.js';
import { imageFigures } from './image-figures.js';
import type { FindingCount, ReportModel } from './model.js';
import { sectionTable } from './sections.js';
import { previousCompleteRun, selectRun } from './select-run.js';

/** What to report. */
export interface ReportRequest {
  run: number | 'latest';
  /** The report definitions to run. */
  sections: readonly ReportDefinition[];
  /** `--top N`: rows of the top-N definitions. */
  limit: number;
}

const SEVERITY_ORDER = { error: 0, warning: 1, info: 2 } as const;

/** Builds the report model. Throws RunSelectionError, DefinitionError or UsageError (SQL). */
export function buildReport(db: Db, request: ReportRequest): ReportModel {
  const run = selectRun(db, request.run);
  const previousRunId = previousCompleteRun(db, run)?.id ?? null;
  const params = { runId: run.id, previousRunId, limit: request.limit };
  const counts = new Map<string, FindingCount>();
  for (const finding of runFindings(db, run.id)) {
    const key = `${finding.severity} ${finding.code}`;
    const entry = counts.get(key) ?? { code: finding.code, severity: finding.severity, count: 0 };
    entry.count++;
    counts.set(key, entry);
  }
  const overview = runsOverview(db);
  return {
    run,
    previousRunId,
    totals: {
      virtualSizeBytes: run.virtualSizeBytes,
      diskUsageBytes: run.diskUsageBytes,
      unallocatedBytes: run.unallocatedBytes,
      byDepth: runDepthTotals(db, run.id),
    },
    images: runImages(db, run.id).map(imageFigures),
    sections: request.sections.map((definition) => sectionTable(db, definition, params)),
    roots: runRootTotals(db, run.id),
    findingCounts: [...counts.values()].sort((a, b) =>
      SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || a.code.localeCompare(b.code)),
    lastSuccessAt: overview.lastSuccessAt,
    newestRun: overview.newest ?? { id: run.id, status: run.status },
  };
}
