/**
 * Building the model of `imgaudit diff`: the images added, removed and
 * changed between two runs. An image is changed when any of its figures
 * (virtual size, disk usage, bytes per depth, unallocated bytes, format,
 * chain length, error) or its backing chain (backing name, or the path or
 * identity of any backing layer) differ.
 */
import type { Db } from '../store/db.js';
import { runDepthTotals, runImages } from '../store/report-images.js';
import type { RunRecord } from '../store/report-runs.js';
import { combineDepths, imageFigures } from './image-figures.js';
import type { DepthFigures, DiffModel, ImageChange, ImageFigures } from './model.js';
import { RunSelectionError, completeRunAt, previousCompleteRun, selectRun } from './select-run.js';

/** Which runs to compare. */
export interface DiffRequest {
  /** Default: the complete run before TO (or the one `since` names). */
  from: number | 'latest' | undefined;
  /** Default: the newest complete run. */
  to: number | 'latest' | undefined;
  /** FROM = the newest complete run started at or before this time (`--since`). */
  since?: { isoTime: string; text: string };
}

function sameDepths(a: readonly DepthFigures[], b: readonly DepthFigures[]): boolean {
  return a.length === b.length && a.every((x, i) => {
    const y = b[i]!;
    return x.depth === y.depth && x.dataBytes === y.dataBytes && x.zeroBytes === y.zeroBytes
      && x.preallocatedBytes === y.preallocatedBytes;
  });
}

function isBackingChanged(from: ImageFigures, to: ImageFigures): boolean {
  return from.backing !== to.backing || from.backingChain.join('\n') !== to.backingChain.join('\n');
}

/** The change of an image present in both runs, or null when nothing differs. */
export function compareImage(from: ImageFigures, to: ImageFigures): ImageChange | null {
  const backingChanged = isBackingChanged(from, to);
  const same = !backingChanged && from.virtualSizeBytes === to.virtualSizeBytes
    && from.diskUsageBytes === to.diskUsageBytes && from.unallocatedBytes === to.unallocatedBytes
    && from.format === to.format && from.chainLength === to.chainLength
    && from.error?.code === to.error?.code && from.error?.message === to.error?.message
    && sameDepths(from.byDepth, to.byDepth);
  if (same) return null;
  return {
    path: to.path,
    virtualSize: { from: from.virtualSizeBytes, to: to.virtualSizeBytes },
    diskUsage: { from: from.diskUsageBytes, to: to.diskUsageBytes },
    byDepth: combineDepths(to.byDepth, from.byDepth, -1),
    backingChanged,
    from,
    to,
  };
}

function pickRuns(db: Db, request: DiffRequest): { from: RunRecord; to: RunRecord } {
  const to = selectRun(db, request.to ?? 'latest');
  if (request.from !== undefined) return { from: selectRun(db, request.from), to };
  if (request.since !== undefined) return { from: completeRunAt(db, request.since.isoTime, request.since.text), to };
  const from = previousCompleteRun(db, to);
  if (from === undefined) throw new RunSelectionError(`there is no complete run before run #${to.id} to compare it with`);
  return { from, to };
}

/** Builds the diff model. Throws RunSelectionError. */
export function buildDiff(db: Db, request: DiffRequest): DiffModel {
  const { from, to } = pickRuns(db, request);
  const before = new Map(runImages(db, from.id).map((record) => [record.path, imageFigures(record)]));
  const after = runImages(db, to.id).map(imageFigures);
  const added: ImageFigures[] = [];
  const changed: ImageChange[] = [];
  let unchangedCount = 0;
  for (const image of after) {
    const previous = before.get(image.path);
    before.delete(image.path);
    if (previous === undefined) {
      added.push(image);
      continue;
    }
    const change = compareImage(previous, image);
    if (change === null) unchangedCount++;
    else changed.push(change);
  }
  const removed = [...before.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return {
    from, to, added, removed, changed, unchangedCount,
    totals: {
      byDepth: combineDepths(runDepthTotals(db, to.id), runDepthTotals(db, from.id), -1),
      diskUsageBytes: to.diskUsageBytes - from.diskUsageBytes,
      virtualSizeBytes: to.virtualSizeBytes - from.virtualSizeBytes,
    },
  };
}
