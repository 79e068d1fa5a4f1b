/**
 * qcow2 block status (QEMU 7.2 semantics, paraphrased): one answer covers a
 * run of subclusters of the same type — and for allocated types, host-
 * contiguous — up to the end of the L2 table; compressed clusters one at a
 * time. Encrypted images never report offsets.
 */
import { CorruptImageError, NotThisFormatError } from '../../errors.js';
import type { HostFile } from '../../io/host-file.js';
import type { ImageFormat, ImageLayer, LayerStatus, OpenContext, TableRead } from '../types.js';
import { cHex, entryOffset } from './bytes.js';
import { type ClusterContext, Sc, subclusterRange, subclusterType } from './cluster-types.js';
import { type Qcow2Header, readQcow2Header } from './header.js';
import { TableCache } from '../common/table-cache.js';
import { looksMetadataPreallocated } from './preallocation.js';
import { readSnapshotTable } from './snapshots.js';
import * as S from './spec.js';

/** Unallocated L2 entries compared with zeroes at once, at least and at most (a 64 KiB table has 8,192). */
const MIN_ZERO_RUN = 16;
const MAX_ZERO_RUN = 8192;
const ZERO_RUN = Buffer.alloc(MAX_ZERO_RUN * 8);

class Qcow2Layer implements ImageLayer {
  readonly format = 'qcow2' as const;
  readonly virtualSizeBytes: number;
  readonly supportsBacking = true;
  readonly backing;
  readonly requestAlignmentBytes: number;
  readonly details;
  readonly extraFiles: HostFile[] = [];
  private readonly header: Qcow2Header;
  private readonly l1: Buffer;
  private readonly dataFile: HostFile;
  private readonly ctx: ClusterContext;
  private readonly l2Entries: number;
  private readonly entryBytes: number;
  private readonly subclusterBits: number;
  private readonly encrypted: boolean;
  private readonly l2Cache: TableCache;
  private preallocated: boolean | undefined;
  private readAheadThrough = -1;

  constructor(readonly file: HostFile, readonly filename: string, context: OpenContext) {
    const header = readQcow2Header(file);
    this.header = header;
    this.virtualSizeBytes = header.virtualSizeBytes;
    this.backing = header.backingFileName === null ? null
      : { name: header.backingFileName, ...(header.backingFormat ? { format: header.backingFormat } : {}) };
    this.encrypted = header.cryptMethod !== S.CRYPT_NONE;
    this.requestAlignmentBytes = this.encrypted ? 512 : 1;
    this.entryBytes = header.hasExtendedL2 ? 16 : 8;
    this.l2Entries = header.clusterSizeBytes / this.entryBytes;
    const subclusters = header.hasExtendedL2 ? S.EXTL2_SUBCLUSTERS : 1;
    this.subclusterBits = header.clusterBits - Math.log2(subclusters);
    this.ctx = { hasSubclusters: header.hasExtendedL2, hasDataFile: header.dataFileName !== null, subclustersPerCluster: subclusters };
    this.l1 = file.readAt(header.l1TableOffset, header.l1Size * 8);
    this.l2Cache = new TableCache(file, header.clusterSizeBytes, S.L2_CACHE_BYTES);
    if (header.dataFileName !== null) {
      this.dataFile = context.openDataFile(header.dataFileName, filename);
      this.extraFiles.push(this.dataFile);
    } else {
      this.dataFile = file;
    }
    const flags: string[] = [];
    if (header.incompatibleFeatures & S.INCOMPAT_DIRTY) flags.push('dirty');
    if (header.incompatibleFeatures & S.INCOMPAT_CORRUPT) flags.push('corrupt');
    if (header.hasExtendedL2) flags.push('extended_l2');
    if (this.encrypted) flags.push(header.cryptMethod === S.CRYPT_LUKS ? 'encrypted:luks' : 'encrypted:aes');
    if (header.autoclearFeatures & S.AUTOCLEAR_DATA_FILE_RAW) flags.push('data_file_raw');
    const table = header.nbSnapshots === 0 ? { snapshots: [], invalid: null }
      : readSnapshotTable(file, header.snapshotsOffset, header.nbSnapshots);
    // QEMU refuses such an image at open; we map it (a known disagreement) and say so.
    if (table.invalid !== null) flags.push('snapshot_table_invalid');
    this.details = {
      clusterSizeBytes: header.clusterSizeBytes,
      version: String(header.version),
      flags,
      snapshots: table.snapshots,
      ...(header.dataFileName !== null ? { dataFile: header.dataFileName } : {}),
    };
  }

