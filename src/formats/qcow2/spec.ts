/**
 * qcow2 on-disk constants. Source: QEMU docs/interop/qcow2.txt (format
 * versions 2 and 3). Everything on disk is big-endian.
 */
export const QCOW2_MAGIC = 0x514649fb; // "QFI\xfb"

/** Header field offsets (bytes). */
export const HDR = {
  magic: 0, version: 4, backingFileOffset: 8, backingFileSize: 16, clusterBits: 20,
  size: 24, cryptMethod: 32, l1Size: 36, l1TableOffset: 40, refcountTableOffset: 48,
  refcountTableClusters: 56, nbSnapshots: 60, snapshotsOffset: 64,
  incompatibleFeatures: 72, compatibleFeatures: 80, autoclearFeatures: 88,
  refcountOrder: 96, headerLength: 100, compressionType: 104,
} as const;

export const V2_HEADER_BYTES = 72;
export const V3_MIN_HEADER_BYTES = 104;

/** Header extension types. */
export const EXT_END = 0x00000000;
export const EXT_BACKING_FORMAT = 0xe2792aca;
export const EXT_FEATURE_TABLE = 0x6803f857;
export const EXT_CRYPTO_HEADER = 0x0537be77;
export const EXT_BITMAPS = 0x23852875;
export const EXT_DATA_FILE = 0x44415441;

/** Incompatible feature bits. */
export const INCOMPAT_DIRTY = 1 << 0;
export const INCOMPAT_CORRUPT = 1 << 1;
export const INCOMPAT_DATA_FILE = 1 << 2;
export const INCOMPAT_COMPRESSION = 1 << 3;
export const INCOMPAT_EXTL2 = 1 << 4;
export const INCOMPAT_KNOWN_MASK = 0x1f;
/** Autoclear bits. */
export const AUTOCLEAR_BITMAPS = 1 << 0;
export const AUTOCLEAR_DATA_FILE_RAW = 1 << 1;

export const CRYPT_NONE = 0;
export const CRYPT_AES = 1;
export const CRYPT_LUKS = 2;

/** Cluster sizes QEMU accepts: 2^9 … 2^21. */
export const MIN_CLUSTER_BITS = 9;
export const MAX_CLUSTER_BITS = 21;
/** Subclusters per cluster with extended L2 entries. */
export const EXTL2_SUBCLUSTERS = 32;

/** Limits QEMU 7.2 enforces on tables read at open (bytes). */
export const MAX_L1_TABLE_BYTES = 32 * 1024 * 1024;
export const MAX_REFTABLE_BYTES = 8 * 1024 * 1024;
export const MAX_SNAPSHOTS = 65536;
export const SNAPSHOT_HEADER_BYTES = 40;
/** QEMU's QCOW_MAX_SNAPSHOT_EXTRA_DATA: larger extra data in an entry refuses the image. */
export const MAX_SNAPSHOT_EXTRA_BYTES = 1024;
/** QEMU's QCOW_MAX_SNAPSHOTS_SIZE (1 KiB per snapshot): the whole table's limit. */
export const MAX_SNAPSHOT_TABLE_BYTES = 1024 * MAX_SNAPSHOTS;
/** Sizes QEMU requires of the bitmaps and crypto header extensions. */
export const BITMAPS_EXT_BYTES = 24;
export const CRYPTO_EXT_BYTES = 16;
/** A backing file name is at most 1023 bytes. */
export const MAX_BACKING_NAME_BYTES = 1023;
/** QEMU keeps the backing format in char[16]: a longer extension is refused. */
export const BACKING_FORMAT_BYTES = 16;
/**
 * Largest virtual size we map: guest offsets are multiples of 512 (or of
 * the cluster size), which doubles hold exactly up to 2^62; QEMU's own limit
 * is INT64_MAX. Host offsets must stay below 2^53 (checked per entry).
 */
export const MAX_VIRTUAL_SIZE = 1n << 62n;
/**
 * L2 tables kept in memory per layer (bounded cache; at least 16 tables).
 * The map walks them in order, once each: a scan maps many chains at once,
 * so a small cache keeps its memory small.
 */
export const L2_CACHE_BYTES = 1024 * 1024;
/** How far ahead of the walk L2 tables are requested from the kernel. */
export const READ_AHEAD_BYTES = 8 * 1024 * 1024;
/**
 * qemu caps one block-status answer at INT_MAX bytes. The cap is invisible
 * after merging; we use the largest multiple of 512 below it so that
 * offsets stay multiples of 512 (exact as doubles up to 2^62).
 */
export const MAX_ANSWER_BYTES = 0x7ffffe00;

/** Bits of an L2/L1 entry, split in u32 halves (hi = bits 32..63). */
export const HI_COPIED = 0x80000000;
export const HI_COMPRESSED = 0x40000000;
/** Offset mask 0x00fffffffffffe00 as halves. */
export const HI_OFFSET_MASK = 0x00ffffff;
export const LO_OFFSET_MASK = 0xfffffe00;
export const LO_ZERO = 1;
