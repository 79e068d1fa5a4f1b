/** Overlap of a host byte range with sorted, disjoint host extents (binary search). */
import type { HostExtent } from '../io/extents.js';

/** Index of the first extent that ends after `offsetBytes` (extents.length if none). */
export function firstExtentEndingAfter(extents: readonly HostExtent[], offsetBytes: number): number {
  let low = 0;
  let high = extents.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    const extent = extents[mid]!;
    if (extent.offsetBytes + extent.lengthBytes <= offsetBytes) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** Bytes of [offsetBytes, offsetBytes + lengthBytes) that lie inside `extents` (sorted, disjoint). */
export function overlapBytes(extents: readonly HostExtent[], offsetBytes: number, lengthBytes: number): number {
  const endBytes = offsetBytes + lengthBytes;
  let covered = 0;
  for (let i = firstExtentEndingAfter(extents, offsetBytes); i < extents.length; i++) {
    const extent = extents[i]!;
    if (extent.offsetBytes >= endBytes) break;
    const from = Math.max(offsetBytes, extent.offsetBytes);
    const to = Math.min(endBytes, extent.offsetBytes + extent.lengthBytes);
    covered += to - from;
  }
  return covered;
}
