/**
 * Sparse extents: the VMDK4 ("KDMV") header, or the stream-optimized footer
 * that replaces it, and the ESX 2.x COWD header — validated in the order
 * and with the messages of QEMU 7.2 — and the grain lookup.
 */
import type { HostFile } from '../../io/host-file.js';
import { QEMU_MAX_LENGTH } from '../common/limits.js';
import { EIO, mapError, openError } from '../common/open-errors.js';
import { PagedTable } from '../common/paged-table.js';
import { TableCache } from '../common/table-cache.js';
import * as S from './spec.js';

const U64 = 2n ** 64n;

/** What a grain of a sparse extent is. */
export const enum Grain { Unallocated, Zeroed, Data }

export interface SparseExtentInfo {
  /** Extent size in sectors (the header's capacity; the descriptor line's size is ignored, as in QEMU). */
  sectors: bigint;
  grainSectors: number;
  /** Grain table entries. */
  gtEntries: number;
  gdOffsetBytes: number;
  gdEntries: number;
  compressed: boolean;
  zeroGrain: boolean;
  version: number;
}

/** The header fields QEMU validates, in its order (vmdk_open_vmdk4 then vmdk_add_extent). */
/** Returns the grain directory size as QEMU keeps it (32 bits: larger values wrap). */
function checkExtentGeometry(file: HostFile, granularity: bigint, gdEntries: bigint, grainOffsetSectors: bigint | null): number {
  if (grainOffsetSectors !== null && BigInt(file.lengthBytes / 512) < grainOffsetSectors) {
    throw openError(`File truncated, expecting at least ${BigInt.asIntN(64, grainOffsetSectors * 512n)} bytes`);
  }
  if (granularity > BigInt(S.MAX_GRANULARITY_SECTORS)) throw openError('Invalid granularity, image may be corrupt');
  // QEMU keeps the L1 size in 32 unsigned bits: larger values wrap (to 0 for 2^32).
  const l1 = Number(BigInt.asUintN(32, gdEntries));
  if (l1 > S.MAX_L1_ENTRIES) throw openError('L1 size too big');
  return l1;
}

/**
 * Reads a KDMV header (or its stream-optimized footer). `topFile` is the
 * file QEMU opened the vmdk node on: it looks for the footer at the end of
 * that file, even for an extent named in a descriptor. Returns 'descriptor'
 * with the embedded descriptor offset when the header is an empty shell
 * around a descriptor (capacity 0, descriptor offset set).
 */
export function readVmdk4(file: HostFile, topFile: HostFile): SparseExtentInfo | { descriptorAt: bigint } {
  let h = file.readAt(0, 512);
  if (h.readBigUInt64LE(S.V4.capacity) === 0n && h.readBigUInt64LE(S.V4.descOffset) !== 0n) {
    return { descriptorAt: h.readBigUInt64LE(S.V4.descOffset) * 512n };
  }
  if (h.readBigUInt64LE(S.V4.gdOffset) === S.GD_AT_END) {
    const at = topFile.lengthBytes - S.FOOTER_AREA_BYTES;
    if (at < 0) throw openError(`Failed to read footer: ${EIO}`);
    const area = topFile.readAt(at, S.FOOTER_AREA_BYTES);
    const footer = area.subarray(512, 1024);
    if (footer.readUInt32BE(0) !== S.VMDK4_MAGIC || area.readUInt32LE(8) !== 0 || area.readUInt32LE(12) !== S.MARKER_FOOTER
      || area.readBigUInt64LE(1024) !== 0n || area.readUInt32LE(1032) !== 0 || area.readUInt32LE(1036) !== S.MARKER_END_OF_STREAM) {
      throw openError('Invalid footer');
    }
    h = Buffer.from(footer);
  }
  const version = h.readUInt32LE(S.V4.version);
  if (version > S.MAX_VERSION) throw openError(`Unsupported VMDK version ${version}`, 'E_UNSUPPORTED_VERSION');
  const gtEntries = h.readUInt32LE(S.V4.numGtesPerGt);
  if (gtEntries > S.MAX_GTES_PER_GT) throw openError('L2 table size too big');
  const granularity = h.readBigUInt64LE(S.V4.granularity);
  // QEMU keeps the sectors per grain directory entry in 32 bits.
  const gdEntrySectors = (BigInt(gtEntries) * granularity) % 2n ** 32n;
  if (gdEntrySectors === 0n) throw openError('L1 entry size is invalid');
  const capacity = h.readBigUInt64LE(S.V4.capacity);
  const gdEntries = ((capacity + gdEntrySectors - 1n) % U64) / gdEntrySectors;
  const gdSize = checkExtentGeometry(file, granularity, gdEntries, h.readBigUInt64LE(S.V4.grainOffset));
  const gdOffset = BigInt.asIntN(64, h.readBigUInt64LE(S.V4.gdOffset) * 512n);
  const rgdOffset = (h.readUInt32LE(S.V4.flags) & S.FLAG_RGD) !== 0 ? BigInt.asIntN(64, h.readBigUInt64LE(S.V4.rgdOffset) * 512n) : 0n;
  // QEMU reads both directories at open; a read it cannot issue fails the open.
  const unreadable = (offset: bigint) => offset < 0n || offset + BigInt(gdSize * 4) > QEMU_MAX_LENGTH;
  if (unreadable(gdOffset)) throw openError(`Could not read l1 table from extent '${file.filename}': ${EIO}`);
  if (rgdOffset !== 0n && unreadable(rgdOffset)) throw openError(`Could not read l1 backup table from extent '${file.filename}': ${EIO}`);
  return {
    sectors: capacity,
    grainSectors: Number(granularity),
    gtEntries,
    gdOffsetBytes: gdOffset > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(gdOffset),
    gdEntries: gdSize,
    compressed: h.readUInt16LE(S.V4.compressAlgorithm) === S.COMPRESSION_DEFLATE,
    zeroGrain: (h.readUInt32LE(S.V4.flags) & S.FLAG_ZERO_GRAIN) !== 0,
    version,
  };
}

