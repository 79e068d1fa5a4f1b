/**
 * VMDK constants. Sources: VMware's "Virtual Disk Format 1.1" (sparse
 * extent header, grain directory/tables, descriptor file, stream-optimized
 * markers) and the ESX 2.x "COWD" sparse header, with the limits QEMU 7.2
 * enforces. Binary structures are little-endian (the magic is compared as a
 * big-endian u32, as QEMU does).
 */
export const VMDK4_MAGIC = 0x4b444d56; // "KDMV"
export const VMDK3_MAGIC = 0x434f5744; // "COWD"

/** VMDK4 sparse header field offsets (bytes from the start of the extent). */
export const V4 = {
  magic: 0, version: 4, flags: 8, capacity: 12, granularity: 20, descOffset: 28, descSize: 36,
  numGtesPerGt: 44, rgdOffset: 48, gdOffset: 56, grainOffset: 64, checkBytes: 73, compressAlgorithm: 77,
} as const;
export const V4_HEADER_BYTES = 79;

/** COWD (VMDK3) header field offsets. */
export const V3 = {
  magic: 0, version: 4, flags: 8, diskSectors: 12, granularity: 16, l1dirOffset: 20, l1dirSize: 24,
} as const;
export const V3_HEADER_BYTES = 28;
/** COWD grain tables hold 4096 entries. */
export const V3_GT_ENTRIES = 4096;

/** VMDK4 header flags. */
export const FLAG_RGD = 1 << 1;
export const FLAG_ZERO_GRAIN = 1 << 2;
export const COMPRESSION_DEFLATE = 1;
/** gd_offset of a stream-optimized image whose real header is in the footer. */
export const GD_AT_END = 0xffffffffffffffffn;
/** Stream-optimized markers (type field). */
export const MARKER_END_OF_STREAM = 0;
export const MARKER_FOOTER = 3;
/** Footer marker, footer (magic + header), end-of-stream marker: three sectors. */
export const FOOTER_AREA_BYTES = 1536;

/** Grain table entry of a zeroed grain (only with FLAG_ZERO_GRAIN). */
export const GTE_ZEROED = 1;

/** QEMU's limits. */
export const MAX_VERSION = 3;
export const MAX_GTES_PER_GT = 512;
export const MAX_GRANULARITY_SECTORS = 0x200000; // 1 GiB grains
export const MAX_L1_ENTRIES = 32 * 1024 * 1024;
/** Descriptor text QEMU reads: at most 1 MiB - 1 bytes. */
export const MAX_DESCRIPTOR_BYTES = (1 << 20) - 1;
/** Bytes of the descriptor QEMU searches for CID, parentCID and parentFileNameHint. */
export const DESC_SIZE = 20 * 512;
/** Descriptor of a sparse file starts at sector 1 for those searches. */
export const SPARSE_DESC_OFFSET = 0x200;
/** createType is copied into char[128]. */
export const CREATE_TYPE_BUFFER = 128;
/** parentFileNameHint is copied into char[PATH_MAX]. */
export const BACKING_NAME_BUFFER = 4096;

/** createType values QEMU opens from a descriptor file. */
export const DESCRIPTOR_TYPES: readonly string[] = [
  'monolithicFlat', 'vmfs', 'vmfsSparse', 'seSparse', 'twoGbMaxExtentSparse', 'twoGbMaxExtentFlat',
];

/** imgaudit's own limits. */
export const MAX_EXTENTS = 65536;
/** Nested descriptors (a sparse header with capacity 0 pointing at a descriptor). */
export const MAX_DESCRIPTOR_NESTING = 4;
/** Grain tables kept in memory per extent. */
export const GT_CACHE_BYTES = 1024 * 1024;
