/** `imgaudit diff` as a Document: totals deltas per depth, then added, removed and changed images. */
import type { DiffModel, ImageChange, ImageFigures } from '../model.js';
import { commonDirectory } from '../render/cells.js';
import { type Cell, type Column, type Document, type Table, columnOf } from '../table.js';
import { sumDepths } from '../image-figures.js';
import { formatTime } from '../units.js';
import { runMeta } from './report-document.js';

const IMAGE_KEYS = ['path', 'format', 'layers', 'virtual_size_bytes', 'disk_usage_bytes', 'data_bytes', 'error_code'];

function imageTable(name: string, title: string, images: readonly ImageFigures[]): Table {
  return {
    name, title,
    columns: IMAGE_KEYS.map((key) => columnOf(key, { isDetail: key === 'error_code' })),
    rows: images.map((image) => [image.path, image.format, image.chainLength, image.virtualSizeBytes,
      image.diskUsageBytes, image.error === null ? sumDepths(image.byDepth).dataBytes : null, image.error?.code ?? null]),
  };
}

function changeNote(change: ImageChange): string | null {
  const notes: string[] = [];
  if (change.backingChanged) notes.push(`backing: ${change.from.backing ?? 'none'} -> ${change.to.backing ?? 'none'}`);
  const fromError = change.from.error?.code ?? null;
  const toError = change.to.error?.code ?? null;
  if (fromError !== toError) notes.push(`error: ${fromError ?? 'none'} -> ${toError ?? 'none'}`);
  if (change.from.format !== change.to.format) notes.push(`format: ${change.from.format} -> ${change.to.format}`);
  return notes.length === 0 ? null : notes.join('; ');
}

const CHANGED_KEYS = ['path', 'disk_usage_bytes', 'disk_usage_delta_bytes', 'virtual_size_delta_bytes', 'data_delta_bytes',
  'zero_delta_bytes', 'preallocated_delta_bytes', 'is_backing_changed', 'note'];
const SHORT_LABELS: Readonly<Record<string, string>> = {
  change_bytes: 'change', disk_usage_delta_bytes: '+/- disk usage', virtual_size_delta_bytes: '+/- virtual', data_delta_bytes: '+/- data',
  zero_delta_bytes: '+/- zero', preallocated_delta_bytes: '+/- prealloc', is_backing_changed: 'backing',
};

function column(key: string): Column {
  return columnOf(key, { ...(SHORT_LABELS[key] === undefined ? {} : { label: SHORT_LABELS[key] }), isDetail: key === 'note' });
}

function delta(from: number | null, to: number | null): number | null {
  return from === null || to === null ? null : to - from;
}

function changedTable(changes: readonly ImageChange[]): Table {
  return {
    name: 'changed',
    title: `Changed images (${changes.length})`,
    columns: CHANGED_KEYS.map(column),
    rows: changes.map((change) => {
      const sums = sumDepths(change.byDepth);
      return [change.path, change.diskUsage.to, delta(change.diskUsage.from, change.diskUsage.to),
        delta(change.virtualSize.from, change.virtualSize.to), sums.dataBytes, sums.zeroBytes, sums.preallocatedBytes,
        change.backingChanged, changeNote(change)];
    }),
    chart: { seriesKeys: ['disk_usage_delta_bytes'], labelKey: 'path' },
    textColumnKeys: ['path', 'disk_usage_delta_bytes', 'virtual_size_delta_bytes', 'data_delta_bytes', 'zero_delta_bytes',
      'is_backing_changed', 'note'],
  };
}

const CSV_KEYS = ['change', 'path', 'virtual_size_from_bytes', 'virtual_size_to_bytes', 'disk_usage_from_bytes',
  'disk_usage_to_bytes', 'data_delta_bytes', 'zero_delta_bytes', 'preallocated_delta_bytes', 'is_backing_changed'];

/** All changes in one table (CSV): added and removed images count from and to nothing. */
function csvChanges(model: DiffModel): Table {
  const rows: Cell[][] = [];
  for (const image of model.added) {
    const sums = sumDepths(image.byDepth);
    rows.push(['added', image.path, null, image.virtualSizeBytes, null, image.diskUsageBytes,
      sums.dataBytes, sums.zeroBytes, sums.preallocatedBytes, null]);
  }
  for (const image of model.removed) {
    const sums = sumDepths(image.byDepth);
    rows.push(['removed', image.path, image.virtualSizeBytes, null, image.diskUsageBytes, null,
      -sums.dataBytes, -sums.zeroBytes, -sums.preallocatedBytes, null]);
  }
  for (const change of model.changed) {
    const sums = sumDepths(change.byDepth);
    rows.push(['changed', change.path, change.virtualSize.from, change.virtualSize.to, change.diskUsage.from,
      change.diskUsage.to, sums.dataBytes, sums.zeroBytes, sums.preallocatedBytes, change.backingChanged]);
  }
  return { name: 'diff', title: 'Changes', columns: CSV_KEYS.map((key) => columnOf(key)), rows };
}

/** The diff document. */
export function diffDocument(model: DiffModel): Document {
  const from = runMeta(model.from);
  const to = runMeta(model.to);
  const totals: Table = {
    name: 'totals',
    title: 'Bytes per depth, TO - FROM',
    columns: ['depth', 'data_delta_bytes', 'zero_delta_bytes', 'preallocated_delta_bytes'].map(column),
    rows: model.totals.byDepth.map((d) => [d.depth, d.dataBytes, d.zeroBytes, d.preallocatedBytes]),
    chart: { seriesKeys: ['data_delta_bytes', 'zero_delta_bytes', 'preallocated_delta_bytes'], labelKey: 'depth' },
  };
  return {
    title: `imgaudit diff: run #${model.from.id} to run #${model.to.id}`,
    meta: [
      { label: 'from', value: `${from[0]!.value}, started ${formatTime(model.from.startedAt)}, ${model.from.imageCount} images` },
      { label: 'to', value: `${to[0]!.value}, started ${formatTime(model.to.startedAt)}, ${model.to.imageCount} images` },
      { label: 'images', value: `${model.added.length} added, ${model.removed.length} removed, `
        + `${model.changed.length} changed, ${model.unchangedCount} unchanged` },
    ],
    tables: [
      {
        name: 'sizes',
        title: 'Sizes, TO - FROM',
        columns: [{ key: 'figure', label: 'figure', kind: 'text' }, column('change_bytes')],
        rows: [['disk usage (each file once)', model.totals.diskUsageBytes], ['virtual size', model.totals.virtualSizeBytes]],
      },
      totals,
      imageTable('added', `Added images (${model.added.length})`, model.added),
      imageTable('removed', `Removed images (${model.removed.length})`, model.removed),
      changedTable(model.changed),
    ],
    csvTable: csvChanges(model),
    pathBase: commonDirectory([...model.from.roots, ...model.to.roots]),
  };
}

