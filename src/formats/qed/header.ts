/**
 * QED header, validated in the order and with the messages of QEMU 7.2's
 * qed open (observed: magic, features, cluster size, table size, image
 * size, L1 table offset, backing file name).
 */
import { NotThisFormatError } from '../../errors.js';
import type { HostFile } from '../../io/host-file.js';
import { imageName } from '../common/names.js';
import { openError } from '../common/open-errors.js';
import * as S from './spec.js';

export interface QedHeader {
  clusterSizeBytes: number;
  tableSizeClusters: number;
  /** Bytes of one L1/L2 table. */
  tableBytes: number;
  /** Entries per table. */
  tableEntries: number;
  /** Start of the data area: header_size × cluster_size. */
  headerAreaBytes: bigint;
  /** End of the file for offset checks: its length rounded up to 512, then down to a cluster. */
  fileEnd: bigint;
  features: bigint;
  l1TableOffset: number;
  imageSizeSectors: bigint;
  backingFileName: string | null;
  /** "raw" when the image says its backing file must not be probed. */
  backingFormat: string | null;
}

const isPowerOfTwo = (n: number): boolean => n > 0 && (n & (n - 1)) === 0;

/**
 * QEMU's table offset check (observed): the table's first and last clusters
 * must pass the cluster check, and the last must lie after the first — so a
 * table of one cluster never passes, and QEMU 7.2 cannot open images made
 * with table_size=1.
 */
export function isValidTableOffset(offset: bigint, header: Pick<QedHeader, 'clusterSizeBytes' | 'headerAreaBytes' | 'tableSizeClusters' | 'fileEnd'>): boolean {
  const last = offset + BigInt((header.tableSizeClusters - 1) * header.clusterSizeBytes);
  if (last % 2n ** 64n <= offset) return false;
  return isValidClusterOffset(offset, header) && isValidClusterOffset(last, header);
}

/**
 * QEMU's cluster offset check: aligned, past the header area, and before
 * the end of the file as QEMU sees it (its length rounded up to 512, then
 * down to a cluster).
 */
export function isValidClusterOffset(offset: bigint, header: Pick<QedHeader, 'clusterSizeBytes' | 'headerAreaBytes' | 'fileEnd'>): boolean {
  return offset % BigInt(header.clusterSizeBytes) === 0n && offset >= header.headerAreaBytes && offset < header.fileEnd;
}

/** Parses and validates the header. Throws NotThisFormatError / ImageOpenError. */
export function readQedHeader(file: HostFile): QedHeader {
  const head = file.readAt(0, S.HEADER_BYTES);
  if (head.readUInt32LE(S.HDR.magic) !== S.QED_MAGIC) throw new NotThisFormatError('Image not in QED format');
  const features = head.readBigUInt64LE(S.HDR.features);
  if ((features & ~S.F_KNOWN_MASK) !== 0n) {
    throw openError(`Unsupported QED features: ${(features & ~S.F_KNOWN_MASK).toString(16)}`, 'E_UNSUPPORTED_FEATURE');
  }
  const clusterSizeBytes = head.readUInt32LE(S.HDR.clusterSize);
  if (!isPowerOfTwo(clusterSizeBytes) || clusterSizeBytes < S.MIN_CLUSTER_SIZE || clusterSizeBytes > S.MAX_CLUSTER_SIZE) {
    throw openError('QED cluster size is invalid');
  }
  const tableSizeClusters = head.readUInt32LE(S.HDR.tableSize);
  if (!isPowerOfTwo(tableSizeClusters) || tableSizeClusters < S.MIN_TABLE_SIZE || tableSizeClusters > S.MAX_TABLE_SIZE) {
    throw openError('QED table size is invalid');
  }
  const tableBytes = tableSizeClusters * clusterSizeBytes;
  const tableEntries = tableBytes / 8;
  const imageSize = head.readBigUInt64LE(S.HDR.imageSize);
  const maxImageSize = BigInt(clusterSizeBytes) * BigInt(tableEntries) * BigInt(tableEntries);
  if (imageSize % 512n !== 0n || imageSize > maxImageSize) throw openError('QED image size is invalid');

  const headerAreaBytes = BigInt(head.readUInt32LE(S.HDR.headerSize)) * BigInt(clusterSizeBytes);
  const l1 = head.readBigUInt64LE(S.HDR.l1TableOffset);
  const fileEnd = BigInt(Math.floor(file.lengthBytes / clusterSizeBytes) * clusterSizeBytes);
  const geometry = { clusterSizeBytes, headerAreaBytes, tableSizeClusters, fileEnd };
  if (!isValidTableOffset(l1, geometry)) throw openError('QED table offset is invalid');

  let backingFileName: string | null = null;
  let backingFormat: string | null = null;
  if ((features & S.F_BACKING_FILE) !== 0n) {
    const offset = head.readUInt32LE(S.HDR.backingNameOffset);
    const size = head.readUInt32LE(S.HDR.backingNameSize);
    if (BigInt(offset) + BigInt(size) > headerAreaBytes) throw openError('QED backing filename offset is invalid');
    if (size >= S.BACKING_NAME_BUFFER) throw openError('Failed to read backing filename');
    const name = imageName(file.readAt(offset, size));
    if (name !== '') backingFileName = name;
    if ((features & S.F_BACKING_FORMAT_NO_PROBE) !== 0n) backingFormat = 'raw';
  }

  return {
    clusterSizeBytes, tableSizeClusters, tableBytes, tableEntries, headerAreaBytes, fileEnd, features,
    l1TableOffset: Number(l1),
    imageSizeSectors: imageSize / 512n,
    backingFileName, backingFormat,
  };
}

