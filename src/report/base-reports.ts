/** The run's shared bases as the report shows them: what their overlays read, share and leave unread. */
import path from 'node:path';
import type { Db } from '../store/db.js';
import type { ImageRecord } from '../store/report-images.js';
import { runBaseSharings, runSharingOverlays } from '../store/report-layers.js';
import { categoryFigures } from './layer-reports.js';
import type { BaseReport } from './model.js';

/** The run's shared bases, with their overlays (by path). */
export function baseReports(db: Db, runId: number, images: readonly ImageRecord[]): BaseReport[] {
  const sharings = runBaseSharings(db, runId);
  if (sharings.length === 0) return [];
  const imageByChain = new Map(images.map((image) => [image.chainId, image.path]));
  const overlays = new Map<number, BaseReport['overlays']>();
  for (const row of runSharingOverlays(db, runId)) {
    const list = overlays.get(row.sharingId) ?? [];
    list.push({ path: imageByChain.get(row.chainId) ?? path.resolve(row.topPath), readBytes: row.readBytes, uniqueBytes: row.uniqueBytes });
    overlays.set(row.sharingId, list);
  }
  return sharings.map((row) => ({
    path: path.resolve(row.path),
    format: row.format,
    diskUsageBytes: row.diskUsageBytes,
    own: categoryFigures(row.ownDataBytes, row.ownZeroBytes, row.ownPreallocatedBytes),
    overlayCount: row.overlayCount,
    readBytes: row.readBytes,
    sharedBytes: row.sharedBytes,
    unreadBytes: row.unreadBytes,
    overlays: (overlays.get(row.sharingId) ?? []).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)),
  }));
}
