/**
 * What `qemu-img commit` (QEMU 7.2) adds to a qcow2 backing file's host
 * clusters: the data clusters the mirror's copies allocate and its zero
 * writes free (target-delta.ts), plus the metadata qcow2 allocates on the
 * way — an L2 table for every L1 entry an operation touches that has none
 * (get_cluster_table: writes, zero writes and discards alike), a larger L1
 * table when the file grows to the top's size (qcow2_grow_l1_table: new
 * table allocated, old one freed) and a refcount block for every refcount
 * range new clusters land in that has none (alloc_refcount_block).
 *
 * Counts of data clusters, L2 and L1 tables are exact. Where new clusters
 * land is not: the allocator fills free clusters first (first fit from the
 * lowest freed cluster), the mirror's 16 requests in flight finish in any
 * order. So the refcount blocks needed and the image end offset are
 * given as a range [min, max]: from "every free cluster refilled" to
 * "every new cluster appended", equal when the file has no free cluster
 * before or during the commit. A commit that needs a larger refcount table, or a file
 * whose refcounts the layout cannot vouch for, gets no figure (null).
 */
import type { Qcow2HostLayout } from '../../formats/qcow2/host-layout.js';
import type { MirrorOp } from './mirror-steps.js';

export type { Qcow2HostLayout };

/** A byte figure that is exact when min === max. */
export interface ByteRange {
  min: number;
  max: number;
}

export interface CommitHostGrowth {
  /** Data clusters allocated minus freed, in bytes. Exact. */
  dataGrowthBytes: number;
  /** L2 tables, L1 table growth and refcount blocks, in bytes. */
  metadataGrowthBytes: ByteRange;
  /** data + metadata: the growth of the host clusters in use (qemu-img check's refcounted clusters). */
  allocatedGrowthBytes: ByteRange;
  /** The growth of the image end offset (qemu-img check's image-end-offset). */
  endGrowthBytes: ByteRange;
}

/**
 * Counts the L1 indexes the commit's operations touch that have no L2
 * table yet (operations come in guest order: a count and a cursor into the
 * layout's ranges, never a set of indexes).
 */
export class L2Touches {
  /** L2 tables the commit allocates. */
  newTables = 0;
  private readonly l1SpanBytes: number;
  /** Indexes below this are counted. */
  private countedTo = 0;
  private cursor = 0;

  constructor(private readonly layout: Qcow2HostLayout, extendedL2: boolean) {
    const entryBits = extendedL2 ? 4 : 3;
    this.l1SpanBytes = 2 ** (2 * layout.clusterBits - entryBits);
  }

  readonly onOp = (op: MirrorOp): void => {
    if (op.endBytes <= op.startBytes) return;
    const from = Math.max(this.countedTo, Math.floor(op.startBytes / this.l1SpanBytes));
    const to = Math.floor((op.endBytes - 1) / this.l1SpanBytes) + 1;
    if (to <= from) return;
    const ranges = this.layout.usedL1;
    while (this.cursor < ranges.length && ranges[this.cursor]![1] <= from) this.cursor++;
    let covered = 0;
    for (let i = this.cursor; i < ranges.length && ranges[i]![0] < to; i++) {
      covered += Math.min(ranges[i]![1], to) - Math.max(ranges[i]![0], from);
    }
    this.newTables += to - from - covered;
    this.countedTo = to;
  };

  /** L1 entries a file of `sizeBytes` needs (size_to_l1). */
  l1EntriesFor(sizeBytes: number): number {
    return Math.ceil(sizeBytes / this.l1SpanBytes);
  }
}

/**
 * The host growth of a commit that allocates `allocatedUnits` data clusters,
 * frees `freedUnits`, touches the L1 indexes of `touches` and grows the
 * file to `newSizeBytes`; null when it cannot be bounded (see above).
 */
export function commitHostGrowth(
  layout: Qcow2HostLayout,
  extendedL2: boolean,
  touches: L2Touches,
  allocatedUnits: number,
  freedUnits: number,
  newSizeBytes: number,
): CommitHostGrowth | null {
  if (!layout.plain) return null;
  const clusterBytes = 2 ** layout.clusterBits;
  const l2Tables = touches.newTables;
  // Truncate runs first: a larger L1 table replaces the old one (exact size).
  const l1Needed = touches.l1EntriesFor(newSizeBytes);
  const l1Grows = l1Needed > layout.l1Entries;
  const l1NewClusters = l1Grows ? Math.ceil((l1Needed * 8) / clusterBytes) : 0;
  const l1OldClusters = l1Grows ? Math.ceil((layout.l1Entries * 8) / clusterBytes) : 0;
  const newClusters = allocatedUnits + l2Tables + l1NewClusters;
  const freedClusters = freedUnits + l1OldClusters;

  const perBlock = 2 ** (layout.clusterBits + 3 - layout.refcountOrder);
  // Every refcount range below the end must have its block (else a hole there could need one).
  const endBlock = Math.ceil(layout.endCluster / perBlock);
  if (countMissing(layout.usedRefcountBlocks, 0, endBlock) > 0) return null;
  // Refcount blocks needed for a file ending at cluster `end`.
  const blocksFor = (end: number): number | null => {
    const last = Math.ceil(end / perBlock);
    if (last > layout.refcountTableEntries) return null; // the refcount table would grow
    return countMissing(layout.usedRefcountBlocks, endBlock, last);
  };
  // Fewest: every free cluster refilled, nothing left as a hole.
  const packed = layout.allocatedClusters - freedClusters + newClusters;
  const blocksMin = fixpoint((r) => blocksFor(Math.max(layout.endCluster, packed + r)));
  // Most: nothing refilled, every new cluster appended. (A refcount block allocated for a
  // request leaves no hole: update_refcount retries the same clusters first.)
  const appended = layout.endCluster + newClusters;
  const blocksMax = fixpoint((r) => blocksFor(appended + r));
  if (blocksMin === null || blocksMax === null) return null;

  const metadataFixed = l2Tables + l1NewClusters - l1OldClusters;
  const dataClusters = allocatedUnits - freedUnits;
  // Only frees can lower the end (image-end-offset: where the last cluster in use ends).
  const endMin = freedClusters === 0 ? Math.max(layout.endCluster, packed + blocksMin) : packed + blocksMin;
  const endMax = appended + blocksMax;
  return {
    dataGrowthBytes: dataClusters * clusterBytes,
    metadataGrowthBytes: { min: (metadataFixed + blocksMin) * clusterBytes, max: (metadataFixed + blocksMax) * clusterBytes },
    allocatedGrowthBytes: {
      min: (dataClusters + metadataFixed + blocksMin) * clusterBytes,
      max: (dataClusters + metadataFixed + blocksMax) * clusterBytes,
    },
    endGrowthBytes: { min: (endMin - layout.endCluster) * clusterBytes, max: (endMax - layout.endCluster) * clusterBytes },
  };
}

/** The least r with f(r) = r (f grows with r); null when f has no answer. */
function fixpoint(f: (r: number) => number | null): number | null {
  let r = 0;
  for (let i = 0; i < 64; i++) {
    const next = f(r);
    if (next === null) return null;
    if (next <= r) return r;
    r = next;
  }
  return null;
}

/** Indexes in [from, to) not covered by `ranges`. */
function countMissing(ranges: Qcow2HostLayout['usedL1'], from: number, to: number): number {
  let covered = 0;
  for (const [a, b] of ranges) covered += Math.max(0, Math.min(b, to) - Math.max(a, from));
  return Math.max(0, to - from) - covered;
}
