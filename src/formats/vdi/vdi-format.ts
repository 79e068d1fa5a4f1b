/**
 * VDI (VirtualBox) images, QEMU 7.2 semantics (paraphrased): unallocated
 * and discarded blocks read as zero (the driver has no backing files, so
 * they are `present` with `zero`), allocated blocks are data at
 * offset_data + index × 1 MiB — the block index is not checked against the
 * file — and static images ask for the host file's holes (RECURSE). QEMU
 * answers one block per call; runs of blocks of one kind (and, for data,
 * host-contiguous) are answered together, which merges identically.
 *
 * One deliberate difference: QEMU reads a block map that extends past the
 * end of the file as zeroes (every such block maps to block 0); imgaudit
 * refuses such an image (named structure and offset) instead.
 */
import { NotThisFormatError } from '../../errors.js';
import type { HostFile } from '../../io/host-file.js';
import { PagedTable } from '../common/paged-table.js';
import { openError } from '../common/open-errors.js';
import type { ImageFormat, ImageLayer, LayerStatus } from '../types.js';
import * as S from './spec.js';

const isNullUuid = (b: Buffer, at: number): boolean => b.subarray(at, at + S.UUID_BYTES).every((byte) => byte === 0);
/** QEMU words every refusal "unsupported VDI image (…)"; `code` says whether it is a feature or damage. */
const unsupported = (what: string, code = 'E_CORRUPT_HEADER') => openError(`unsupported VDI image (${what})`, code);

interface VdiHeader {
  imageType: number;
  offsetData: number;
  offsetBmap: number;
  virtualSizeBytes: number;
  blocksInImage: number;
}

function readVdiHeader(file: HostFile): VdiHeader {
  const h = file.readAt(0, S.HEADER_BYTES);
  // QEMU checks the size first, before the signature, as stored (not yet rounded).
  const rawDiskSize = h.readBigUInt64LE(S.HDR.diskSize);
  if (rawDiskSize > S.MAX_DISK_SIZE) {
    throw openError(`Unsupported VDI image size (size is 0x${rawDiskSize.toString(16)}, max supported is 0x${S.MAX_DISK_SIZE.toString(16)})`, 'E_UNSUPPORTED');
  }
  const signature = h.readUInt32LE(S.HDR.signature);
  if (signature !== S.VDI_SIGNATURE) {
    throw new NotThisFormatError(`Image not in VDI format (bad signature ${signature.toString(16).padStart(8, '0')})`);
  }
  const version = h.readUInt32LE(S.HDR.version);
  if (version !== S.VDI_VERSION_1_1) throw unsupported(`version ${version >>> 16}.${version & 0xffff}`, 'E_UNSUPPORTED_VERSION');
  const offsetBmap = h.readUInt32LE(S.HDR.offsetBmap);
  if (offsetBmap % S.SECTOR_SIZE !== 0) throw unsupported(`unaligned block map offset 0x${offsetBmap.toString(16)}`);
  const offsetData = h.readUInt32LE(S.HDR.offsetData);
  if (offsetData % S.SECTOR_SIZE !== 0) throw unsupported(`unaligned data offset 0x${offsetData.toString(16)}`);
  const sectorSize = h.readUInt32LE(S.HDR.sectorSize);
  if (sectorSize !== S.SECTOR_SIZE) throw unsupported(`sector size ${sectorSize} is not ${S.SECTOR_SIZE}`);
  const blockSize = h.readUInt32LE(S.HDR.blockSize);
  if (blockSize !== S.BLOCK_SIZE) throw unsupported(`block size ${blockSize} is not ${S.BLOCK_SIZE}`);
  // 'VBoxManage convert' writes sizes that are not sector multiples; QEMU rounds them up.
  const diskSize = ((rawDiskSize + 511n) / 512n) * 512n;
  const blocksInImage = h.readUInt32LE(S.HDR.blocksInImage);
  const room = BigInt(blocksInImage) * BigInt(blockSize);
  if (diskSize > room) throw unsupported(`disk size ${diskSize}, image bitmap has room for ${room}`);
  if (!isNullUuid(h, S.HDR.uuidLink)) throw unsupported('non-NULL link UUID', 'E_UNSUPPORTED');
  if (!isNullUuid(h, S.HDR.uuidParent)) throw unsupported('non-NULL parent UUID', 'E_UNSUPPORTED');
  if (blocksInImage > S.MAX_BLOCKS_IN_IMAGE) throw unsupported(`too many blocks ${blocksInImage}, max is ${S.MAX_BLOCKS_IN_IMAGE}`);
  return {
    imageType: h.readUInt32LE(S.HDR.imageType),
    offsetData, offsetBmap, blocksInImage,
    virtualSizeBytes: Number(diskSize),
  };
}

class VdiLayer implements ImageLayer {
  readonly format = 'vdi' as const;
  readonly virtualSizeBytes: number;
  readonly supportsBacking = false;
  readonly backing = null;
  readonly requestAlignmentBytes = 1;
  readonly details;
  readonly extraFiles = [];
  private readonly bmap: PagedTable;
  private readonly offsetData: number;
  private readonly isStatic: boolean;

  constructor(readonly file: HostFile, readonly filename: string) {
    const header = readVdiHeader(file);
    this.virtualSizeBytes = header.virtualSizeBytes;
    this.offsetData = header.offsetData;
    this.isStatic = header.imageType === S.TYPE_STATIC;
    const usedBlocks = Math.ceil(header.virtualSizeBytes / S.BLOCK_SIZE);
    const bmapBytes = usedBlocks * 4;
    if (header.offsetBmap + bmapBytes > file.sizeBytes) {
      throw openError(`vdi: block map of ${usedBlocks} entries at 0x${header.offsetBmap.toString(16)} extends beyond the end of the file (${file.sizeBytes} bytes)`);
    }
    this.bmap = new PagedTable(file, header.offsetBmap, bmapBytes);
    this.details = { clusterSizeBytes: S.BLOCK_SIZE, version: this.isStatic ? 'static' : 'dynamic' };
  }

  blockStatus(offsetBytes: number, lengthBytes: number): LayerStatus {
    const first = Math.floor(offsetBytes / S.BLOCK_SIZE);
    const inBlock = offsetBytes % S.BLOCK_SIZE;
    const last = Math.ceil((offsetBytes + lengthBytes) / S.BLOCK_SIZE); // exclusive
    const entry = this.bmap.u32(first * 4, true);
    let count = 1;
    if (entry >= S.FIRST_UNALLOCATED) {
      while (first + count < last && this.bmap.u32((first + count) * 4, true) >= S.FIRST_UNALLOCATED) count++;
      return { lengthBytes: count * S.BLOCK_SIZE - inBlock, data: false, zero: true };
    }
    while (first + count < last && this.bmap.u32((first + count) * 4, true) === entry + count) count++;
    return {
      lengthBytes: count * S.BLOCK_SIZE - inBlock, data: true, zero: false,
      hostOffset: this.offsetData + entry * S.BLOCK_SIZE + inBlock, hostFile: this.file,
      ...(this.isStatic ? { recurse: true } : {}),
    };
  }
}

export const vdiFormat: ImageFormat = {
  name: 'vdi',
  probe: (sector) => (sector.length >= S.HDR.signature + 4
    && Buffer.from(sector.buffer, sector.byteOffset, sector.byteLength).readUInt32LE(S.HDR.signature) === S.VDI_SIGNATURE ? 100 : 0),
  open: (file, filename) => new VdiLayer(file, filename),
};