/** Reads a COWD header: 4096-entry grain tables, the directory size from the header. */
export function readVmdk3(file: HostFile): SparseExtentInfo {
  const h = file.readAt(0, S.V3_HEADER_BYTES);
  const granularity = h.readUInt32LE(S.V3.granularity);
  const gdEntries = h.readUInt32LE(S.V3.l1dirSize);
  checkExtentGeometry(file, BigInt(granularity), BigInt(gdEntries), null);
  // QEMU divides by the granularity and crashes on 0.
  if (granularity === 0) throw openError('vmdk: COWD extent with a granularity of 0 sectors');
  return {
    sectors: BigInt(h.readUInt32LE(S.V3.diskSectors)),
    grainSectors: granularity,
    gtEntries: S.V3_GT_ENTRIES,
    gdOffsetBytes: h.readUInt32LE(S.V3.l1dirOffset) * 512,
    gdEntries,
    compressed: false,
    zeroGrain: false,
    version: h.readUInt32LE(S.V3.version),
  };
}

/** A sparse extent's grain directory and (cached) grain tables. */
export class SparseTables {
  private readonly gd: PagedTable;
  private readonly gtCache: TableCache;

  constructor(readonly file: HostFile, readonly info: SparseExtentInfo) {
    this.gd = new PagedTable(file, info.gdOffsetBytes, info.gdEntries * 4);
    this.gtCache = new TableCache(file, info.gtEntries * 4, S.GT_CACHE_BYTES);
  }

  /** Grain table sector of directory entry `index`, 0 when unallocated; throws past the directory (QEMU: EIO). */
  gtSector(index: number, filename: string): number {
    if (index >= this.info.gdEntries) {
      throw mapError(`vmdk extent '${filename}': grain directory index ${index} beyond its ${this.info.gdEntries} entries`);
    }
    return this.gd.u32(index * 4, true);
  }

  /** The first grain directory entry at or after `from` (below `to`) that is allocated, or `to`. */
  nextAllocatedGd(from: number, to: number): number {
    return this.gd.firstNonZeroEntry(from, Math.min(to, this.info.gdEntries), 4);
  }

  /**
   * How many entries of the grain table at `gtSector`, from `from` to `to`,
   * continue a run of `kind` grains: unallocated (0), zeroed (1 with the
   * zeroed-grain flag), or data — host-contiguous from `nextSector`, or any
   * allocated grain when `nextSector` is -1 (compressed extents).
   */
  runInTable(gtSector: number, from: number, to: number, kind: Grain, nextSector: number): number {
    const table = this.gtCache.get(gtSector * 512);
    const zeroGrain = this.info.zeroGrain;
    let i = from;
    if (kind === Grain.Unallocated) {
      while (i < to && table.readUInt32LE(i * 4) === 0) i++;
    } else if (kind === Grain.Zeroed) {
      while (i < to && table.readUInt32LE(i * 4) === S.GTE_ZEROED) i++;
    } else if (nextSector < 0) {
      for (; i < to; i++) {
        const entry = table.readUInt32LE(i * 4);
        if (entry === 0 || (zeroGrain && entry === S.GTE_ZEROED)) break;
      }
    } else {
      const step = this.info.grainSectors;
      for (let expected = nextSector; i < to && table.readUInt32LE(i * 4) === expected; expected += step) i++;
    }
    return i - from;
  }

  /** Grain table entry `index` of the table at sector `gtSector`. */
  gte(gtSector: number, index: number): number {
    return this.gtCache.get(gtSector * 512).readUInt32LE(index * 4);
  }
}