  blockStatus(offsetBytes: number, lengthBytes: number): LayerStatus {
    if (this.preallocated === undefined) {
      this.preallocated = looksMetadataPreallocated(this.file, this.header, () => this.refcountTable());
    }
    const found = this.hostOffset(offsetBytes, Math.min(S.MAX_ANSWER_BYTES, lengthBytes));
    const status: LayerStatus = { lengthBytes: found.bytes, data: false, zero: false };
    const type = found.type;
    if ((type === Sc.Normal || type === Sc.ZeroAlloc || type === Sc.UnallocatedAlloc) && !this.encrypted) {
      status.hostOffset = found.hostOffset;
      status.hostFile = this.dataFile;
    }
    if (type === Sc.ZeroPlain || type === Sc.ZeroAlloc) status.zero = true;
    else if (type !== Sc.UnallocatedPlain && type !== Sc.UnallocatedAlloc) status.data = true;
    if (type === Sc.Compressed) status.compressed = true;
    if (this.preallocated && status.data && status.hostOffset !== undefined) status.recurse = true;
    return status;
  }

  *tableReads(fromBytes: number, toBytes: number): Generator<TableRead> {
    const clusterBytes = this.header.clusterSizeBytes;
    const guestPerTable = this.l2Entries * clusterBytes;
    const last = Math.min(this.header.l1Size, Math.ceil(toBytes / guestPerTable));
    for (let i = Math.floor(fromBytes / guestPerTable); i < last; i++) {
      const offset = entryOffset(this.l1.readUInt32BE(i * 8), this.l1.readUInt32BE(i * 8 + 4));
      // Unaligned offsets are corruption the walk reports; past the end reads as zeroes.
      if (offset === 0 || offset % clusterBytes !== 0 || offset >= this.file.sizeBytes) continue;
      yield {
        file: this.file, offsetBytes: offset, lengthBytes: clusterBytes,
        guestStartBytes: i * guestPerTable, guestEndBytes: (i + 1) * guestPerTable,
      };
    }
  }

  private refcountTable(): Buffer {
    return this.file.readAt(this.header.refcountTableOffset, this.header.refcountTableClusters * this.header.clusterSizeBytes);
  }

  /** qcow2_get_host_offset: type at `offset` and the bytes that share it. */
  private hostOffset(offset: number, bytes: number): { type: Sc; bytes: number; hostOffset: number } {
    const clusterBytes = this.header.clusterSizeBytes;
    const inCluster = offset % clusterBytes;
    const clusterIndex = Math.floor(offset / clusterBytes);
    const l2Index = clusterIndex % this.l2Entries;
    let needed = Math.min(bytes + inCluster, (this.l2Entries - l2Index) * clusterBytes);
    const l1Index = Math.floor(clusterIndex / this.l2Entries);
    const done = (type: Sc, available: number, hostOffset = 0) =>
      ({ type, bytes: Math.min(available, needed) - inCluster, hostOffset });
    if (l1Index >= this.header.l1Size) return done(Sc.UnallocatedPlain, needed);
    const l2Offset = entryOffset(this.l1.readUInt32BE(l1Index * 8), this.l1.readUInt32BE(l1Index * 8 + 4));
    if (l2Offset === 0) return done(Sc.UnallocatedPlain, needed);
    if (l2Offset % clusterBytes !== 0) {
      this.corrupt(`L2 table offset ${cHex(l2Offset)} unaligned (L1 index: ${cHex(l1Index)})`);
    }
    this.readAhead(l1Index);
    const l2 = this.l2Cache.get(l2Offset);
    const scIndex = Math.floor(inCluster / 2 ** this.subclusterBits);
    const at = l2Index * this.entryBytes;
    const hi = l2.readUInt32BE(at);
    const lo = l2.readUInt32BE(at + 4);
    const alloc = this.ctx.hasSubclusters ? l2.readUInt32BE(at + 12) : 0;
    const zero = this.ctx.hasSubclusters ? l2.readUInt32BE(at + 8) : 0;
    const type = subclusterType(this.ctx, hi, lo, alloc, zero, scIndex);
    const where = (): string => `(L2 offset: ${cHex(l2Offset)}, L2 index: ${cHex(l2Index)})`;
    if (this.header.version < 3 && (type === Sc.ZeroPlain || type === Sc.ZeroAlloc)) {
      this.corrupt(`Zero cluster entry found in pre-v3 image ${where()}`);
    }
    let hostOffset = 0;
    if (type === Sc.Compressed && this.ctx.hasDataFile) {
      this.corrupt(`Compressed cluster entry found in image with external data file ${where()}`);
    }
    if (type === Sc.ZeroAlloc || type === Sc.Normal || type === Sc.UnallocatedAlloc) {
      if ((hi & 0x00e00000) !== 0) this.corrupt(`Cluster allocation offset beyond 2^53 ${where()}`);
      const hostCluster = entryOffset(hi, lo);
      hostOffset = hostCluster + inCluster;
      if (hostCluster % clusterBytes !== 0) {
        this.corrupt(`Cluster allocation offset ${cHex(hostCluster)} unaligned ${where()}`);
      }
      if (this.ctx.hasDataFile && hostOffset !== offset) {
        this.corrupt(`External data file host cluster offset ${cHex(hostCluster)} does not match guest cluster offset: ${cHex(offset - inCluster)}, L2 index: ${cHex(l2Index)})`);
      }
    }
    const count = this.countContiguous(l2, l2Index, scIndex, Math.ceil(needed / clusterBytes), l2Offset);
    return done(type, (count + scIndex) * 2 ** this.subclusterBits, hostOffset);
  }

