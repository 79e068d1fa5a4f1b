/**
 * estimateCommit on hand-built maps. Each expectation is worked out by hand
 * from QEMU 7.2's mirror rules (comments), several confirmed with a real
 * `qemu-img commit` (marked "live"); the random live tier
 * (test/layers/reclaim.live.test.ts) checks the model against qemu-img itself.
 */
import { describe, expect, it } from 'vitest';
import { estimateCommit } from '../../../../src/map/reclaim/index.js';
import type { MapEntry } from '../../../../src/map/map-entry.js';
import { e, KiB, MiB, once, tile, TiB } from './entries.js';

const qcow2 = (clusterSizeBytes: number, virtualSizeBytes: number) =>
  ({ format: 'qcow2', clusterSizeBytes, virtualSizeBytes, hasBackingFile: false, qcow2Compat: '1.1', extendedL2: false });
const raw = (virtualSizeBytes: number) => ({ format: 'raw', clusterSizeBytes: null, virtualSizeBytes });
const topOf = (virtualSizeBytes: number, clusterSizeBytes = 64 * KiB) =>
  ({ diskUsageBytes: 123 * KiB, virtualSizeBytes, format: 'qcow2', clusterSizeBytes, extendedL2: false });
const growth = (top: MapEntry[], backing: MapEntry[], b: Parameters<typeof estimateCommit>[2], t: Parameters<typeof estimateCommit>[3]) =>
  estimateCommit(once(top), once(backing), b, t)?.backingGrowthBytes ?? null;

describe('estimateCommit: qcow2 backing file', () => {
  const size = 4 * MiB;

  it('allocates a cluster for data over a hole, and reports the top\'s disk usage as freed', () => {
    const top = tile([e(0, 64 * KiB, 'data', 0, 5 * MiB)], size);
    const got = estimateCommit(once(top), once(tile([], size)), qcow2(64 * KiB, size), topOf(size));
    expect(got).toEqual({ backingGrowthBytes: 64 * KiB, topFreedBytes: 123 * KiB });
  });

  it('rewrites data over data in place', () => {
    const top = tile([e(MiB, 64 * KiB, 'data')], size);
    const backing = tile([e(MiB, 128 * KiB, 'data')], size);
    expect(growth(top, backing, qcow2(64 * KiB, size), topOf(size))).toBe(0);
  });

  it('unmaps backing clusters a zero cluster of the top covers (write zeroes with MAY_UNMAP; live)', () => {
    // Top zero clusters [0, 128K) over backing data [0, 1M): the chunks are zeroed, 2 clusters freed.
    const top = tile([e(0, 128 * KiB, 'zero')], size);
    const backing = tile([e(0, MiB, 'data')], size);
    expect(growth(top, backing, qcow2(64 * KiB, size), topOf(size))).toBe(-128 * KiB);
  });

  it('copies a whole chunk when a status answer shorter than G starts it', () => {
    // Top (4 KiB clusters): a zero cluster [8K, 12K). Chunk [0, 64K) is dirty; at 0 the backing answers
    // "zero" for 8 KiB only (< G = 64 KiB), so the mirror copies [0, 64K): a cluster is allocated.
    const top = tile([e(8 * KiB, 4 * KiB, 'zero')], size);
    expect(growth(top, tile([], size), qcow2(64 * KiB, size), topOf(size, 4 * KiB))).toBe(64 * KiB);
  });

  it('copies instead of zeroing when the zero range is not aligned to large backing clusters', () => {
    // Backing clusters of 2 MiB (G = 64 KiB): top zero [0, 64K) over backing data [0, 2M) is copied
    // (zeroes written into the allocated cluster): no change. At [2M, 4M) the same zero range over a
    // hole allocates the 2 MiB cluster.
    const top = tile([e(0, 64 * KiB, 'zero'), e(2 * MiB, 64 * KiB, 'zero')], size);
    const backing = tile([e(0, 2 * MiB, 'data')], size);
    expect(growth(top, backing, qcow2(2 * MiB, size), topOf(size))).toBe(2 * MiB);
  });

  it('extends a host-backed last cluster when the top is longer (blk_truncate; live)', () => {
    // Backing 100 KiB, 64 KiB clusters, [64K, 128K) allocated (36 KiB of it below the old end).
    // Top 256 KiB with data [0, 4K): +64 KiB copied, +28 KiB of the last cluster now below the end.
    const backing = [e(0, 64 * KiB, 'unalloc'), e(64 * KiB, 36 * KiB, 'data')];
    const top = tile([e(0, 4 * KiB, 'data')], 256 * KiB);
    expect(growth(top, backing, qcow2(64 * KiB, 100 * KiB), topOf(256 * KiB))).toBe(64 * KiB + 28 * KiB);
  });

  it('handles offsets above 2^32 and 2^41 bytes', () => {
    const vs = 3 * TiB;
    const at = 2 ** 41 + 64 * KiB;
    const top = [e(0, 2 ** 32, 'unalloc'), e(2 ** 32, 64 * KiB, 'zero'), e(2 ** 32 + 64 * KiB, at - 2 ** 32 - 64 * KiB, 'unalloc'),
      e(at, 192 * KiB, 'data', 0, 2 ** 33), e(at + 192 * KiB, vs - at - 192 * KiB, 'unalloc')];
    const backing = [e(0, 2 ** 32, 'unalloc'), e(2 ** 32, 128 * KiB, 'data', 0, 2 ** 41), e(2 ** 32 + 128 * KiB, vs - 2 ** 32 - 128 * KiB, 'unalloc')];
    // −64 KiB (zeroed cluster at 2^32) + 192 KiB (copied at 2^41 + 64K).
    expect(growth(top, backing, qcow2(64 * KiB, vs), topOf(vs))).toBe(128 * KiB);
  });

  it('gains nothing from an empty top', () => {
    expect(growth(tile([], size), tile([e(0, MiB, 'data')], size), qcow2(64 * KiB, size), topOf(size))).toBe(0);
    expect(growth([], [], qcow2(64 * KiB, 0), topOf(0))).toBe(0);
  });

  it('accepts present entries only (what the store keeps) when the figure cannot depend on the gaps', () => {
    const top = [e(0, 64 * KiB, 'data'), e(MiB, 64 * KiB, 'zero')];
    const backing = [e(MiB, 64 * KiB, 'data')];
    expect(growth(top, backing, qcow2(64 * KiB, size), topOf(size))).toBe(0);
    // Top size unknown: the backing's size is cluster-aligned, so it does not matter.
    expect(growth(top, backing, qcow2(64 * KiB, size), { diskUsageBytes: 0, clusterSizeBytes: 64 * KiB, extendedL2: false })).toBe(0);
  });
});

