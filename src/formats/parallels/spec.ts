/**
 * Parallels expandable image constants. Source: QEMU
 * docs/interop/parallels.txt. Everything on disk is little-endian.
 */
export const MAGIC_V1 = 'WithoutFreeSpace'; // BAT entries in sectors, size field 32-bit
export const MAGIC_V2 = 'WithouFreSpacExt'; // BAT entries in clusters
export const VERSION = 2;
export const HEADER_BYTES = 64;

/** Header field offsets (bytes). */
export const HDR = {
  magic: 0, version: 16, heads: 20, cylinders: 24, tracks: 28, batEntries: 32,
  nbSectors: 36, inUse: 44, dataOff: 48, flags: 52, extOff: 56,
} as const;

/** in_use value of an image open read-write (not closed cleanly). */
export const IN_USE_MAGIC = 0x746f6e59;

/** QEMU's limits at open. */
export const MAX_TRACKS = Math.floor(0x7fffffff / 513);
export const MAX_BAT_ENTRIES = Math.floor(0x7fffffff / 4);
/** A single read is at most BDRV_REQUEST_MAX_BYTES (header + BAT are read at once). */
export const MAX_READ_BYTES = 0x7ffffe00;

/** Format Extension cluster (addressed by ext_off, in sectors). */
export const EXT_MAGIC = 0xab234cef23dcea87n;
export const EXT_HEADER_BYTES = 24; // magic, 16-byte MD5 of the rest of the cluster
export const FEATURE_HEADER_BYTES = 24; // magic, flags, data_size, unused
export const FEATURE_END = 0n;
export const FEATURE_DIRTY_BITMAP = 0x20385fae252cb34an;
/** Dirty bitmap feature data: size u64, id[16], granularity u32 (sectors), l1_size u32, then the L1 table. */
export const BITMAP_HEADER_BYTES = 32;

/** Largest extension cluster imgaudit reads (bytes). */
export const MAX_EXT_CLUSTER_BYTES = 64 * 1024 * 1024;
/** parallels is sector-based in QEMU 7.2: request_alignment 512. */
export const REQUEST_ALIGNMENT = 512;