  /**
   * Map walks L1 in order: ask the kernel to read the next L2 tables ahead
   * (READ_AHEAD_BYTES of them) so that disk reads overlap with parsing.
   */
  private readAhead(l1Index: number): void {
    const tables = Math.max(4, Math.floor(S.READ_AHEAD_BYTES / this.header.clusterSizeBytes));
    if (l1Index + tables / 2 <= this.readAheadThrough) return;
    const end = Math.min(this.header.l1Size, l1Index + tables);
    for (let i = Math.max(l1Index, this.readAheadThrough + 1); i < end; i++) {
      const offset = entryOffset(this.l1.readUInt32BE(i * 8), this.l1.readUInt32BE(i * 8 + 4));
      if (offset !== 0) this.file.adviseWillNeed(offset, this.header.clusterSizeBytes);
    }
    this.readAheadThrough = end - 1;
  }

  /** count_contiguous_subclusters: subclusters of one type (and host-contiguous) from `scIndex`. */
  private countContiguous(l2: Buffer, l2Index: number, scIndex: number, nbClusters: number, l2Offset: number): number {
    const view = new DataView(l2.buffer, l2.byteOffset, l2.byteLength);
    const entryBytes = this.entryBytes;
    const first = l2Index * entryBytes;
    const hi0 = view.getUint32(first);
    const lo0 = view.getUint32(first + 4);
    const alloc0 = this.ctx.hasSubclusters ? view.getUint32(first + 12) : 0;
    const zero0 = this.ctx.hasSubclusters ? view.getUint32(first + 8) : 0;
    const range = subclusterRange(this.ctx, hi0, lo0, alloc0, zero0, scIndex);
    if (range.count < 0) this.invalidEntry(l2Offset, l2Index);
    if (range.type === Sc.Compressed) return range.count;
    const expectedType = range.type;
    const checkOffset = expectedType === Sc.Normal || expectedType === Sc.ZeroAlloc || expectedType === Sc.UnallocatedAlloc;
    let count = range.count;
    if (scIndex + range.count < this.ctx.subclustersPerCluster) return count;
    if (!this.ctx.hasSubclusters) {
      return count + this.countStandard(view, l2Index, nbClusters, expectedType, checkOffset, entryOffset(hi0, lo0));
    }
    let expectedOffset = entryOffset(hi0, lo0);
    for (let i = 1; i < nbClusters; i++) {
      const at = (l2Index + i) * entryBytes;
      const hi = view.getUint32(at);
      const lo = view.getUint32(at + 4);
      const next = subclusterRange(this.ctx, hi, lo, view.getUint32(at + 12), view.getUint32(at + 8), 0);
      if (next.count < 0) this.invalidEntry(l2Offset, l2Index + i);
      if (next.type !== expectedType) break;
      if (checkOffset) {
        expectedOffset += this.header.clusterSizeBytes;
        if (expectedOffset !== entryOffset(hi, lo)) break;
      }
      count += next.count;
      if (next.count < this.ctx.subclustersPerCluster) break;
    }
    return count;
  }

