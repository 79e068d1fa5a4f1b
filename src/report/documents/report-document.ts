/** `imgaudit report` as a Document: the run, its totals and the report definitions rendered. */
import type { ReportModel, RunRecord } from '../model.js';
import { commonDirectory } from '../render/cells.js';
import { type Column, type Document, type Table } from '../table.js';
import { formatTime, percentOf } from '../units.js';

const TOTAL_COLUMNS: Column[] = [
  { key: 'figure', label: 'figure', kind: 'text' },
  { key: 'size_bytes', label: 'size', kind: 'bytes' },
  { key: 'share_pct', label: 'share', kind: 'percent' },
];

/** The header lines every document about one run starts with. */
export function runMeta(run: RunRecord): { label: string; value: string }[] {
  const meta = [
    { label: 'run', value: `#${run.id} (${run.status})` },
    { label: 'started', value: formatTime(run.startedAt) },
    { label: 'finished', value: run.finishedAt === null ? '-' : formatTime(run.finishedAt) },
    { label: 'roots', value: run.roots.join(', ') },
    { label: 'images', value: `${run.imageCount}${run.errorCount > 0 ? ` (${run.errorCount} could not be mapped)` : ''}` },
  ];
  return meta;
}

/** The totals table: sizes per category, shares of the mapped images' virtual size. */
export function totalsTable(model: ReportModel): Table {
  const sums = model.totals.byDepth.reduce((s, d) => ({
    data: s.data + d.dataBytes, zero: s.zero + d.zeroBytes, preallocated: s.preallocated + d.preallocatedBytes,
  }), { data: 0, zero: 0, preallocated: 0 });
  const mapped = sums.data + sums.zero + sums.preallocated + model.totals.unallocatedBytes;
  return {
    name: 'totals',
    title: 'Totals',
    about: 'Bytes per category over all chains (a shared base counts once per chain that reads it); '
      + 'shares are of the mapped images\' virtual size. Disk usage counts each host file once.',
    columns: TOTAL_COLUMNS,
    rows: [
      ['virtual size', model.totals.virtualSizeBytes, null],
      ['data', sums.data, percentOf(sums.data, mapped)],
      ['zero', sums.zero, percentOf(sums.zero, mapped)],
      ['preallocated', sums.preallocated, percentOf(sums.preallocated, mapped)],
      ['unallocated', model.totals.unallocatedBytes, percentOf(model.totals.unallocatedBytes, mapped)],
      ['disk usage', model.totals.diskUsageBytes, null],
    ],
  };
}

/**
 * The report document. With one section (`--by`, `--report`) it holds that
 * table alone; the overview starts with the totals.
 */
export function reportDocument(model: ReportModel, isOverview: boolean): Document {
  const meta = runMeta(model.run);
  if (model.previousRunId !== null) meta.push({ label: 'growth since', value: `run #${model.previousRunId}` });
  const tables = isOverview ? [totalsTable(model), ...model.sections] : model.sections;
  return {
    title: `imgaudit report: run #${model.run.id}`,
    meta,
    tables,
    csvTable: model.sections[0] ?? totalsTable(model),
    pathBase: commonDirectory(model.run.roots),
  };
}
