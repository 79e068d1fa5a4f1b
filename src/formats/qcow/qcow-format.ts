/**
 * qcow version 1 (QEMU 7.2 semantics, paraphrased): like qcow2 without zero
 * clusters or refcounts. Unallocated clusters fall through to the backing
 * file; compressed clusters, and every cluster of an encrypted image, are
 * data without an offset; other clusters are data at `entry | offset in
 * cluster`. Table offsets are not validated (reads past the end of the file
 * are zeroes). QEMU answers one cluster per call; runs of clusters of one
 * kind (and host-contiguous for data) are answered together.
 *
 * Encrypted images are mapped as QEMU maps them with the key (like
 * encrypted qcow2): the map needs no decryption.
 */
import { NotThisFormatError } from '../../errors.js';
import type { HostFile } from '../../io/host-file.js';
import { MAX_HOST_OFFSET, QEMU_MAX_LENGTH, checkVirtualSize } from '../common/limits.js';
import { imageName } from '../common/names.js';
import { EIO, errnoOpenError, mapError, openError } from '../common/open-errors.js';
import { PagedTable } from '../common/paged-table.js';
import { TableCache } from '../common/table-cache.js';
import type { ImageFormat, ImageLayer, LayerStatus } from '../types.js';
import * as S from './spec.js';

const TWO_32 = 0x100000000;

interface QcowHeader {
  clusterBits: number;
  l2Bits: number;
  sectors: bigint;
  l1Entries: number;
  l1TableOffset: bigint;
  encrypted: boolean;
  backingFileName: string | null;
}

function readHeader(file: HostFile, filename: string): QcowHeader {
  const h = file.readAt(0, S.HEADER_BYTES);
  if (h.readUInt32BE(S.HDR.magic) !== S.QCOW_MAGIC) throw new NotThisFormatError('Image not in qcow format');
  const version = h.readUInt32BE(S.HDR.version);
  if (version !== S.QCOW_VERSION) {
    const hint = version === 2 || version === 3 ? "\nTry the 'qcow2' driver instead." : '';
    throw openError(`qcow (v1) does not support qcow version ${version}${hint}`, 'E_UNSUPPORTED_VERSION');
  }
  const size = h.readBigUInt64BE(S.HDR.size);
  if (size <= 1n) throw openError('Image size is too small (must be at least 2 bytes)');
  const clusterBits = h[S.HDR.clusterBits]!;
  if (clusterBits < S.MIN_CLUSTER_BITS || clusterBits > S.MAX_CLUSTER_BITS) throw openError('Cluster size must be between 512 and 64k');
  const l2Bits = h[S.HDR.l2Bits]!;
  if (l2Bits < S.MIN_L2_BITS || l2Bits > S.MAX_L2_BITS) throw openError('L2 table size must be between 512 and 64k');
  const cryptMethod = h.readUInt32BE(S.HDR.cryptMethod);
  if (cryptMethod !== S.CRYPT_NONE && cryptMethod !== S.CRYPT_AES) throw openError('invalid encryption method in qcow header');
  const shift = BigInt(clusterBits + l2Bits);
  if (size > 2n ** 64n - 1n - (1n << shift)) throw openError('Image too large');
  const l1Entries = (size + (1n << shift) - 1n) >> shift;
  if (l1Entries > BigInt(S.MAX_L1_ENTRIES)) throw openError('Image too large');
  const l1TableOffset = h.readBigUInt64BE(S.HDR.l1TableOffset);
  if (l1TableOffset + l1Entries * 8n > QEMU_MAX_LENGTH) throw errnoOpenError(filename, EIO, 'qcow: L1 table offset out of range');

  let backingFileName: string | null = null;
  const backingOffset = h.readBigUInt64BE(S.HDR.backingFileOffset);
  if (backingOffset !== 0n) {
    const length = h.readUInt32BE(S.HDR.backingFileSize);
    if (length > S.MAX_BACKING_NAME_BYTES) throw openError('Backing file name too long');
    if (backingOffset + BigInt(length) > QEMU_MAX_LENGTH) throw errnoOpenError(filename, EIO, 'qcow: backing file name offset out of range');
    const name = backingOffset >= BigInt(file.sizeBytes) ? ''
      : imageName(file.readAt(Number(backingOffset), length));
    if (name !== '') backingFileName = name;
  }
  return {
    clusterBits, l2Bits, l1TableOffset, backingFileName,
    l1Entries: Number(l1Entries),
    sectors: size / 512n,
    encrypted: cryptMethod !== S.CRYPT_NONE,
  };
}

/** A u64 table entry as a number; ≥ 2^53 becomes Infinity. */
const entryAt = (table: Buffer, index: number, mask = 0xffffffff): number => {
  const hi = table.readUInt32BE(index * 8) & mask;
  return hi >= 0x200000 ? Infinity : hi * TWO_32 + table.readUInt32BE(index * 8 + 4);
};

class QcowLayer implements ImageLayer {
  readonly format = 'qcow' as const;
  readonly virtualSizeBytes: number;
  readonly supportsBacking = true;
  readonly backing;
  readonly requestAlignmentBytes = 1;
  readonly details;
  readonly extraFiles = [];
  private readonly header: QcowHeader;
  private readonly l1: PagedTable;
  private readonly clusterBytes: number;
  private readonly l2Entries: number;
  private readonly l2Cache: TableCache;

