/**
 * VHD (QEMU's "vpc" driver) on-disk constants. Source: Microsoft's "Virtual
 * Hard Disk Image Format Specification" (footer, dynamic disk header, BAT).
 * Everything on disk is big-endian.
 */
export const FOOTER_COOKIE = 'conectix';
export const DYNAMIC_COOKIE = 'cxsparse';
export const FOOTER_BYTES = 512;
export const DYNAMIC_HEADER_BYTES = 1024;

/** Footer field offsets (bytes). */
export const FOOTER = {
  cookie: 0, features: 8, version: 12, dataOffset: 16, timestamp: 24, creatorApp: 28,
  creatorVersion: 32, creatorOs: 36, originalSize: 40, currentSize: 48,
  cylinders: 56, heads: 58, sectorsPerTrack: 59, diskType: 60, checksum: 64, uuid: 68,
} as const;

/** Dynamic disk header field offsets (bytes). */
export const DYNAMIC = {
  cookie: 0, dataOffset: 8, tableOffset: 16, version: 24, maxTableEntries: 28, blockSize: 32,
  checksum: 36, parentUuid: 40,
} as const;

export const TYPE_FIXED = 2;
export const TYPE_DYNAMIC = 3;
export const TYPE_DIFFERENCING = 4;

/** BAT entry of a block that is not allocated. */
export const BAT_UNALLOCATED = 0xffffffff;

/**
 * Creator applications whose images QEMU sizes by `current_size` instead of
 * the CHS geometry (Hyper-V, qemu with force_size, Disk2vhd, XenConverter,
 * XenServer).
 */
export const CURRENT_SIZE_CREATORS: readonly string[] = ['win ', 'qem2', 'd2v ', 'CTXS', 'tap\0'];
/** 65535 cylinders × 16 heads × 255 sectors: the geometry says "use current_size". */
export const MAX_GEOMETRY_SECTORS = 65535 * 16 * 255;
/** QEMU refuses disks above 2040 GiB (EFBIG). */
export const MAX_SECTORS = 0xff000000;

/** QEMU's limits on the BAT it reads at open. */
export const MAX_TABLE_ENTRIES = 0x1fffffff; // INT_MAX / 4
/** A single read is at most BDRV_REQUEST_MAX_BYTES. */
export const MAX_READ_BYTES = 0x7ffffe00;

