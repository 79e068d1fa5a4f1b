/**
 * VHD images (QEMU's "vpc" driver, 7.2 semantics, paraphrased).
 *
 * - The footer is read at offset 0 (dynamic disks keep a copy there); if it
 *   is not there, at the end of the file, where only a fixed disk may have
 *   it. A fixed VHD therefore is not probed as vpc (no cookie at 0) and is
 *   mapped as raw unless `-f vpc` is given.
 * - Virtual size: the CHS geometry, unless the creator application is one
 *   that sizes by `current_size`, or the geometry is the maximum.
 * - The dynamic disk header and BAT are read (and checked) whenever the
 *   footer is at offset 0, whatever the disk type says.
 * - Fixed disks: all data at the guest offset, holes of the file read as
 *   zero (RECURSE). Every other disk type (dynamic, differencing, even
 *   unknown types) is read as a dynamic disk: unallocated blocks read as
 *   zero (`present`, the driver has no backing files — a differencing
 *   disk's parent is ignored), allocated blocks are data after their
 *   sector bitmap, one block per answer.
 */
import { NotThisFormatError } from '../../errors.js';
import type { HostFile } from '../../io/host-file.js';
import { QEMU_MAX_LENGTH } from '../common/limits.js';
import { PagedTable } from '../common/paged-table.js';
import { EFBIG, errnoOpenError, openError } from '../common/open-errors.js';
import type { ImageFormat, ImageLayer, LayerStatus } from '../types.js';
import * as S from './spec.js';

const TYPE_NAMES: Record<number, string> = { [S.TYPE_FIXED]: 'fixed', [S.TYPE_DYNAMIC]: 'dynamic', [S.TYPE_DIFFERENCING]: 'differencing' };

/** One's complement of the byte sum with the checksum field zeroed. */
export function vhdChecksum(footer: Buffer): number {
  let sum = 0;
  for (let i = 0; i < S.FOOTER_BYTES; i++) {
    if (i < S.FOOTER.checksum || i >= S.FOOTER.checksum + 4) sum += footer[i]!;
  }
  return ~sum >>> 0;
}

/**
 * Finds and checks the footer: at 0, else (fixed disks only) at the end of
 * the file. `atStart` says where: QEMU reads the dynamic header (and BAT)
 * whenever the footer is at the start, whatever its disk type.
 */
function readFooter(file: HostFile): { footer: Buffer; atStart: boolean } {
  let footer = file.readAt(0, S.FOOTER_BYTES);
  const atStart = footer.toString('latin1', 0, 8) === S.FOOTER_COOKIE;
  if (!atStart) {
    if (file.lengthBytes < S.FOOTER_BYTES) throw openError('File too small for a VHD header');
    footer = file.readAt(file.lengthBytes - S.FOOTER_BYTES, S.FOOTER_BYTES);
    if (footer.toString('latin1', 0, 8) !== S.FOOTER_COOKIE || footer.readUInt32BE(S.FOOTER.diskType) !== S.TYPE_FIXED) {
      throw new NotThisFormatError('invalid VPC image');
    }
  }
  if (vhdChecksum(footer) !== footer.readUInt32BE(S.FOOTER.checksum)) throw openError('Incorrect header checksum');
  return { footer, atStart };
}

/** Virtual size in sectors, as QEMU decides between CHS and current_size. */
function totalSectors(footer: Buffer): number {
  const chs = footer.readUInt16BE(S.FOOTER.cylinders) * footer[S.FOOTER.heads]! * footer[S.FOOTER.sectorsPerTrack]!;
  const creator = footer.toString('latin1', S.FOOTER.creatorApp, S.FOOTER.creatorApp + 4);
  const useChs = !S.CURRENT_SIZE_CREATORS.includes(creator);
  if (!useChs || chs === S.MAX_GEOMETRY_SECTORS) {
    const sectors = footer.readBigUInt64BE(S.FOOTER.currentSize) / 512n;
    return sectors > BigInt(S.MAX_SECTORS) ? Infinity : Number(sectors);
  }
  return chs;
}

interface Dynamic {
  blockSize: number;
  bitmapBytes: number;
  bat: PagedTable;
  entries: number;
}

