/**
 * QED on-disk constants. Source: QEMU docs/interop/qed_spec.txt. Everything
 * on disk is little-endian; tables hold u64 host offsets (0 = unallocated,
 * 1 = zero cluster).
 */
export const QED_MAGIC = 0x00444551; // "QED\0"

/** Header field offsets (bytes). */
export const HDR = {
  magic: 0, clusterSize: 4, tableSize: 8, headerSize: 12, features: 16, compatFeatures: 24,
  autoclearFeatures: 32, l1TableOffset: 40, imageSize: 48, backingNameOffset: 56, backingNameSize: 60,
} as const;
export const HEADER_BYTES = 64;

/** Feature bits. */
export const F_BACKING_FILE = 0x1n;
export const F_NEED_CHECK = 0x2n;
export const F_BACKING_FORMAT_NO_PROBE = 0x4n;
export const F_KNOWN_MASK = 0x7n;

/** Cluster sizes QEMU accepts: powers of two from 4 KiB to 64 MiB. */
export const MIN_CLUSTER_SIZE = 4096;
export const MAX_CLUSTER_SIZE = 64 * 1024 * 1024;
/** Table sizes (in clusters) QEMU accepts: powers of two from 1 to 16. */
export const MIN_TABLE_SIZE = 1;
export const MAX_TABLE_SIZE = 16;

/** Table entries with a meaning of their own. */
export const UNALLOCATED = 0;
export const ZERO_CLUSTER = 1;

/** QEMU reads the backing name into char[PATH_MAX]: a name of 4096 bytes or more fails. */
export const BACKING_NAME_BUFFER = 4096;

/** qed is sector-based in QEMU 7.2: request_alignment 512. */
export const REQUEST_ALIGNMENT = 512;
