/**
 * VHDX constants. Source: Microsoft's "VHDX Format Specification" v1.00
 * (file identifier, headers, region table, log, metadata, BAT), with the
 * checks QEMU 7.2 applies on open. Everything on disk is little-endian;
 * GUIDs are given here as their 16 bytes in file order.
 */
export const FILE_SIGNATURE = 'vhdxfile';

export const HEADER1_OFFSET = 64 * 1024;
export const HEADER2_OFFSET = 128 * 1024;
export const HEADER_BYTES = 4096;
export const HEADER_SIGNATURE = 0x64616568; // "head"
/** Header field offsets. */
export const HDR = {
  signature: 0, checksum: 4, sequenceNumber: 8, fileWriteGuid: 16, dataWriteGuid: 32, logGuid: 48,
  logVersion: 64, version: 66, logLength: 68, logOffset: 72,
} as const;

export const REGION_TABLE_OFFSET = 192 * 1024;
export const REGION_TABLE_BYTES = 64 * 1024;
export const REGION_SIGNATURE = 0x69676572; // "regi"
export const REGION_MAX_ENTRIES = 2047;
export const REGION_ENTRY_BYTES = 32;
export const REGION_REQUIRED = 1;
export const GUID_BAT = '6677c22d23f600429d64115e9bfd4a08';
export const GUID_METADATA = '06a27c8b90479a4bb8fe575f050f886e';

export const METADATA_SIGNATURE = 'metadata';
export const METADATA_TABLE_BYTES = 64 * 1024;
export const METADATA_ENTRY_BYTES = 32;
export const METADATA_REQUIRED = 1 << 2;
export const GUID_FILE_PARAMETERS = '3767a1ca36fa434db3b633f0aa44e76b';
export const GUID_VIRTUAL_DISK_SIZE = '2442a52f1bcd7648b2115dbed83bf4b8';
export const GUID_PAGE83 = 'ab12cabee6b2234593efc309e000c746';
export const GUID_LOGICAL_SECTOR_SIZE = '1dbf41816fa90947ba47f233a8faab5f';
export const GUID_PHYSICAL_SECTOR_SIZE = 'c748a3cd5d4471449cc9e9885251c556';
export const GUID_PARENT_LOCATOR = '2d5fd3a80bb34d45abf7d3d84834ab0c';
export const PARAMS_HAS_PARENT = 1 << 1;

export const BLOCK_SIZE_MIN = 1024 * 1024;
export const BLOCK_SIZE_MAX = 256 * 1024 * 1024;
export const MAX_SECTORS_PER_BLOCK = 1 << 23;

/** BAT entries: state in bits 0–2, file offset (MiB units) in bits 20–63. */
export const BAT_STATE_MASK = 7n;
export const BAT_FULLY_PRESENT = 6n;
export const BAT_OFFSET_MASK = 0xfffffffffff00000n;

export const LOG_MIN_SIZE = 1024 * 1024;
export const LOG_SECTOR = 4096;
export const LOG_ENTRY_SIGNATURE = 0x65676f6c; // "loge"
export const LOG_ZERO_SIGNATURE = 0x6f72657a; // "zero"
export const LOG_DESC_SIGNATURE = 0x63736564; // "desc"
export const LOG_HEADER_BYTES = 64;
export const LOG_DESCRIPTOR_BYTES = 32;
/** Log entry header field offsets. */
export const LOG = {
  signature: 0, checksum: 4, entryLength: 8, tail: 12, sequenceNumber: 16, descriptorCount: 24,
  logGuid: 32, flushedFileOffset: 48, lastFileOffset: 56,
} as const;

/** BAT entries read per chunk while checking them. */
export const BAT_CHUNK_ENTRIES = 128 * 1024;
/** vhdx is sector-based in QEMU 7.2: request_alignment 512. */
export const REQUEST_ALIGNMENT = 512;
