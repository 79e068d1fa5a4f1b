/**
 * Each image's layers and reclaim figures as the report shows them, from
 * the run's layer rows and chain extras.
 */
import path from 'node:path';
import type { Db } from '../store/db.js';
import type { ImageRecord } from '../store/report-images.js';
import { type ChainExtrasRow, type LayerRow, runChainExtras, runLayerRows } from '../store/report-layers.js';
import type { CategoryFigures, LayerReport, ReclaimFigures } from './model.js';

/** The three category figures, or null when any of them is unknown. */
export function categoryFigures(data: number | null, zero: number | null, preallocated: number | null): CategoryFigures | null {
  return data === null || zero === null || preallocated === null
    ? null : { dataBytes: data, zeroBytes: zero, preallocatedBytes: preallocated };
}

/** A layer row as the report shows it. */
export function layerReport(row: LayerRow, isMapped: boolean): LayerReport {
  return {
    depth: row.depth,
    path: path.resolve(row.path),
    format: row.format,
    diskUsageBytes: row.diskUsageBytes,
    own: categoryFigures(row.ownDataBytes, row.ownZeroBytes, row.ownPreallocatedBytes),
    trueOwn: categoryFigures(row.trueDataBytes, row.trueZeroBytes, row.truePreallocatedBytes),
    visible: isMapped ? categoryFigures(row.visibleDataBytes, row.visibleZeroBytes, row.visiblePreallocatedBytes) : null,
    shadowed: categoryFigures(row.shadowedDataBytes, row.shadowedZeroBytes, row.shadowedPreallocatedBytes),
  };
}

/** Reclaim figures of an image (null when its chain's layer figures were not computed). */
export function reclaimFigures(image: Pick<ImageRecord, 'diskUsageBytes'>, extras: ChainExtrasRow | undefined): ReclaimFigures | null {
  if (extras === undefined || extras.hasLayerFigures !== 1) return null;
  const deleteFreesBytes = image.diskUsageBytes + extras.extraDiskUsageBytes;
  const commitGrowthBytes = extras.commitGrowthBytes;
  return {
    deleteFreesBytes, commitGrowthBytes,
    commitFreesBytes: commitGrowthBytes === null ? null : deleteFreesBytes - commitGrowthBytes,
    commitGrowthMinBytes: extras.commitGrowthMinBytes, commitGrowthMaxBytes: extras.commitGrowthMaxBytes,
    commitDataGrowthBytes: extras.commitDataGrowthBytes,
    commitEndGrowthMinBytes: extras.commitEndGrowthMinBytes, commitEndGrowthMaxBytes: extras.commitEndGrowthMaxBytes,
  };
}

/** The layer tables of a run, grouped by image id. */
export interface RunLayers {
  layers: Map<number, LayerRow[]>;
  extras: Map<number, ChainExtrasRow>;
}

/** Reads the run's layer rows and chain extras. */
export function readRunLayers(db: Db, runId: number): RunLayers {
  const layers = new Map<number, LayerRow[]>();
  for (const row of runLayerRows(db, runId)) {
    const list = layers.get(row.imageId);
    if (list === undefined) layers.set(row.imageId, [row]);
    else list.push(row);
  }
  const extras = new Map(runChainExtras(db, runId).map((row) => [row.imageId, row]));
  return { layers, extras };
}
