/** An image's stored chain state as the figures the reports show (ImageFigures). */
import path from 'node:path';
import type { ImageRecord } from '../store/report-images.js';
import type { DepthFigures, ImageFigures } from './model.js';

/** `json:{...}`, `nbd://host/x`, `file:x`: protocol names are shown as written. */
const PROTOCOL_NAME = /^[A-Za-z][A-Za-z0-9+.-]*:/;

/** The backing file as QEMU opens it: relative names resolve against the image's directory. */
export function resolveBacking(imagePath: string, backingName: string | null): string | null {
  if (backingName === null || backingName === '') return null;
  if (PROTOCOL_NAME.test(backingName)) return backingName;
  return path.resolve(path.dirname(imagePath), backingName);
}

/** The figures of one image of a run. */
export function imageFigures(record: ImageRecord): ImageFigures {
  const byDepth: DepthFigures[] = [];
  if (record.errorCode === null) {
    for (const layer of record.layers) {
      if (layer.dataBytes === null) continue;
      byDepth.push({
        depth: layer.depth, dataBytes: layer.dataBytes, zeroBytes: layer.zeroBytes ?? 0,
        preallocatedBytes: layer.preallocatedBytes ?? 0,
      });
    }
  }
  return {
    path: record.path,
    root: record.root,
    format: record.format,
    virtualSizeBytes: record.virtualSizeBytes,
    diskUsageBytes: record.diskUsageBytes,
    backing: resolveBacking(record.path, record.backingName),
    chainLength: record.chainLength,
    byDepth,
    unallocatedBytes: record.errorCode === null ? record.unallocatedBytes : null,
    error: record.errorCode === null ? null : { code: record.errorCode, message: record.errorMessage ?? '' },
    backingChain: record.layers.filter((layer) => layer.depth >= 1)
      .map((layer) => `${path.resolve(layer.path)} ${layer.fileKey}`),
    inUse: record.inUse,
  };
}

/** Sums per-depth figures: `a + sign × b`, over the depths of either. */
export function combineDepths(a: readonly DepthFigures[], b: readonly DepthFigures[], sign: 1 | -1): DepthFigures[] {
  const byDepth = new Map<number, DepthFigures>();
  for (const figures of a) byDepth.set(figures.depth, { ...figures });
  for (const figures of b) {
    const sum = byDepth.get(figures.depth) ?? { depth: figures.depth, dataBytes: 0, zeroBytes: 0, preallocatedBytes: 0 };
    sum.dataBytes += sign * figures.dataBytes;
    sum.zeroBytes += sign * figures.zeroBytes;
    sum.preallocatedBytes += sign * figures.preallocatedBytes;
    byDepth.set(figures.depth, sum);
  }
  return [...byDepth.values()].sort((x, y) => x.depth - y.depth);
}

/** Data, zero and preallocated bytes summed over depths. */
export function sumDepths(byDepth: readonly DepthFigures[]): Omit<DepthFigures, 'depth'> {
  return byDepth.reduce((sum, d) => ({
    dataBytes: sum.dataBytes + d.dataBytes, zeroBytes: sum.zeroBytes + d.zeroBytes,
    preallocatedBytes: sum.preallocatedBytes + d.preallocatedBytes,
  }), { dataBytes: 0, zeroBytes: 0, preallocatedBytes: 0 });
}
