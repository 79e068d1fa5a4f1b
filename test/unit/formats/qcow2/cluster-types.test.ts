/**
 * qcow2 L2 entry classification (src/formats/qcow2/cluster-types.ts;
 * docs/interop/qcow2.txt, research §3.2.3): every (sub)cluster type with
 * standard and extended L2 entries, including INVALID, the 32-bit traps
 * (offset bits in the sign bit, subcluster 31), and run counts, against
 * explicit cases and a bit-by-bit reference written from the spec.
 */
import { describe, expect, it } from 'vitest';
import { type ClusterContext, Sc, subclusterRange, subclusterType } from '../../../../src/formats/qcow2/cluster-types.js';
import { Rng, deriveSeed, seedFromEnv } from '../../../support/prng.js';

const STD: ClusterContext = { hasSubclusters: false, hasDataFile: false, subclustersPerCluster: 1 };
const STD_DATA_FILE: ClusterContext = { ...STD, hasDataFile: true };
const EXT: ClusterContext = { hasSubclusters: true, hasDataFile: false, subclustersPerCluster: 32 };
const EXT_DATA_FILE: ClusterContext = { ...EXT, hasDataFile: true };

const COPIED = 0x80000000;
const COMPRESSED = 0x40000000;
/** hi/lo halves of an L2 entry with host offset `offset` (bits 9..55). */
const at = (offset: number): [number, number] => [Math.floor(offset / 2 ** 32), offset % 2 ** 32];

describe('standard L2 entries', () => {
  it.each([
    ['unallocated', 0, 0, Sc.UnallocatedPlain],
    ['data at 64 KiB', ...at(0x10000), Sc.Normal],
    ['data with COPIED', COPIED, 0x10000, Sc.Normal],
    ['data at 2 GiB (offset in the sign bit of lo)', ...at(2 ** 31), Sc.Normal],
    ['data above 4 GiB (offset only in hi)', ...at(2 ** 32), Sc.Normal],
    ['data at 2^55 - 512 (highest offset bit)', ...at(2 ** 55 - 512), Sc.Normal],
    ['zero plain', 0, 1, Sc.ZeroPlain],
    ['zero plain with COPIED', COPIED, 1, Sc.ZeroPlain],
    ['zero allocated', 0, 0x10001, Sc.ZeroAlloc],
    ['zero allocated above 4 GiB', 1, 1, Sc.ZeroAlloc],
    ['compressed', COMPRESSED, 0x12345, Sc.Compressed],
    ['compressed with the zero bit', COMPRESSED | COPIED, 1, Sc.Compressed],
    ['only bits 1..8 set: no offset', 0, 0x1fe, Sc.UnallocatedPlain],
    ['only reserved bits 56..61 set: no offset', 0x3f000000, 0, Sc.UnallocatedPlain],
    ['COPIED without offset and without data file', COPIED, 0, Sc.UnallocatedPlain],
  ])('%s', (_name, hi, lo, type) => {
    expect(subclusterType(STD, hi, lo, 0, 0, 0)).toBe(type);
    expect(subclusterRange(STD, hi, lo, 0, 0, 0)).toEqual({ type, count: 1 });
  });

  it('with an external data file, COPIED at offset 0 is data at host offset 0', () => {
    expect(subclusterType(STD_DATA_FILE, COPIED, 0, 0, 0, 0)).toBe(Sc.Normal);
    expect(subclusterType(STD_DATA_FILE, 0, 0, 0, 0, 0)).toBe(Sc.UnallocatedPlain);
    expect(subclusterType(STD_DATA_FILE, COPIED, 1, 0, 0, 0)).toBe(Sc.ZeroPlain);
  });
});

