/**
 * Per-layer allocation (issue #6): the bytes a layer holds itself, from the
 * map of that layer alone (layer-alone.ts), in SPEC §3's categories — and
 * the same figures corrected with the host file system's extent map
 * (io/extents.ts), where fallocated-but-unwritten space counts as
 * preallocated. Where the file system cannot tell (or a preallocation mode
 * wrote real zeroes, as qcow2/raw `preallocation=full` do), bytes keep
 * their SPEC §3 category: written zeroes are data to every observer.
 *
 * Entries are consumed as a stream; only the (sorted) extent list is held.
 */
import type { HostExtent } from '../io/extents.js';
import { type CategoryBytes, type LayerEntry, addTrueAllocation, emptyCategoryBytes } from './category-bytes.js';

export { type CategoryBytes, type LayerEntry } from './category-bytes.js';
export { isOwnAllocation, layerAloneEntries, type LayerAloneOptions } from './layer-alone.js';
export { type LayerMeasurement, measureLayer } from './measure-layer.js';

/** SPEC §3 categories over the layer's own (present, depth-0) entries. */
export function ownAllocation(entries: Iterable<LayerEntry>, isRawLayer: boolean): CategoryBytes {
  return trueAllocation(entries, isRawLayer, []);
}

/**
 * SPEC §3 categories over the present depth-0 entries, except that bytes
 * whose host range lies in an unwritten extent count as preallocated (the
 * file holds the space and it reads as zero), and, when `mapped` is given,
 * bytes SPEC §3 calls preallocated whose host range is a hole count as zero
 * (no space held). `unwritten` and `mapped` must be sorted and disjoint (as
 * `hostExtents` returns them) and describe the file the entries' offsets
 * point into (a qcow2 data file's, when it has one); pass [] and no `mapped`
 * when the file system cannot tell. Each entry costs one or two binary searches.
 */
export function trueAllocation(
  entries: Iterable<LayerEntry>, isRawLayer: boolean, unwritten: readonly HostExtent[], mapped?: readonly HostExtent[],
): CategoryBytes {
  const totals = emptyCategoryBytes();
  for (const entry of entries) addTrueAllocation(totals, entry, isRawLayer, unwritten, mapped);
  return totals;
}
