/**
 * A qcow2 file's metadata layout as its allocator sees it: which L1 entries
 * have an L2 table, which refcount ranges have a block, how many host
 * clusters are in use and where the last one ends. The commit dry run
 * (map/reclaim/commit-host.ts) needs it to count the L2 tables and refcount
 * blocks a commit allocates. Reads the header, the L1 table, the refcount
 * table and every refcount block (2 bytes per host cluster at the default
 * refcount width) — never the L2 tables.
 */
import { HostFile } from '../../io/host-file.js';
import { readQcow2Header } from './header.js';
import * as S from './spec.js';

/** Sorted, disjoint [from, to) index ranges. */
export type IndexRanges = [number, number][];

export interface Qcow2HostLayout {
  clusterBits: number;
  /** L1 entries (the header's l1_size). */
  l1Entries: number;
  /** L1 indexes with an L2 table. */
  usedL1: IndexRanges;
  refcountOrder: number;
  /** Entries the refcount table has room for (its clusters × cluster size / 8). */
  refcountTableEntries: number;
  /** Refcount table indexes with a refcount block. */
  usedRefcountBlocks: IndexRanges;
  /** Host clusters with a nonzero refcount. */
  allocatedClusters: number;
  /** One past the highest host cluster with a nonzero refcount (qemu-img check's image-end-offset / cluster size). */
  endCluster: number;
  /**
   * The allocator will see plain refcounts: every refcount at most 1, every
   * L1 entry COPIED, no internal snapshot, the image clean (no lazy
   * refcounts to rebuild), no persistent bitmaps (stored again on close),
   * no external data file, not encrypted.
   */
  plain: boolean;
}

const OFFSET_MASK_HI = 0x00ffffff;
/** Refcount blocks read at most (bytes): 2 PiB of host file at 64 KiB clusters, 16 GiB at 512 bytes. */
export const MAX_REFCOUNT_BYTES_READ = 64 * 1024 * 1024;
const COPIED_HI = 0x80000000;

/**
 * Reads the layout; null when its refcount blocks exceed MAX_REFCOUNT_BYTES_READ.
 * Throws what readAt throws on an unreadable file.
 */
export function readQcow2HostLayout(file: HostFile): Qcow2HostLayout | null {
  const header = readQcow2Header(file);
  const clusterBytes = header.clusterSizeBytes;
  let plain = header.nbSnapshots === 0 && header.dataFileName === null && header.cryptMethod === S.CRYPT_NONE
    && (header.incompatibleFeatures & S.INCOMPAT_DIRTY) === 0 && (header.autoclearFeatures & S.AUTOCLEAR_BITMAPS) === 0;

  const l1 = file.readAt(header.l1TableOffset, header.l1Size * 8);
  const usedL1 = new RangeBuilder();
  for (let i = 0; i < header.l1Size; i++) {
    const hi = l1.readUInt32BE(i * 8);
    const lo = l1.readUInt32BE(i * 8 + 4);
    if ((hi & OFFSET_MASK_HI) === 0 && (lo & ~0x1ff) === 0) continue;
    usedL1.add(i);
    if ((hi & COPIED_HI) === 0) plain = false;
  }

  const table = file.readAt(header.refcountTableOffset, header.refcountTableClusters * clusterBytes);
  const tableEntries = table.length / 8;
  const perBlock = (clusterBytes * 8) / 2 ** header.refcountOrder;
  const usedBlocks = new RangeBuilder();
  let blocksRead = 0;
  let allocatedClusters = 0;
  let endCluster = 0;
  for (let index = 0; index < tableEntries; index++) {
    const hi = table.readUInt32BE(index * 8);
    const lo = table.readUInt32BE(index * 8 + 4);
    const blockOffset = hi * 0x100000000 + ((lo & 0xfffffe00) >>> 0);
    if (blockOffset === 0) continue;
    usedBlocks.add(index);
    if (++blocksRead * clusterBytes > MAX_REFCOUNT_BYTES_READ) return null;
    const block = file.readAt(blockOffset, clusterBytes);
    for (let i = 0; i < perBlock; i++) {
      const refcount = refcountAt(block, i, header.refcountOrder);
      if (refcount === 0) continue;
      if (refcount > 1) plain = false;
      allocatedClusters++;
      endCluster = index * perBlock + i + 1;
    }
  }
  return {
    clusterBits: header.clusterBits, l1Entries: header.l1Size, usedL1: usedL1.ranges, refcountOrder: header.refcountOrder,
    refcountTableEntries: tableEntries, usedRefcountBlocks: usedBlocks.ranges, allocatedClusters, endCluster, plain,
  };
}

/** The refcount at `index` of a block (widths 1 to 64 bits; above 2^53 reads as "more than 1"). */
function refcountAt(block: Buffer, index: number, order: number): number {
  if (order >= 3) {
    const width = 2 ** (order - 3);
    let value = 0;
    for (let i = index * width, end = i + width; i < end; i++) value = value * 256 + block[i]!;
    return value;
  }
  const bits = 2 ** order;
  const perByte = 8 / bits;
  // Sub-byte refcounts are stored from the least significant bits up (QEMU's get_refcount_ro0..2).
  const byte = block[Math.floor(index / perByte)]!;
  return (byte >> (bits * (index % perByte))) & ((1 << bits) - 1);
}

class RangeBuilder {
  readonly ranges: IndexRanges = [];

  /** Indexes must come in ascending order. */
  add(index: number): void {
    const last = this.ranges[this.ranges.length - 1];
    if (last !== undefined && last[1] === index) last[1] = index + 1;
    else this.ranges.push([index, index + 1]);
  }
}

/** Opens `path`, reads its layout and closes it. */
export function readQcow2HostLayoutAt(path: string): Qcow2HostLayout | null {
  const file = HostFile.open(path);
  try {
    return readQcow2HostLayout(file);
  } finally {
    file.close();
  }
}
