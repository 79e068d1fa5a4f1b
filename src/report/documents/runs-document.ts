/** `imgaudit runs` as a Document: one row per run, oldest first. */
import type { RunsModel } from '../model.js';
import { type Cell, type Document, type Table, columnOf } from '../table.js';

const KEYS = [
  'id', 'started_at', 'finished_at', 'status', 'image_count', 'error_count', 'new_count', 'changed_count',
  'virtual_size_bytes', 'disk_usage_bytes', 'data_bytes', 'zero_bytes', 'preallocated_bytes', 'unallocated_bytes',
  'error_finding_count', 'warning_finding_count', 'info_finding_count', 'roots',
];

/** The runs document. */
export function runsDocument(model: RunsModel): Document {
  const rows: Cell[][] = model.runs.map((run) => [
    run.id, run.startedAt, run.finishedAt, run.status, run.imageCount, run.errorCount, run.newCount, run.changedCount,
    run.virtualSizeBytes, run.diskUsageBytes, run.dataBytes, run.zeroBytes, run.preallocatedBytes, run.unallocatedBytes,
    run.findings.error, run.findings.warning, run.findings.info, run.roots.join(' '),
  ]);
  const table: Table = {
    name: 'runs',
    title: '',
    columns: KEYS.map((key) => columnOf(key, key === 'roots' ? { kind: 'text' } : {})),
    rows,
    textColumnKeys: ['id', 'started_at', 'status', 'image_count', 'error_count', 'virtual_size_bytes',
      'disk_usage_bytes', 'data_bytes'],
  };
  return { title: '', meta: [], tables: [table], csvTable: table, pathBase: null };
}
