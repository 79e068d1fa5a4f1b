/**
 * QED block status (QEMU 7.2 semantics, paraphrased): one answer covers a
 * run of clusters of the same kind within one L2 table — unallocated (falls
 * through to the backing file), zero clusters, or host-contiguous data —
 * and only the first cluster of a data run is checked against the file, as
 * QEMU does. Unallocated L1 entries cover their whole L2 range; consecutive
 * ones are answered together (adjacent equal answers merge in the map).
 */
import { NotThisFormatError } from '../../errors.js';
import type { HostFile } from '../../io/host-file.js';
import { checkVirtualSize } from '../common/limits.js';
import { EINVAL, mapError } from '../common/open-errors.js';
import { FilePages, PagedTable } from '../common/paged-table.js';
import type { ImageFormat, ImageLayer, LayerStatus } from '../types.js';
import { type QedHeader, isValidClusterOffset, isValidTableOffset, readQedHeader } from './header.js';
import * as S from './spec.js';

const TWO_32 = 0x100000000;
/** Entry `index` of the table at `tableOffset`; entries ≥ 2^53 become Infinity (never valid, never contiguous). */
const entryAt = (pages: FilePages, tableOffset: number, index: number): number => {
  const hi = pages.u32(tableOffset + index * 8 + 4, true);
  return hi >= 0x200000 ? Infinity : hi * TWO_32 + pages.u32(tableOffset + index * 8, true);
};
const hex = (n: number): string => `0x${n.toString(16)}`;

class QedLayer implements ImageLayer {
  readonly format = 'qed' as const;
  readonly virtualSizeBytes: number;
  readonly supportsBacking = true;
  readonly backing;
  readonly requestAlignmentBytes = S.REQUEST_ALIGNMENT;
  readonly details;
  readonly extraFiles = [];
  private readonly header: QedHeader;
  /** L1 and L2 tables are read through one bounded page cache (tables reach 1 GiB). */
  private readonly pages: FilePages;
  private readonly l1: PagedTable;
  /** Guest bytes one L2 table maps. */
  private readonly l2SpanBytes: number;

  constructor(readonly file: HostFile, readonly filename: string) {
    const header = readQedHeader(file);
    this.header = header;
    this.virtualSizeBytes = checkVirtualSize('qed', header.imageSizeSectors);
    this.backing = header.backingFileName === null ? null
      : { name: header.backingFileName, ...(header.backingFormat !== null ? { format: header.backingFormat } : {}) };
    this.pages = FilePages.of(file);
    this.l1 = new PagedTable(file, header.l1TableOffset, header.tableBytes);
    this.l2SpanBytes = header.tableEntries * header.clusterSizeBytes;
    this.details = {
      clusterSizeBytes: header.clusterSizeBytes,
      // need_check: not closed cleanly (QEMU checks it on a read-write open only); the same finding as qcow2's dirty bit.
      flags: (header.features & S.F_NEED_CHECK) !== 0n ? ['dirty'] : [],
    };
  }

  blockStatus(offsetBytes: number, lengthBytes: number): LayerStatus {
    const clusterBytes = this.header.clusterSizeBytes;
    const span = this.l2SpanBytes;
    const l1Index = Math.floor(offsetBytes / span);
    const requestEnd = offsetBytes + lengthBytes;
    const l1 = this.header.l1TableOffset;
    const l2Offset = entryAt(this.pages, l1, l1Index);
    if (l2Offset === S.UNALLOCATED) {
      // Unallocated L2 ranges: extend over the following unallocated L1 entries.
      const lastIndex = Math.min(this.header.tableEntries, Math.ceil(requestEnd / span));
      const next = this.l1.firstNonZeroEntry(l1Index + 1, lastIndex, 8);
      return { lengthBytes: Math.min(next * span, requestEnd) - offsetBytes, data: false, zero: false };
    }
    if (!Number.isFinite(l2Offset) || !isValidTableOffset(BigInt(l2Offset), this.header)) {
      throw this.corrupt(`L2 table offset ${Number.isFinite(l2Offset) ? hex(l2Offset) : '≥ 2^53'} invalid (L1 index ${l1Index})`);
    }
    const inCluster = offsetBytes % clusterBytes;
    const rangeEnd = Math.min(requestEnd, (l1Index + 1) * span);
    const index = Math.floor((offsetBytes % span) / clusterBytes);
    const wanted = Math.ceil((inCluster + rangeEnd - offsetBytes) / clusterBytes);
    const last = Math.min(index + wanted, this.header.tableEntries);
    const first = entryAt(this.pages, l2Offset, index);
    let count = 1;
    if (first === S.UNALLOCATED || first === S.ZERO_CLUSTER) {
      while (index + count < last && entryAt(this.pages, l2Offset, index + count) === first) count++;
    } else {
      for (let expected = first + clusterBytes; index + count < last && entryAt(this.pages, l2Offset, index + count) === expected; expected += clusterBytes) count++;
    }
    const length = Math.min(rangeEnd - offsetBytes, count * clusterBytes - inCluster);
    if (first === S.UNALLOCATED) return { lengthBytes: length, data: false, zero: false };
    if (first === S.ZERO_CLUSTER) return { lengthBytes: length, data: false, zero: true };
    if (!Number.isFinite(first) || !isValidClusterOffset(BigInt(first), this.header)) {
      throw this.corrupt(`cluster offset ${Number.isFinite(first) ? hex(first) : '≥ 2^53'} invalid (L2 table ${hex(l2Offset)}, index ${index})`);
    }
    return { lengthBytes: length, data: true, zero: false, hostOffset: first + inCluster, hostFile: this.file };
  }

  private corrupt(detail: string): Error {
    return mapError(`qed image '${this.filename}' is corrupt: ${detail}`, EINVAL);
  }
}

export const qedFormat: ImageFormat = {
  name: 'qed',
  probe: (sector) => (sector.length >= 4 && Buffer.from(sector.buffer, sector.byteOffset, sector.byteLength).readUInt32LE(0) === S.QED_MAGIC ? 100 : 0),
  open(file, filename) {
    if (file.sizeBytes === 0) throw new NotThisFormatError('Image not in QED format');
    return new QedLayer(file, filename);
  },
};
