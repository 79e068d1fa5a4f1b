/**
 * Per-layer figures (src/map/own-allocation.ts) on synthetic entries:
 * only present depth-0 entries count, SPEC §3 categories, and bytes in
 * unwritten host extents moved to preallocated — checked against a
 * byte-by-byte reference on random entries and extents (entries in random
 * host order, so the binary search must not assume sorted offsets).
 */
import { describe, expect, it } from 'vitest';
import type { HostExtent } from '../../../src/io/extents.js';
import { firstExtentEndingAfter, overlapBytes } from '../../../src/map/extent-overlap.js';
import { type LayerEntry, isOwnAllocation, ownAllocation, trueAllocation } from '../../../src/map/own-allocation.js';
import { Rng, formatSeed } from '../../support/prng.js';

const entry = (over: Partial<LayerEntry>): LayerEntry => ({
  startBytes: 0, lengthBytes: 100, depth: 0, present: true, zero: false, data: true, offsetBytes: 1000, ...over,
});

describe('isOwnAllocation', () => {
  it('is present at depth 0', () => {
    expect(isOwnAllocation(entry({}))).toBe(true);
    expect(isOwnAllocation(entry({ present: false }))).toBe(false);
    expect(isOwnAllocation(entry({ depth: 1 }))).toBe(false);
  });
});

describe('extent overlap', () => {
  const extents: HostExtent[] = [{ offsetBytes: 10, lengthBytes: 10 }, { offsetBytes: 30, lengthBytes: 5 }, { offsetBytes: 100, lengthBytes: 50 }];
  it('finds the first extent ending after an offset', () => {
    expect([0, 10, 19, 20, 34, 35, 149, 150].map((o) => firstExtentEndingAfter(extents, o))).toEqual([0, 0, 0, 1, 1, 2, 2, 3]);
  });
  it('counts covered bytes across several extents', () => {
    expect(overlapBytes(extents, 0, 200)).toBe(65);
    expect(overlapBytes(extents, 15, 20)).toBe(10);
    expect(overlapBytes(extents, 20, 10)).toBe(0);
    expect(overlapBytes(extents, 149, 10)).toBe(1);
    expect(overlapBytes([], 0, 10)).toBe(0);
  });
});

describe('ownAllocation (SPEC §3 over the layer itself)', () => {
  it('sums present depth-0 entries by category and ignores the rest', () => {
    const entries = [
      entry({ lengthBytes: 100 }), // data
      entry({ lengthBytes: 10, zero: true, data: false }), // zero cluster with host space: preallocated (qcow2)
      entry({ lengthBytes: 20, zero: true, data: false, offsetBytes: undefined }), // zero
      entry({ lengthBytes: 1000, present: false, zero: true, data: false, offsetBytes: undefined }), // not the layer's
      entry({ lengthBytes: 5000, depth: 1 }), // a backing layer's (never alone, but ignored)
      entry({ lengthBytes: 7, data: true, zero: true }), // metadata preallocation
    ];
    expect(ownAllocation(entries, false)).toEqual({ dataBytes: 100, zeroBytes: 20, preallocatedBytes: 17 });
    expect(ownAllocation(entries, true)).toEqual({ dataBytes: 100, zeroBytes: 37, preallocatedBytes: 0 });
  });
});

describe('trueAllocation', () => {
  it('moves bytes in unwritten extents to preallocated, whatever their category', () => {
    const unwritten: HostExtent[] = [{ offsetBytes: 1050, lengthBytes: 100 }];
    const entries = [
      entry({ offsetBytes: 1000, lengthBytes: 100 }), // 50 data, 50 unwritten
      entry({ offsetBytes: 1100, lengthBytes: 100, zero: true, data: false }), // raw hole: 50 unwritten, 50 zero
      entry({ offsetBytes: undefined, lengthBytes: 30 }), // compressed: no host range
      entry({ offsetBytes: 1050, lengthBytes: 100, present: false, zero: true, data: false }), // not present: ignored
    ];
    expect(trueAllocation(entries, true, unwritten)).toEqual({ dataBytes: 80, zeroBytes: 50, preallocatedBytes: 100 });
    expect(trueAllocation(entries, true, [])).toEqual(ownAllocation(entries, true));
  });

  it('consumes a one-shot stream (generator) without holding it', () => {
    function* stream(): Generator<LayerEntry> {
      for (let i = 0; i < 100_000; i++) yield entry({ startBytes: i * 512, lengthBytes: 512, offsetBytes: (99_999 - i) * 512 });
    }
    const result = trueAllocation(stream(), false, [{ offsetBytes: 0, lengthBytes: 512 * 1000 }]);
    expect(result).toEqual({ dataBytes: 512 * 99_000, zeroBytes: 0, preallocatedBytes: 512 * 1000 });
  });

  it('agrees with a byte-by-byte reference on random entries and extents', () => {
    const seed = 0x1a7e5;
    const rng = new Rng(seed);
    for (let round = 0; round < 200; round++) {
      const hostBytes = rng.int(64, 4096);
      const unwritten: HostExtent[] = [];
      for (let at = rng.int(0, 64); at < hostBytes; at += rng.int(1, 300)) {
        const length = rng.int(1, 200);
        unwritten.push({ offsetBytes: at, lengthBytes: length });
        at += length;
      }
      const isUnwritten = (b: number) => unwritten.some((e) => b >= e.offsetBytes && b < e.offsetBytes + e.lengthBytes);
      const isRaw = rng.chance(0.5);
      const entries: LayerEntry[] = [];
      for (let i = rng.int(1, 30); i > 0; i--) {
        const lengthBytes = rng.int(1, 400);
        entries.push(entry({
          lengthBytes, depth: rng.chance(0.9) ? 0 : 1, present: rng.chance(0.85), zero: rng.chance(0.4), data: rng.chance(0.6),
          offsetBytes: rng.chance(0.8) ? rng.int(0, hostBytes) : undefined,
        }));
      }
      const expected = { dataBytes: 0, zeroBytes: 0, preallocatedBytes: 0 };
      for (const e of entries) {
        if (!e.present || e.depth !== 0) continue;
        const own = ownAllocation([e], isRaw);
        const kind = own.dataBytes > 0 ? 'dataBytes' : own.zeroBytes > 0 ? 'zeroBytes' : 'preallocatedBytes';
        for (let b = 0; b < e.lengthBytes; b++) {
          if (e.offsetBytes !== undefined && isUnwritten(e.offsetBytes + b)) expected.preallocatedBytes++;
          else expected[kind]++;
        }
      }
      expect(trueAllocation(entries, isRaw, unwritten), `seed ${formatSeed(seed)} round ${round}`).toEqual(expected);
    }
  });
});