  /**
   * The same for standard 8-byte entries, in integer arithmetic: the hot loop
   * of large images. An entry continues the run when its type bits and its
   * offset (for offset-carrying types: the previous one + one cluster) match;
   * reserved bits are ignored, as QEMU masks them.
   */
  private countStandard(view: DataView, l2Index: number, nbClusters: number, expectedType: Sc, checkOffset: boolean, firstOffset: number): number {
    const clusterBytes = this.header.clusterSizeBytes;
    const zeroBit = expectedType === Sc.ZeroAlloc || expectedType === Sc.ZeroPlain ? 1 : 0;
    // For offset-less types, COPIED matters only with a data file (offset 0 + COPIED = normal).
    const copiedMask = !checkOffset && this.ctx.hasDataFile ? S.HI_COPIED : 0;
    // Everything stays int32 so that V8 keeps the loop in registers.
    const hiMask = (S.HI_COMPRESSED | S.HI_OFFSET_MASK | copiedMask) | 0;
    const loMask = (S.LO_OFFSET_MASK | S.LO_ZERO) | 0;
    let expectedHi = checkOffset ? Math.floor(firstOffset / 0x100000000) | 0 : 0;
    let expectedLo = checkOffset ? (firstOffset % 0x100000000) | 0 : 0;
    let count = 0;
    let i = 1;
    if (!checkOffset && zeroBit === 0) {
      // Runs of all-zero entries (unallocated) dominate sparse images: skip
      // them many at a time (memcmp against zeroes; the run doubles while it
      // lasts and halves at a non-zero entry), then an entry at a time;
      // anything else falls to the exact loop.
      const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
      for (let run = MIN_ZERO_RUN; run >= MIN_ZERO_RUN && i + MIN_ZERO_RUN <= nbClusters;) {
        const entries = Math.min(run, nbClusters - i);
        const at = (l2Index + i) * 8;
        if (ZERO_RUN.compare(bytes, at, at + entries * 8, 0, entries * 8) === 0) {
          i += entries;
          count += entries;
          run = Math.min(run * 2, MAX_ZERO_RUN);
        } else {
          run >>= 1;
        }
      }
      for (let at = (l2Index + i) * 8; i < nbClusters && view.getInt32(at) === 0 && view.getInt32(at + 4) === 0; i++, at += 8) count++;
    }
    for (let at = (l2Index + i) * 8; i < nbClusters; i++, at += 8) {
      if (checkOffset) {
        expectedLo = (expectedLo + clusterBytes) | 0;
        if (expectedLo >>> 0 < clusterBytes) expectedHi = (expectedHi + 1) | 0;
      }
      if ((view.getInt32(at) & hiMask) !== expectedHi) break;
      if ((view.getInt32(at + 4) & loMask) !== (expectedLo | zeroBit)) break;
      count++;
    }
    return count;
  }

  private invalidEntry(l2Offset: number, l2Index: number): never {
    this.corrupt(`Invalid cluster entry found  (L2 offset: ${cHex(l2Offset)}, L2 index: ${cHex(l2Index)})`);
  }

  private corrupt(detail: string): never {
    throw new CorruptImageError(`qcow2 image '${this.filename}' is corrupt: ${detail}`, detail);
  }
}

export const qcow2Format: ImageFormat = {
  name: 'qcow2',
  probe(sector) {
    const view = Buffer.from(sector.buffer, sector.byteOffset, sector.byteLength);
    return view.length >= 8 && view.readUInt32BE(0) === S.QCOW2_MAGIC && view.readUInt32BE(4) >= 2 ? 100 : 0;
  },
  open(file, filename, context) {
    if (file.sizeBytes === 0) throw new NotThisFormatError('Image is not in qcow2 format');
    return new Qcow2Layer(file, filename, context);
  },
};
