/** Per-root sums of a run's layer and estate figures, for the report (JSON, overview, Prometheus). */
import type { ImageRecord } from '../store/report-images.js';
import type { RunLayers } from './layer-reports.js';
import type { BaseReport, Orphan, RootLayerFigures } from './model.js';

function roundOrNull(value: number | null): number | null {
  return value === null ? null : Math.round(value);
}

/** Per-root figures: growth, shadowed bytes over the root's chains, truly preallocated bytes, orphan bytes, shared bases. */
export function rootLayerFigures(roots: readonly string[], images: readonly ImageRecord[], layers: RunLayers,
  growth: ReadonlyMap<string, number | null>, orphans: readonly Orphan[], bases: readonly BaseReport[]): RootLayerFigures[] {
  const byRoot = new Map<string, RootLayerFigures & { seen: Set<string> }>();
  for (const root of roots) {
    byRoot.set(root, {
      root, growthPerDayBytes: roundOrNull(growth.get(root) ?? null), shadowed: { dataBytes: 0, zeroBytes: 0, preallocatedBytes: 0 },
      truePreallocatedBytes: 0, orphanBytes: 0, bases: { count: 0, sharedBytes: 0, readByOneBytes: 0, unreadBytes: 0 },
      seen: new Set(),
    });
  }
  for (const image of images) {
    const entry = byRoot.get(image.root);
    if (entry === undefined) continue;
    for (const row of layers.layers.get(image.imageId) ?? []) {
      entry.shadowed.dataBytes += row.shadowedDataBytes ?? 0;
      entry.shadowed.zeroBytes += row.shadowedZeroBytes ?? 0;
      entry.shadowed.preallocatedBytes += row.shadowedPreallocatedBytes ?? 0;
      if (row.depth === 0 && row.truePreallocatedBytes !== null && !entry.seen.has(row.fileKey)) {
        entry.seen.add(row.fileKey);
        entry.truePreallocatedBytes += row.truePreallocatedBytes;
      }
    }
  }
  for (const orphan of orphans) {
    const entry = byRoot.get(orphan.root);
    if (entry !== undefined) entry.orphanBytes += orphan.diskUsageBytes;
  }
  for (const base of bases) {
    const root = roots.find((r) => base.path.startsWith(`${r}/`));
    const entry = root === undefined ? undefined : byRoot.get(root);
    if (entry === undefined) continue;
    entry.bases.count++;
    entry.bases.sharedBytes += base.sharedBytes;
    entry.bases.readByOneBytes += base.readBytes - base.sharedBytes;
    entry.bases.unreadBytes += base.unreadBytes;
  }
  return [...byRoot.values()].map(({ seen: _seen, ...figures }) => figures);
}