  constructor(readonly file: HostFile, readonly filename: string) {
    const header = readHeader(file, filename);
    this.header = header;
    this.virtualSizeBytes = checkVirtualSize('qcow', header.sectors);
    this.backing = header.backingFileName === null ? null : { name: header.backingFileName };
    this.clusterBytes = 2 ** header.clusterBits;
    this.l2Entries = 2 ** header.l2Bits;
    const l1Offset = header.l1TableOffset >= BigInt(file.sizeBytes) ? Number.MAX_SAFE_INTEGER : Number(header.l1TableOffset);
    this.l1 = new PagedTable(file, l1Offset, header.l1Entries * 8);
    this.l2Cache = new TableCache(file, this.l2Entries * 8, S.L2_CACHE_BYTES);
    this.details = {
      clusterSizeBytes: this.clusterBytes,
      version: '1',
      flags: header.encrypted ? ['encrypted:aes'] : [],
    };
  }

  blockStatus(offsetBytes: number, lengthBytes: number): LayerStatus {
    const cs = this.clusterBytes;
    const span = cs * this.l2Entries;
    const requestEnd = offsetBytes + lengthBytes;
    const l1Index = Math.floor(offsetBytes / span);
    const l1Hi = this.l1.u32(l1Index * 8, false);
    const l2Offset = l1Hi * TWO_32 + this.l1.u32(l1Index * 8 + 4, false);
    if (l2Offset === 0) {
      // Unallocated up to the next L1 entry that is set.
      const lastIndex = Math.min(this.header.l1Entries, Math.ceil(requestEnd / span));
      const next = this.l1.firstNonZeroEntry(l1Index + 1, lastIndex, 8);
      return { lengthBytes: Math.min(next * span, requestEnd) - offsetBytes, data: false, zero: false };
    }
    if (l1Hi >= 0x80000000) {
      // QEMU's read at a negative int64 offset fails.
      throw mapError(`qcow image '${this.filename}': L2 table offset beyond 2^63 (L1 index ${l1Index})`);
    }
    // An L2 table past the end of the file reads as zeroes: all unallocated.
    const l2 = l2Offset >= this.file.sizeBytes ? null : this.l2Cache.get(l2Offset);
    const rangeEnd = Math.min(requestEnd, (l1Index + 1) * span);
    const inCluster = offsetBytes % cs;
    const index = Math.floor((offsetBytes % span) / cs);
    const last = Math.min(this.l2Entries, index + Math.ceil((inCluster + rangeEnd - offsetBytes) / cs));
    if (l2 === null) return { lengthBytes: rangeEnd - offsetBytes, data: false, zero: false };
    const hi = l2.readUInt32BE(index * 8);
    const lo = l2.readUInt32BE(index * 8 + 4);
    let count = 1;
    const lengthOf = () => Math.min(rangeEnd - offsetBytes, count * cs - inCluster);
    if (hi === 0 && lo === 0) {
      while (index + count < last && l2.readUInt32BE((index + count) * 8) === 0 && l2.readUInt32BE((index + count) * 8 + 4) === 0) count++;
      return { lengthBytes: lengthOf(), data: false, zero: false };
    }
    const compressed = (hi & S.HI_COMPRESSED) !== 0;
    if (compressed || this.header.encrypted) {
      // Data without an offset: such answers merge whatever their host layout.
      const same = (i: number) => {
        const h = l2.readUInt32BE(i * 8);
        return (h !== 0 || l2.readUInt32BE(i * 8 + 4) !== 0) && ((h & S.HI_COMPRESSED) !== 0) === compressed;
      };
      while (index + count < last && same(index + count)) count++;
      return { lengthBytes: lengthOf(), data: true, zero: false, ...(compressed ? { compressed: true } : {}) };
    }
    const entry = entryAt(l2, index);
    if (!Number.isFinite(entry)) {
      throw mapError(`qcow image '${this.filename}': cluster offset beyond 2^53 (L2 table 0x${l2Offset.toString(16)}, index ${index})`);
    }
    const lowBits = entry % cs;
    // QEMU maps to `entry | offset in cluster`; an unaligned entry is answered alone.
    if (lowBits === 0) {
      while (index + count < last && entryAt(l2, index + count) === entry + count * cs) count++;
    }
    const hostOffset = entry - lowBits + (lowBits | inCluster);
    if (hostOffset > MAX_HOST_OFFSET - count * cs) {
      throw mapError(`qcow image '${this.filename}': cluster offset beyond 2^53 (L2 table 0x${l2Offset.toString(16)}, index ${index})`);
    }
    return { lengthBytes: lengthOf(), data: true, zero: false, hostOffset, hostFile: this.file };
  }
}

export const qcowFormat: ImageFormat = {
  name: 'qcow',
  probe(sector) {
    const b = Buffer.from(sector.buffer, sector.byteOffset, sector.byteLength);
    return b.length >= 8 && b.readUInt32BE(0) === S.QCOW_MAGIC && b.readUInt32BE(4) === S.QCOW_VERSION ? 100 : 0;
  },
  open(file, filename) {
    if (file.sizeBytes === 0) throw new NotThisFormatError('Image not in qcow format');
    return new QcowLayer(file, filename);
  },
};