/** Dynamic header and BAT, with QEMU's checks and messages. */
function readDynamic(file: HostFile, footer: Buffer, sectors: number): Dynamic {
  const headerOffset = footer.readBigUInt64BE(S.FOOTER.dataOffset);
  if (headerOffset + BigInt(S.DYNAMIC_HEADER_BYTES) > QEMU_MAX_LENGTH) throw openError('Error reading dynamic VHD header');
  const dyn = headerOffset >= BigInt(file.sizeBytes) ? Buffer.alloc(S.DYNAMIC_HEADER_BYTES) : file.readAt(Number(headerOffset), S.DYNAMIC_HEADER_BYTES);
  if (dyn.toString('latin1', 0, 8) !== S.DYNAMIC_COOKIE) throw openError('Invalid header magic');
  const blockSize = dyn.readUInt32BE(S.DYNAMIC.blockSize);
  if (blockSize < 512 || (blockSize & (blockSize - 1)) !== 0) throw openError(`Invalid block size ${blockSize}`);
  const bitmapBytes = (Math.floor(blockSize / (8 * 512)) + 511) & ~511;
  const entries = dyn.readUInt32BE(S.DYNAMIC.maxTableEntries);
  if (Math.floor((sectors * 512) / blockSize) > 0xffffffff) throw openError('Too many blocks');
  if (entries * blockSize < sectors * 512) throw openError('Page table too small');
  if (entries > S.MAX_TABLE_ENTRIES) throw openError(`Max Table Entries too large (${entries | 0})`);
  const batBytes = entries * 4;
  const batOffset = dyn.readBigUInt64BE(S.DYNAMIC.tableOffset);
  if (batBytes > S.MAX_READ_BYTES || batOffset + BigInt(batBytes) > QEMU_MAX_LENGTH) throw openError('Error reading pagetable');
  // QEMU: the first free byte after the BAT and every allocated block must lie inside the file.
  const truncated = () => openError('block-vpc: free_data_block_offset points after the end of file. The image has been truncated.');
  const fileLength = BigInt(file.lengthBytes);
  if ((batOffset + BigInt(batBytes) + 511n) / 512n * 512n > fileLength) throw truncated();
  const bat = new PagedTable(file, Number(batOffset), batBytes);
  for (let i = 0; i < entries; i++) {
    const entry = bat.u32(i * 4, false);
    if (entry !== S.BAT_UNALLOCATED && 512 * entry + bitmapBytes + blockSize > file.lengthBytes) throw truncated();
  }
  return { blockSize, bitmapBytes, bat, entries };
}

class VpcLayer implements ImageLayer {
  readonly format = 'vpc' as const;
  readonly virtualSizeBytes: number;
  readonly supportsBacking = false;
  readonly backing = null;
  readonly requestAlignmentBytes = 1;
  readonly details;
  readonly extraFiles = [];
  /** The footer says "fixed": everything is data at the guest offset (even with a dynamic header). */
  private readonly fixed: boolean;
  private readonly dynamic: Dynamic | null;

  constructor(readonly file: HostFile, readonly filename: string) {
    const { footer, atStart } = readFooter(file);
    const sectors = totalSectors(footer);
    if (sectors > S.MAX_SECTORS) throw errnoOpenError(filename, EFBIG, 'vpc: disk size above 2040 GiB');
    this.virtualSizeBytes = sectors * 512;
    const type = footer.readUInt32BE(S.FOOTER.diskType);
    this.fixed = type === S.TYPE_FIXED;
    this.dynamic = atStart ? readDynamic(file, footer, sectors) : null;
    this.details = {
      version: TYPE_NAMES[type] ?? `type ${type}`,
      ...(this.dynamic !== null ? { clusterSizeBytes: this.dynamic.blockSize } : {}),
    };
  }

  blockStatus(offsetBytes: number, lengthBytes: number): LayerStatus {
    const dyn = this.dynamic;
    if (this.fixed || dyn === null) {
      return { lengthBytes, data: true, zero: false, hostOffset: offsetBytes, hostFile: this.file, recurse: true };
    }
    const entryOf = (block: number): number => (block >= dyn.entries ? S.BAT_UNALLOCATED : dyn.bat.u32(block * 4, false));
    const first = Math.floor(offsetBytes / dyn.blockSize);
    const inBlock = offsetBytes % dyn.blockSize;
    const entry = entryOf(first);
    if (entry !== S.BAT_UNALLOCATED) {
      return {
        lengthBytes: dyn.blockSize - inBlock, data: true, zero: false,
        hostOffset: 512 * entry + dyn.bitmapBytes + inBlock, hostFile: this.file,
      };
    }
    const last = Math.ceil((offsetBytes + lengthBytes) / dyn.blockSize);
    let count = 1;
    while (first + count < last && entryOf(first + count) === S.BAT_UNALLOCATED) count++;
    return { lengthBytes: count * dyn.blockSize - inBlock, data: false, zero: true };
  }
}

export const vpcFormat: ImageFormat = {
  name: 'vpc',
  probe: (sector) => (Buffer.from(sector.buffer, sector.byteOffset, sector.byteLength).toString('latin1', 0, 8) === S.FOOTER_COOKIE ? 100 : 0),
  open: (file, filename) => new VpcLayer(file, filename),
};
