/**
 * L2 entry classification (docs/interop/qcow2.txt "Cluster mapping" and
 * "Extended L2 Entries"), with QEMU's subcluster type names. Entries are
 * handled as u32 halves: hi = bits 32..63, lo = bits 0..31; the extended L2
 * bitmap likewise: allocLo = bits 0..31 ("allocated"), zeroHi = bits 32..63.
 */
import { HI_COMPRESSED, HI_COPIED, LO_ZERO } from './spec.js';

export const enum Sc {
  Normal, Compressed, ZeroPlain, ZeroAlloc, UnallocatedPlain, UnallocatedAlloc, Invalid,
}

export interface ClusterContext {
  hasSubclusters: boolean;
  hasDataFile: boolean;
  subclustersPerCluster: number;
}

const hasOffset = (hi: number, lo: number): boolean => (hi & 0x00ffffff) !== 0 || ((lo & 0xfffffe00) >>> 0) !== 0;

/** Type of subcluster `sc` of the entry. */
export function subclusterType(ctx: ClusterContext, hi: number, lo: number, alloc: number, zero: number, sc: number): Sc {
  if ((hi & HI_COMPRESSED) !== 0) return Sc.Compressed;
  const offsetSet = hasOffset(hi, lo);
  if (!ctx.hasSubclusters) {
    if ((lo & LO_ZERO) !== 0) return offsetSet ? Sc.ZeroAlloc : Sc.ZeroPlain;
    if (!offsetSet) return ctx.hasDataFile && (hi & HI_COPIED) !== 0 ? Sc.Normal : Sc.UnallocatedPlain;
    return Sc.Normal;
  }
  const normal = offsetSet || (ctx.hasDataFile && (hi & HI_COPIED) !== 0);
  const bit = (1 << sc) >>> 0;
  if (normal) {
    if ((zero & alloc) !== 0) return Sc.Invalid;
    if ((zero & bit) !== 0) return Sc.ZeroAlloc;
    if ((alloc & bit) !== 0) return Sc.Normal;
    return Sc.UnallocatedAlloc;
  }
  if (alloc !== 0) return Sc.Invalid;
  if ((zero & bit) !== 0) return Sc.ZeroPlain;
  return Sc.UnallocatedPlain;
}

/** Count of trailing ones from bit 0 (QEMU's cto32). */
const countTrailingOnes = (v: number): number => {
  let n = 0;
  while (n < 32 && ((v >>> n) & 1) === 1) n++;
  return n;
};
/** Count of trailing zeroes (ctz32; 32 for 0). */
const countTrailingZeroes = (v: number): number => (v === 0 ? 32 : 31 - Math.clz32(v & -v));
/** Bits [0, n) set. */
const lowBits = (n: number): number => (n >= 32 ? 0xffffffff : ((1 << n) - 1) >>> 0);

/**
 * Type at subcluster `from` and how many consecutive subclusters of the
 * cluster share it (qcow2_get_subcluster_range_type). -1 count = invalid.
 */
export function subclusterRange(ctx: ClusterContext, hi: number, lo: number, alloc: number, zero: number, from: number): { type: Sc; count: number } {
  const type = subclusterType(ctx, hi, lo, alloc, zero, from);
  if (type === Sc.Invalid) return { type, count: -1 };
  if (!ctx.hasSubclusters || type === Sc.Compressed) return { type, count: ctx.subclustersPerCluster - from };
  switch (type) {
    case Sc.Normal:
      return { type, count: countTrailingOnes((alloc | lowBits(from)) >>> 0) - from };
    case Sc.ZeroPlain:
    case Sc.ZeroAlloc:
      return { type, count: countTrailingOnes((zero | lowBits(from)) >>> 0) - from };
    default:
      return { type, count: countTrailingZeroes(((zero | alloc) & ~lowBits(from)) >>> 0) - from };
  }
}
