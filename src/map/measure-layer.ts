/**
 * One pass over a layer mapped alone that yields both per-layer figures:
 * SPEC §3 own allocation and the true allocation corrected with FIEMAP.
 * Entries' offsets point into the file named by `entry.filename` (the image
 * itself, a qcow2 data file, a vmdk extent), so the unwritten extents are
 * read per host file, once each.
 */
import { type HostExtentMap, hostExtents } from '../io/extents.js';
import { type LayerAloneOptions, layerAloneEntries } from './layer-alone.js';
import { type CategoryBytes, addTrueAllocation, emptyCategoryBytes } from './category-bytes.js';

export interface LayerMeasurement {
  /** SPEC §3 categories of the bytes the layer holds itself. */
  own: CategoryBytes;
  /** The same bytes with unwritten (fallocated) host extents counted as preallocated, preallocated holes as zero. */
  true: CategoryBytes;
  /** False when some host file's system could not tell (its bytes kept their SPEC §3 category). */
  fileSystemTells: boolean;
}

/** Maps `filename` alone as `format` and measures its own and true allocation. */
export function measureLayer(filename: string, format: string, options: LayerAloneOptions = {}): LayerMeasurement {
  const own = emptyCategoryBytes();
  const truly = emptyCategoryBytes();
  const extentsByFile = new Map<string, HostExtentMap | null>();
  let fileSystemTells = true;
  const isRawLayer = format === 'raw';
  for (const entry of layerAloneEntries(filename, format, options)) {
    addTrueAllocation(own, entry, isRawLayer, []);
    let extents: HostExtentMap | null = null;
    if (entry.filename !== undefined && entry.offsetBytes !== undefined && entry.present && entry.depth === 0) {
      if (!extentsByFile.has(entry.filename)) {
        const found = hostExtents(entry.filename);
        if (found === null) fileSystemTells = false;
        extentsByFile.set(entry.filename, found);
      }
      extents = extentsByFile.get(entry.filename) ?? null;
    }
    addTrueAllocation(truly, entry, isRawLayer, extents?.unwritten ?? [], extents?.mapped);
  }
  return { own, true: truly, fileSystemTells };
}
