/**
 * SPEC §3 accounting: every map entry's bytes fall into exactly one
 * category, charged to the entry's depth (unallocated bytes are chain-level).
 */
import type { MapEntry } from '../map/map-entry.js';
import type { DepthTotals } from '../store/records.js';

/** The categories of SPEC §3. */
export type ByteCategory = 'data' | 'zero' | 'preallocated' | 'unallocated';

/** The fields of a map entry the rules look at. */
export type AccountedEntry = Pick<MapEntry, 'lengthBytes' | 'depth' | 'present' | 'zero' | 'data' | 'offsetBytes'>;

/**
 * The category of an entry, by the rules of SPEC §3 in their order.
 * `isRawLayer` tells whether the layer at the entry's depth is raw.
 */
export function categorize(entry: AccountedEntry, isRawLayer: boolean): ByteCategory {
  if (entry.data && !entry.zero) return 'data';
  const hasOffset = entry.offsetBytes !== undefined;
  if (!entry.present && !hasOffset) return 'unallocated';
  if (hasOffset && !isRawLayer) return 'preallocated';
  if (!entry.present) return 'unallocated';
  return 'zero';
}

/** Per-depth and chain-level totals of one chain's map, accumulated entry by entry. */
export class ChainAccount {
  readonly depthTotals: DepthTotals[];
  unallocatedBytes = 0;

  /** `isRawLayer[depth]`: is the layer at that depth raw? */
  constructor(private readonly isRawLayer: readonly boolean[]) {
    this.depthTotals = isRawLayer.map(() => ({ dataBytes: 0, zeroBytes: 0, preallocatedBytes: 0 }));
  }

  /** Charges one entry. */
  add(entry: AccountedEntry): void {
    const totals = this.depthTotals[entry.depth];
    if (totals === undefined) throw new RangeError(`map entry at depth ${entry.depth} of a ${this.isRawLayer.length}-layer chain`);
    switch (categorize(entry, this.isRawLayer[entry.depth]!)) {
      case 'data': totals.dataBytes += entry.lengthBytes; break;
      case 'zero': totals.zeroBytes += entry.lengthBytes; break;
      case 'preallocated': totals.preallocatedBytes += entry.lengthBytes; break;
      case 'unallocated': this.unallocatedBytes += entry.lengthBytes; break;
    }
  }

  /** Sum of every category: equals the virtual size once the whole map was added. */
  get accountedBytes(): number {
    return this.depthTotals.reduce((sum, t) => sum + t.dataBytes + t.zeroBytes + t.preallocatedBytes, this.unallocatedBytes);
  }
}
