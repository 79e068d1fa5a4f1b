/**
 * `imgaudit runs` as a Document: one row per run, oldest first. CSV has
 * every column; the page leaves out the finish time, and the roots when
 * every run audited the same ones (they are then in the header).
 */
import type { RunsModel } from '../model.js';
import { commonDirectory } from '../render/cells.js';
import { type Cell, type Column, type Document, type Table, columnOf } from '../table.js';

const KEYS = [
  'id', 'started_at', 'finished_at', 'status', 'image_count', 'error_count', 'new_count', 'changed_count',
  'virtual_size_bytes', 'disk_usage_bytes', 'data_bytes', 'zero_bytes', 'preallocated_bytes', 'unallocated_bytes',
  'error_finding_count', 'warning_finding_count', 'info_finding_count', 'roots',
];
const LABELS: Readonly<Record<string, string>> = {
  new_count: 'new', changed_count: 'changed',
};

function column(key: string): Column {
  return columnOf(key, { ...(LABELS[key] === undefined ? {} : { label: LABELS[key] }), ...(key === 'roots' ? { kind: 'paths' as const } : {}) });
}

/** The runs document. */
export function runsDocument(model: RunsModel): Document {
  const rows: Cell[][] = model.runs.map((run) => [
    run.id, run.startedAt, run.finishedAt, run.status, run.imageCount, run.errorCount, run.newCount, run.changedCount,
    run.virtualSizeBytes, run.diskUsageBytes, run.dataBytes, run.zeroBytes, run.preallocatedBytes, run.unallocatedBytes,
    run.findings.error, run.findings.warning, run.findings.info, run.roots.join(' '),
  ]);
  const full: Table = {
    name: 'runs',
    title: `Runs (${model.runs.length})`,
    about: 'Oldest first: images audited (errors: not mapped; new and changed since the run before), sizes over all chains, '
      + 'and findings by severity as imgaudit check lists them.',
    columns: KEYS.map(column),
    rows,
    textColumnKeys: ['id', 'started_at', 'status', 'image_count', 'error_count', 'virtual_size_bytes',
      'disk_usage_bytes', 'data_bytes'],
  };
  const rootSets = new Set(model.runs.map((run) => run.roots.join(' ')));
  const isSameRoots = rootSets.size === 1;
  const shown = KEYS.filter((key) => key !== 'finished_at' && !(key === 'roots' && isSameRoots));
  const table: Table = {
    ...full,
    columns: shown.map(column),
    rows: rows.map((row) => shown.map((key) => row[KEYS.indexOf(key)]!)),
  };
  return {
    title: 'imgaudit runs',
    meta: isSameRoots ? [{ label: 'roots', value: model.runs[0]!.roots.join(', ') }] : [],
    tables: [table],
    csvTable: full,
    pathBase: isSameRoots ? null : commonDirectory(model.runs.flatMap((run) => run.roots)),
  };
}
