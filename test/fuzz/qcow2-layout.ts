/**
 * Where the structures of a *valid* qcow2 image lie (docs/interop/qcow2.txt),
 * so mutators can aim at them: header fields, extensions, backing name,
 * L1 / L2 tables, refcount table and blocks. Written for the fuzzer only,
 * independent of the engine's parser; assumes a well-formed input.
 */

/** Header fields: byte offset and width. */
export const FIELDS = {
  version: [4, 4], backingFileOffset: [8, 8], backingFileSize: [16, 4], clusterBits: [20, 4], size: [24, 8],
  cryptMethod: [32, 4], l1Size: [36, 4], l1TableOffset: [40, 8], refcountTableOffset: [48, 8],
  refcountTableClusters: [56, 4], nbSnapshots: [60, 4], snapshotsOffset: [64, 8], incompatibleFeatures: [72, 8],
  compatibleFeatures: [80, 8], autoclearFeatures: [88, 8], refcountOrder: [96, 4], headerLength: [100, 4],
  compressionType: [104, 1],
} as const satisfies Record<string, readonly [number, number]>;

export type FieldName = keyof typeof FIELDS;

export interface Extension { at: number; type: number; length: number }

export interface Qcow2Layout {
  fileSize: number;
  version: number;
  clusterSize: number;
  headerLength: number;
  extensions: Extension[];
  backingOffset: number;
  backingSize: number;
  l1Offset: number;
  l1Size: number;
  /** Offsets of the allocated L2 tables, by L1 index. */
  l2Tables: Array<{ index: number; offset: number }>;
  /** L2 entry size: 8, or 16 with extended L2. */
  l2EntryBytes: number;
  refcountTableOffset: number;
  refcountTableClusters: number;
  refcountBlocks: number[];
}

const u64 = (b: Buffer, at: number) => Number(b.readBigUInt64BE(at) & 0x00ffffffffffffffn);
/** Bits 9..55 of a table entry (L1, refcount table). */
const tableOffset = (b: Buffer, at: number) => Number(b.readBigUInt64BE(at) & 0x00fffffffffffe00n);

export function readLayout(image: Buffer): Qcow2Layout {
  const version = image.readUInt32BE(4);
  const clusterSize = 2 ** image.readUInt32BE(20);
  const headerLength = version >= 3 ? image.readUInt32BE(100) : 72;
  const backingOffset = u64(image, 8);
  const extensions: Extension[] = [];
  const end = backingOffset !== 0 ? backingOffset : clusterSize;
  for (let at = headerLength; at + 8 <= Math.min(end, image.length);) {
    const type = image.readUInt32BE(at);
    const length = image.readUInt32BE(at + 4);
    extensions.push({ at, type, length });
    if (type === 0) break;
    at += 8 + Math.ceil(length / 8) * 8;
  }
  const l1Offset = u64(image, 40);
  const l1Size = image.readUInt32BE(36);
  const l2Tables: Array<{ index: number; offset: number }> = [];
  for (let i = 0; i < l1Size && l1Offset + 8 * i + 8 <= image.length; i++) {
    const offset = tableOffset(image, l1Offset + 8 * i);
    if (offset !== 0) l2Tables.push({ index: i, offset });
  }
  const refcountTableOffset = u64(image, 48);
  const refcountTableClusters = image.readUInt32BE(56);
  const refcountBlocks: number[] = [];
  for (let i = 0; i < (refcountTableClusters * clusterSize) / 8 && refcountTableOffset + 8 * i + 8 <= image.length; i++) {
    const offset = tableOffset(image, refcountTableOffset + 8 * i);
    if (offset !== 0) refcountBlocks.push(offset);
  }
  const extendedL2 = version >= 3 && (image.readUInt32BE(76) & 0x10) !== 0;
  return {
    fileSize: image.length, version, clusterSize, headerLength, extensions, backingOffset,
    backingSize: image.readUInt32BE(16), l1Offset, l1Size, l2Tables, l2EntryBytes: extendedL2 ? 16 : 8,
    refcountTableOffset, refcountTableClusters, refcountBlocks,
  };
}
