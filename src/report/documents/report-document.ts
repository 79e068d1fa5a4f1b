/** `imgaudit report` as a Document: the run, its totals and the report definitions rendered. */
import type { ReportModel, RunRecord } from '../model.js';
import { commonDirectory } from '../render/cells.js';
import { type Column, type Document, type Table, columnOf } from '../table.js';
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

const FILESYSTEM_KEYS = ['roots', 'capacity_bytes', 'available_bytes', 'virtual_size_bytes', 'disk_usage_bytes',
  'overcommit_ratio', 'growth_per_day_bytes', 'days_to_full', 'fills_at'];
const FILESYSTEM_LABELS: Readonly<Record<string, string>> = {
  overcommit_ratio: 'overcommit', growth_per_day_bytes: 'growth/day', days_to_full: 'days left', fills_at: 'full on',
};

/** The file systems of the roots: capacity, what the images promise and use, growth and when it fills. */
export function filesystemsTable(model: ReportModel): Table {
  // Paths relative like the other paths; several roots on one file system are listed with commas.
  const isOneRoot = model.filesystems.every((fs) => fs.roots.length === 1);
  return {
    name: 'filesystems',
    title: 'File systems',
    about: 'The file systems holding the roots, as statfs saw them at the end of the scan: capacity, bytes unprivileged '
      + 'writers can still use, the virtual sizes of the images on them (overcommit: over the capacity), their disk usage, '
      + 'its growth per day (least squares over the kept complete runs) and the day available space runs out at that rate.',
    columns: FILESYSTEM_KEYS.map((key) => columnOf(key, {
      ...(FILESYSTEM_LABELS[key] === undefined ? {} : { label: FILESYSTEM_LABELS[key] }),
      ...(key === 'roots' ? { kind: isOneRoot ? 'path' as const : 'paths' as const } : {}),
    })),
    rows: model.filesystems.map((fs) => [fs.roots.join(' '), fs.capacityBytes, fs.availableBytes, fs.virtualSizeBytes,
      fs.diskUsageBytes, fs.overcommitRatio, fs.growthPerDayBytes, fs.daysToFull, fs.fillsAt]),
    chart: { seriesKeys: ['disk_usage_bytes', 'available_bytes'], labelKey: 'roots' },
    // Text and markdown: what fits beside the roots (HTML, JSON and Prometheus have every figure).
    textColumnKeys: ['roots', 'capacity_bytes', 'available_bytes', 'overcommit_ratio', 'growth_per_day_bytes', 'days_to_full', 'fills_at'],
  };
}

/**
 * The report document. With one section (`--by`, `--report`) it holds that
 * table alone; the overview starts with the totals.
 */
export function reportDocument(model: ReportModel, isOverview: boolean): Document {
  const meta = runMeta(model.run);
  if (model.previousRunId !== null) meta.push({ label: 'growth since', value: `run #${model.previousRunId}` });
  const estate = model.filesystems.length > 0 ? [filesystemsTable(model)] : [];
  const tables = isOverview ? [totalsTable(model), ...estate, ...model.sections] : model.sections;
  return {
    title: `imgaudit report: run #${model.run.id}`,
    meta,
    tables,
    csvTable: model.sections[0] ?? totalsTable(model),
    pathBase: commonDirectory(model.run.roots),
  };
}