describe('estimateCommit: raw backing file', () => {
  it('allocates 64 KiB chunks (G without clusters) and punches holes for zero chunks (live)', () => {
    // Top (4 KiB clusters) over a 16 MiB raw file with data [1M, 2M): data [4M, 4M+4K) → +64 KiB;
    // zero [1M, 1M+128K) → −128 KiB; zero [1536K, 1540K) starts a chunk with a 4 KiB answer → copied, no change.
    const size = 16 * MiB;
    const backing = [e(0, MiB, 'rawHole'), e(MiB, MiB, 'rawData'), e(2 * MiB, 14 * MiB, 'rawHole')];
    const top = tile([e(MiB, 128 * KiB, 'zero'), e(1536 * KiB, 4 * KiB, 'zero'), e(4 * MiB, 4 * KiB, 'data')], 20 * MiB);
    expect(growth(top, backing, raw(size), topOf(20 * MiB, 4 * KiB))).toBe(64 * KiB - 128 * KiB);
  });

  it('fills the last block of a short file grown to the top\'s size (live)', () => {
    // A 1000-byte raw file of data under a 1 MiB top writing [512K, 516K): +64 KiB, and block 0 now reads
    // as data up to 4 KiB (+3096 bytes).
    const top = tile([e(512 * KiB, 4 * KiB, 'data')], MiB);
    expect(growth(top, [e(0, 1000, 'rawData')], raw(1000), topOf(MiB))).toBe(64 * KiB + 3096);
  });
});

