/**
 * SPEC §3 accounting: every map entry's bytes fall into exactly one
 * category, charged to the entry's depth (unallocated bytes are chain-level).
 * In map/ so that a map worker sums a chain where its entries are made.
 */
import { type CategoryBytes, addCategoryBytes } from './category-bytes.js';
import { type AccountedEntry, categorize } from './categorize.js';

export { type AccountedEntry, type ByteCategory, categorize } from './categorize.js';

type DepthTotals = CategoryBytes;

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
    const category = categorize(entry, this.isRawLayer[entry.depth]!);
    if (category === 'unallocated') this.unallocatedBytes += entry.lengthBytes;
    else addCategoryBytes(totals, category, entry.lengthBytes);
  }

  /** Sum of every category: equals the virtual size once the whole map was added. */
  get accountedBytes(): number {
    return this.depthTotals.reduce((sum, t) => sum + t.dataBytes + t.zeroBytes + t.preallocatedBytes, this.unallocatedBytes);
  }
}
