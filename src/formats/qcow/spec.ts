/**
 * qcow (version 1) on-disk constants, as QEMU 7.2's qcow driver reads them.
 * Everything on disk is big-endian; L1/L2 entries are u64 host offsets,
 * bit 63 marking a compressed cluster.
 */
export const QCOW_MAGIC = 0x514649fb; // "QFI\xfb", shared with qcow2
export const QCOW_VERSION = 1;

/** Header field offsets (bytes). */
export const HDR = {
  magic: 0, version: 4, backingFileOffset: 8, backingFileSize: 16, mtime: 20, size: 24,
  clusterBits: 32, l2Bits: 33, cryptMethod: 36, l1TableOffset: 40,
} as const;
export const HEADER_BYTES = 48;

export const CRYPT_NONE = 0;
export const CRYPT_AES = 1;

/** Cluster sizes 512 … 64 KiB; L2 tables of 512 B … 64 KiB (entries × 8). */
export const MIN_CLUSTER_BITS = 9;
export const MAX_CLUSTER_BITS = 16;
export const MIN_L2_BITS = 6;
export const MAX_L2_BITS = 13;
/** QEMU: l1_size ≤ INT_MAX / 8. */
export const MAX_L1_ENTRIES = Math.floor(0x7fffffff / 8);
/** A backing file name is at most 1023 bytes. */
export const MAX_BACKING_NAME_BYTES = 1023;

/** Entry bit 63: compressed cluster (as the high u32: bit 31). */
export const HI_COMPRESSED = 0x80000000;

/** L2 tables kept in memory per layer. */
export const L2_CACHE_BYTES = 4 * 1024 * 1024;