describe('estimateCommit: null when it cannot be exact', () => {
  const size = MiB;
  const top = tile([e(0, 64 * KiB, 'zero')], size);
  const backing = tile([e(0, 64 * KiB, 'data')], size);

  it('for backing formats other than qcow2 and raw, a non-qcow2 top, an unknown cluster size', () => {
    expect(estimateCommit(once(top), once(backing), { ...qcow2(64 * KiB, size), format: 'vmdk' }, topOf(size))).toBeNull();
    expect(estimateCommit(once(top), once(backing), qcow2(64 * KiB, size), { ...topOf(size), format: 'qed' })).toBeNull();
    expect(estimateCommit(once(top), once(backing), { ...qcow2(64 * KiB, size), clusterSizeBytes: null }, topOf(size))).toBeNull();
  });

  it('when a backing file that may have its own backing file is zeroed without a known compat level', () => {
    const unknown = { format: 'qcow2', clusterSizeBytes: 64 * KiB, virtualSizeBytes: size };
    expect(growth(top, backing, unknown, topOf(size))).toBeNull();
    // v3 unmaps whether or not there is a backing file.
    expect(growth(top, backing, { ...unknown, hasBackingFile: true, qcow2Compat: '1.1' }, topOf(size))).toBe(-64 * KiB);
  });

  it('when the status comes from below a backing file that has one', () => {
    // Top (4 KiB clusters) data [0, 4K): chunk [0, 64K) is copied, but at 0 the top answers; fine.
    // Top data [68K, 72K): chunk [64K, 128K) starts in a range neither layer holds.
    const t = tile([e(0, 4 * KiB, 'data'), e(68 * KiB, 4 * KiB, 'data')], size);
    const b = { ...qcow2(64 * KiB, size), hasBackingFile: true };
    expect(growth(tile([e(0, 4 * KiB, 'data')], size), tile([], size), b, topOf(size, 4 * KiB))).toBe(64 * KiB);
    expect(growth(t, tile([], size), b, topOf(size, 4 * KiB))).toBeNull();
  });

  it('when the top\'s unknown cluster size could put an L2-slice edge inside a zero range', () => {
    // 512-byte top clusters map 32 KiB per L2 slice: a zero range [0, 128K) of the top over a raw file
    // would be answered in 32 KiB pieces (each copied), larger clusters answer it whole (zeroed).
    const t = tile([e(0, 128 * KiB, 'zero')], size);
    const b = [e(0, size, 'rawData')];
    expect(growth(t, b, raw(size), { diskUsageBytes: 0, virtualSizeBytes: size })).toBeNull();
    expect(growth(t, b, raw(size), topOf(size, 512))).toBe(0);
    expect(growth(t, b, raw(size), topOf(size, 64 * KiB))).toBe(-128 * KiB);
  });

  it('when a gap of a present-only backing map may hide an allocated extended-L2 cluster', () => {
    const t = [e(0, 64 * KiB, 'data')];
    const b = { format: 'qcow2', clusterSizeBytes: 64 * KiB, virtualSizeBytes: size, hasBackingFile: false, qcow2Compat: '1.1' };
    expect(growth(t, [], b, topOf(size))).toBeNull();
    expect(growth(t, [], { ...b, extendedL2: false }, topOf(size))).toBe(64 * KiB);
    // A whole map shows such a cluster (unallocated entry with an offset): no doubt.
    expect(growth(t, tile([e(0, 64 * KiB, 'unallocHeld')], size), b, topOf(size))).toBe(0);
  });
});

describe('estimateCommit: streaming', () => {
  it('reads 200,000-entry maps once, holding one piece', () => {
    const clusters = 200_000;
    const size = clusters * 64 * KiB * 2;
    function* top(): Generator<MapEntry> {
      for (let i = 0; i < clusters; i++) {
        yield e(i * 128 * KiB, 64 * KiB, i % 3 === 0 ? 'zero' : 'data', 0, 2 ** 40 + i * 64 * KiB);
        yield e(i * 128 * KiB + 64 * KiB, 64 * KiB, 'unalloc');
      }
    }
    function* backing(): Generator<MapEntry> {
      for (let i = 0; i < clusters; i++) {
        yield e(i * 128 * KiB, 64 * KiB, i % 2 === 0 ? 'data' : 'unalloc', 0, 2 ** 35 + i * 64 * KiB);
        yield e(i * 128 * KiB + 64 * KiB, 64 * KiB, 'unalloc');
      }
    }
    // Per cluster i: zero (i % 3 == 0) over data (i even) frees 64K; data (i % 3 != 0) over a hole (i odd) adds 64K.
    let expected = 0;
    for (let i = 0; i < clusters; i++) {
      if (i % 3 === 0 && i % 2 === 0) expected -= 64 * KiB;
      if (i % 3 !== 0 && i % 2 === 1) expected += 64 * KiB;
    }
    const got = estimateCommit(top(), backing(), qcow2(64 * KiB, size), topOf(size));
    expect(got?.backingGrowthBytes).toBe(expected);
  });
});
