/**
 * The host figures of estimateCommit (commit-host.ts) on hand-built maps
 * and layouts. Expectations are worked out by hand from QEMU 7.2's qcow2
 * allocator (comments); the live tier (test/layers/reclaim.live.test.ts)
 * checks them against `qemu-img check` after real commits.
 */
import { describe, expect, it } from 'vitest';
import type { Qcow2HostLayout } from '../../../../src/formats/qcow2/host-layout.js';
import { estimateCommit } from '../../../../src/map/reclaim/index.js';
import type { MapEntry } from '../../../../src/map/map-entry.js';
import { e, KiB, MiB, once, tile } from './entries.js';

const C64 = 64 * KiB;
/** A fresh image as qemu-img create makes it (64 KiB clusters): header, refcount table, one refcount block, L1. */
const fresh = (over: Partial<Qcow2HostLayout> = {}): Qcow2HostLayout => ({
  clusterBits: 16, l1Entries: 1, usedL1: [], refcountOrder: 4, refcountTableEntries: 8192, usedRefcountBlocks: [[0, 1]],
  allocatedClusters: 4, endCluster: 4, plain: true, ...over,
});
const backing = (sizeBytes: number, layout: Qcow2HostLayout, clusterSizeBytes = C64) => ({
  format: 'qcow2', clusterSizeBytes, virtualSizeBytes: sizeBytes, hasBackingFile: false, qcow2Compat: '1.1', extendedL2: false, layout,
});
const topOf = (virtualSizeBytes: number) => ({ diskUsageBytes: MiB, virtualSizeBytes, format: 'qcow2', clusterSizeBytes: C64, extendedL2: false });
const host = (top: MapEntry[], base: MapEntry[], sizeBytes: number, layout: Qcow2HostLayout, clusterSizeBytes = C64, topSize = sizeBytes) =>
  estimateCommit(once(top), once(base), backing(sizeBytes, layout, clusterSizeBytes), topOf(topSize))?.host;
const exact = (bytes: number) => ({ min: bytes, max: bytes });