describe('extended L2 entries', () => {
  const data = at(0x10000);
  it.each([
    ['allocated subcluster', data, 1 << 5, 0, 5, Sc.Normal],
    ['zero subcluster of an allocated cluster', data, 0, 1 << 5, 5, Sc.ZeroAlloc],
    ['unallocated subcluster of an allocated cluster', data, 1 << 4, 0, 5, Sc.UnallocatedAlloc],
    ['subcluster 31 (sign bit) allocated', data, 0x80000000, 0, 31, Sc.Normal],
    ['subcluster 31 (sign bit) zero', data, 0, 0x80000000, 31, Sc.ZeroAlloc],
    ['both bits for another subcluster', data, 1 << 2, 1 << 2, 7, Sc.Invalid],
    ['zero subcluster of an unallocated cluster', [0, 0], 0, 1 << 3, 3, Sc.ZeroPlain],
    ['unallocated subcluster', [0, 0], 0, 1 << 3, 4, Sc.UnallocatedPlain],
    ['alloc bit without a host cluster', [0, 0], 1 << 9, 0, 3, Sc.Invalid],
    ['standard zero bit is ignored', [0, 1], 0, 0, 0, Sc.UnallocatedPlain],
    ['standard zero bit with an offset is ignored', [0, 0x10001], 1, 0, 0, Sc.Normal],
    ['compressed whatever the bitmap says', [COMPRESSED, 0x200], 0xffffffff, 0xffffffff, 9, Sc.Compressed],
  ] as const)('%s', (_name, [hi, lo], alloc, zero, sc, type) => {
    expect(subclusterType(EXT, hi, lo, alloc, zero, sc)).toBe(type);
  });

  it('with an external data file, COPIED at offset 0 is an allocated cluster', () => {
    expect(subclusterType(EXT_DATA_FILE, COPIED, 0, 0, 0, 0)).toBe(Sc.UnallocatedAlloc);
    expect(subclusterType(EXT_DATA_FILE, COPIED, 0, 1, 0, 0)).toBe(Sc.Normal);
    expect(subclusterType(EXT_DATA_FILE, 0, 0, 1, 0, 0)).toBe(Sc.Invalid);
  });

  it.each([
    ['normal run', 0xff, 0, 2, Sc.Normal, 6],
    ['normal run to subcluster 31', 0xffffff00, 0, 8, Sc.Normal, 24],
    ['zero run', 0, 0x00f0, 4, Sc.ZeroAlloc, 4],
    ['unallocated run up to the next set bit', 0x100, 0, 0, Sc.UnallocatedAlloc, 8],
    ['unallocated run to the end', 0x1, 0, 1, Sc.UnallocatedAlloc, 31],
    ['last subcluster', 0x80000000, 0, 31, Sc.Normal, 1],
  ])('%s', (_name, alloc, zero, from, type, count) => {
    expect(subclusterRange(EXT, ...at(0x10000), alloc, zero, from)).toEqual({ type, count });
  });

  it('reports INVALID with count -1 and compressed clusters as one run', () => {
    expect(subclusterRange(EXT, ...at(0x10000), 1, 1, 5)).toEqual({ type: Sc.Invalid, count: -1 });
    expect(subclusterRange(EXT, COMPRESSED, 0, 0, 0, 7)).toEqual({ type: Sc.Compressed, count: 25 });
  });
});

/** Reference classification, bit by bit, written from docs/interop/qcow2.txt. */
function referenceType(ctx: ClusterContext, hi: number, lo: number, alloc: number, zero: number, sc: number): Sc {
  if (hi & COMPRESSED) return Sc.Compressed;
  const offset = (hi & 0xffffff) * 2 ** 32 + (lo - (lo % 512));
  const allocated = offset !== 0 || (ctx.hasDataFile && (hi & COPIED) !== 0);
  const bit = (v: number, i: number) => Math.floor(v / 2 ** i) % 2 === 1;
  if (!ctx.hasSubclusters) {
    if (lo % 2 === 1) return offset !== 0 ? Sc.ZeroAlloc : Sc.ZeroPlain;
    return allocated ? Sc.Normal : Sc.UnallocatedPlain;
  }
  let overlap = false;
  for (let i = 0; i < 32; i++) overlap ||= bit(alloc, i) && bit(zero, i);
  if (allocated) {
    if (overlap) return Sc.Invalid;
    return bit(zero, sc) ? Sc.ZeroAlloc : bit(alloc, sc) ? Sc.Normal : Sc.UnallocatedAlloc;
  }
  if (alloc !== 0) return Sc.Invalid;
  return bit(zero, sc) ? Sc.ZeroPlain : Sc.UnallocatedPlain;
}

function referenceCount(ctx: ClusterContext, hi: number, lo: number, alloc: number, zero: number, from: number): number {
  const type = referenceType(ctx, hi, lo, alloc, zero, from);
  if (type === Sc.Invalid) return -1;
  let n = 0;
  while (from + n < ctx.subclustersPerCluster && referenceType(ctx, hi, lo, alloc, zero, from + n) === type) n++;
  return n;
}

describe('against the bit-by-bit reference (seeded)', () => {
  const rng = new Rng(deriveSeed(seedFromEnv('FUZZ_SEED'), 77));
  const word = () => rng.pick([0, 0xffffffff, 1, 0x80000000, rng.nextU32(), rng.nextU32() & rng.nextU32()]);

  it('type and count agree for 20,000 random entries', () => {
    for (let i = 0; i < 20_000; i++) {
      const ctx = rng.pick([STD, STD_DATA_FILE, EXT, EXT_DATA_FILE]);
      const hi = rng.pick([0, COPIED, COMPRESSED, word(), word() & 0x80ffffff]) >>> 0;
      const lo = rng.pick([0, 1, 0x10000, 0x10001, word()]) >>> 0;
      const [alloc, zero] = ctx.hasSubclusters ? [word(), rng.chance(0.5) ? 0 : word() & ~word()] : [0, 0];
      const from = rng.int(0, ctx.subclustersPerCluster - 1);
      const where = JSON.stringify({ ctx, hi, lo, alloc, zero, from });
      expect(subclusterType(ctx, hi, lo, alloc >>> 0, zero >>> 0, from), where).toBe(referenceType(ctx, hi, lo, alloc >>> 0, zero >>> 0, from));
      expect(subclusterRange(ctx, hi, lo, alloc >>> 0, zero >>> 0, from).count, where)
        .toBe(referenceCount(ctx, hi, lo, alloc >>> 0, zero >>> 0, from));
    }
  });
});
