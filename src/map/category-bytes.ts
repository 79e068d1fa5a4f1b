/**
 * Per-layer byte figures in SPEC §3's categories, accumulated entry by
 * entry, with host ranges inside unwritten (fallocated) extents counted as
 * preallocated (the file holds that space and it reads as zero), and
 * preallocated host ranges that are holes in the file counted as zero (they
 * read as zero and hold no space: qcow2 `preallocation=metadata`).
 */
import type { HostExtent } from '../io/extents.js';
import { type ByteCategory, categorize } from './categorize.js';
import { overlapBytes } from './extent-overlap.js';
import { isOwnAllocation } from './layer-alone.js';
import type { MapEntry } from './map-entry.js';

/** Bytes per SPEC §3 category a layer holds itself. */
export interface CategoryBytes {
  dataBytes: number;
  zeroBytes: number;
  preallocatedBytes: number;
}

/** The entry fields the per-layer figures use. */
export type LayerEntry = Pick<MapEntry, 'startBytes' | 'lengthBytes' | 'depth' | 'present' | 'zero' | 'data' | 'offsetBytes'>;

/** Zeroed figures. */
export function emptyCategoryBytes(): CategoryBytes {
  return { dataBytes: 0, zeroBytes: 0, preallocatedBytes: 0 };
}

/** Adds `bytes` of `category` to `totals` (unallocated bytes belong to no layer: nothing is added). */
export function addCategoryBytes(totals: CategoryBytes, category: ByteCategory, bytes: number): void {
  switch (category) {
    case 'data': totals.dataBytes += bytes; break;
    case 'zero': totals.zeroBytes += bytes; break;
    case 'preallocated': totals.preallocatedBytes += bytes; break;
    case 'unallocated': break;
  }
}

/**
 * Adds one entry to `totals`: entries other than present depth-0 add
 * nothing; bytes whose host range [offset, offset + length) lies in
 * `unwritten` (sorted, disjoint) are preallocated; when `mapped` (the file's
 * extents, sorted, disjoint) is given, bytes SPEC §3 calls preallocated
 * whose host range is a hole are zero; the rest keep their SPEC §3 category.
 */
export function addTrueAllocation(
  totals: CategoryBytes, entry: LayerEntry, isRawLayer: boolean, unwritten: readonly HostExtent[],
  mapped?: readonly HostExtent[],
): void {
  if (!isOwnAllocation(entry)) return;
  const category = categorize(entry, isRawLayer);
  if (entry.offsetBytes === undefined) {
    addCategoryBytes(totals, category, entry.lengthBytes);
    return;
  }
  const unwrittenBytes = unwritten.length === 0 ? 0 : overlapBytes(unwritten, entry.offsetBytes, entry.lengthBytes);
  if (category === 'preallocated' && mapped !== undefined) {
    const heldBytes = overlapBytes(mapped, entry.offsetBytes, entry.lengthBytes);
    totals.preallocatedBytes += heldBytes;
    totals.zeroBytes += entry.lengthBytes - heldBytes;
    return;
  }
  totals.preallocatedBytes += unwrittenBytes;
  addCategoryBytes(totals, category, entry.lengthBytes - unwrittenBytes);
}