describe('estimateCommit: host growth of a qcow2 backing file', () => {
  const size = 4 * MiB;

  it('data over an empty image: the data clusters and the one L2 table their L1 entry lacks', () => {
    const top = tile([e(0, 2 * MiB, 'data')], size);
    expect(host(top, tile([], size), size, fresh())).toEqual({
      dataGrowthBytes: 2 * MiB, metadataGrowthBytes: exact(C64),
      allocatedGrowthBytes: exact(2 * MiB + C64), endGrowthBytes: exact(2 * MiB + C64),
    });
  });

  it('no L2 table where the L1 entry has one', () => {
    const top = tile([e(MiB, MiB, 'data')], size);
    const base = tile([e(0, C64, 'data', 0, 5 * C64)], size);
    expect(host(top, base, size, fresh({ usedL1: [[0, 1]], allocatedClusters: 6, endCluster: 6 }))?.allocatedGrowthBytes).toEqual(exact(MiB));
  });

  it('zero writes touch the L2 table too (get_cluster_table allocates it), and free the clusters they unmap', () => {
    // 512-byte clusters: one L1 entry maps 64 clusters (32 KiB). The top zeroes [32K, 64K), all unallocated below:
    // an L2 table for L1 entry 1, nothing freed.
    const layout = fresh({ clusterBits: 9, l1Entries: 128, usedL1: [[0, 1]], refcountTableEntries: 64, allocatedClusters: 9, endCluster: 9 });
    const top = tile([e(32 * KiB, 32 * KiB, 'zero')], size);
    expect(host(top, tile([e(0, 2 * KiB, 'data', 0, 9 * 512)], size), size, layout, 512)).toEqual({
      dataGrowthBytes: 0, metadataGrowthBytes: exact(512), allocatedGrowthBytes: exact(512), endGrowthBytes: exact(512),
    });
  });

  it('frees and free clusters make the end offset a range: refilled first, or all appended', () => {
    // The top zeroes base data [0, 128K) (2 clusters freed) and writes 1 MiB elsewhere under the same L2 table.
    const base = tile([e(0, 128 * KiB, 'data', 0, 5 * C64)], size);
    const top = tile([e(0, 128 * KiB, 'zero'), e(2 * MiB, MiB, 'data')], size);
    const got = host(top, base, size, fresh({ usedL1: [[0, 1]], allocatedClusters: 7, endCluster: 7 }));
    expect(got).toEqual({
      dataGrowthBytes: MiB - 128 * KiB, metadataGrowthBytes: exact(0), allocatedGrowthBytes: exact(MiB - 128 * KiB),
      endGrowthBytes: { min: MiB - 128 * KiB, max: MiB },
    });
  });

  it('a new refcount block when the file grows past what its blocks cover (exact when nothing was free)', () => {
    // 512-byte clusters, 16-bit refcounts: a block covers 256 clusters. The file ends at cluster 250; 64 data
    // clusters and one L2 table take it to 315, one new block to 316.
    const layout = fresh({ clusterBits: 9, l1Entries: 128, usedL1: [[0, 1]], refcountTableEntries: 64, allocatedClusters: 250, endCluster: 250 });
    const top = tile([e(0, 32 * KiB, 'data')], size);
    // The same 64 clusters under L1 entry 1, which has no L2 table: 316 with it, still one block.
    const moved = tile([e(32 * KiB, 32 * KiB, 'data')], size);
    expect(host(moved, tile([], size), size, layout, 512)).toEqual({
      dataGrowthBytes: 32 * KiB, metadataGrowthBytes: exact(1024), allocatedGrowthBytes: exact(33 * KiB), endGrowthBytes: exact(33 * KiB),
    });
    expect(host(top, tile([], size), size, layout, 512)?.allocatedGrowthBytes).toEqual(exact(32 * KiB + 512));
  });

  it('a larger L1 table when the file grows to the top\'s size: new table allocated, old one freed', () => {
    // 512-byte clusters: an L1 entry maps 32 KiB. 4 MiB needs 128 entries (2 clusters), 8 MiB 256 (4 clusters).
    const layout = fresh({ clusterBits: 9, l1Entries: 128, usedL1: [], refcountTableEntries: 64, allocatedClusters: 5, endCluster: 5 });
    const got = host(tile([], 8 * MiB), tile([], size), size, layout, 512, 8 * MiB);
    expect(got?.metadataGrowthBytes).toEqual(exact(2 * 512));
    expect(got?.endGrowthBytes).toEqual({ min: 2 * 512, max: 4 * 512 });
  });

  it('null when the refcount table would have to grow, or the refcounts are not plain', () => {
    const layout = fresh({ clusterBits: 9, l1Entries: 128, usedL1: [[0, 128]], refcountTableEntries: 1, allocatedClusters: 250, endCluster: 250 });
    expect(host(tile([e(0, 32 * KiB, 'data')], size), tile([], size), size, layout, 512)).toBeNull();
    expect(host(tile([e(0, MiB, 'data')], size), tile([], size), size, fresh({ plain: false }))).toBeNull();
  });

  it('null when the commit rewrites a compressed cluster (what it frees depends on its neighbours)', () => {
    const compressed = { ...e(0, C64, 'data'), offsetBytes: undefined, compressed: true };
    const base = tile([compressed], size);
    expect(host(tile([e(0, C64, 'data')], size), base, size, fresh({ usedL1: [[0, 1]], allocatedClusters: 6, endCluster: 6 }))).toBeNull();
  });

  it('no host figures without a layout, nor for raw backing files', () => {
    const top = tile([e(0, MiB, 'data')], size);
    const { layout: _, ...facts } = backing(size, fresh());
    expect(estimateCommit(once(top), once(tile([], size)), facts, topOf(size))).not.toHaveProperty('host');
    const raw = { format: 'raw', clusterSizeBytes: null, virtualSizeBytes: size, layout: fresh() };
    expect(estimateCommit(once(top), once(tile([e(0, size, 'rawHole')], size)), raw, topOf(size))).not.toHaveProperty('host');
  });
});
