/**
 * VDI (VirtualBox) on-disk constants, as QEMU 7.2's vdi driver reads them.
 * Everything on disk is little-endian. The block map holds one u32 per
 * 1 MiB block: a block index, or 0xFFFFFFFF (free) / 0xFFFFFFFE (discarded).
 */
export const VDI_SIGNATURE = 0xbeda107f;
/** Version 1.1 is the only one QEMU opens. */
export const VDI_VERSION_1_1 = 0x00010001;

/** Header field offsets (bytes). */
export const HDR = {
  signature: 0x40, version: 0x44, headerSize: 0x48, imageType: 0x4c, imageFlags: 0x50,
  offsetBmap: 0x154, offsetData: 0x158, sectorSize: 0x168, diskSize: 0x170, blockSize: 0x178,
  blockExtra: 0x17c, blocksInImage: 0x180, blocksAllocated: 0x184,
  uuidImage: 0x188, uuidLastSnap: 0x198, uuidLink: 0x1a8, uuidParent: 0x1b8,
} as const;
export const HEADER_BYTES = 0x200;
export const UUID_BYTES = 16;

export const TYPE_DYNAMIC = 1;
export const TYPE_STATIC = 2;

export const SECTOR_SIZE = 512;
/** QEMU only opens images with 1 MiB blocks. */
export const BLOCK_SIZE = 1024 * 1024;
/** Block map entries at or above this value are unallocated (free or discarded). */
export const FIRST_UNALLOCATED = 0xfffffffe;
/** QEMU's cap on blocks_in_image: INT_MAX rounded down to a sector, over 4 bytes per entry. */
export const MAX_BLOCKS_IN_IMAGE = 536870784;
/** QEMU's largest disk: MAX_BLOCKS_IN_IMAGE blocks of 1 MiB. */
export const MAX_DISK_SIZE = BigInt(MAX_BLOCKS_IN_IMAGE) * BigInt(BLOCK_SIZE);

