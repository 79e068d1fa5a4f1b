/**
 * Mutations of a valid qcow2 image held in memory. Each returns a short
 * description (printed with the seed on failure) and edits the buffer in
 * place; truncation and growth return a new buffer.
 */
import type { Rng } from '../support/prng.js';
import { FIELDS, type FieldName, type Qcow2Layout } from './qcow2-layout.js';

export interface Mutated { image: Buffer; what: string[] }

const U64_MAX = (1n << 64n) - 1n;

/** Values that break parsers: boundaries, powers of two, the file's own sizes. */
export function interesting(rng: Rng, width: number, layout: Qcow2Layout, original: bigint): bigint {
  const max = width === 8 ? U64_MAX : (1n << BigInt(8 * width)) - 1n;
  const size = BigInt(layout.fileSize);
  const cs = BigInt(layout.clusterSize);
  const pool = [
    0n, 1n, 2n, 3n, 4n, 7n, 8n, 9n, 16n, 21n, 22n, 31n, 32n, 63n, 64n, 72n, 104n, 112n, 255n, 512n, 1023n, 1024n,
    cs, cs - 1n, cs + 512n, size, size - 1n, size + cs, size * 2n, original + 1n, original - 1n, original * 2n,
    original + cs, 0x7fffffffn, 0x80000000n, 0xffffffffn, 1n << 32n, (1n << 53n) - 1n, 1n << 53n, 1n << 55n,
    1n << 56n, 1n << 62n, 1n << 63n, U64_MAX, BigInt(rng.nextU32()), (BigInt(rng.nextU32()) << 32n) | BigInt(rng.nextU32()),
    BigInt(rng.int(0, Math.max(0, Math.floor(layout.fileSize / layout.clusterSize)))) * cs,
  ];
  const value = rng.pick(pool);
  return value < 0n ? 0n : value & max;
}

function writeUInt(image: Buffer, at: number, width: number, value: bigint): void {
  if (at + width > image.length) return;
  if (width === 8) image.writeBigUInt64BE(value, at);
  else if (width === 4) image.writeUInt32BE(Number(value), at);
  else image[at] = Number(value & 0xffn);
}

const readUInt = (image: Buffer, at: number, width: number): bigint =>
  at + width > image.length ? 0n : width === 8 ? image.readBigUInt64BE(at) : width === 4 ? BigInt(image.readUInt32BE(at)) : BigInt(image[at]!);

export function mutateHeaderField(rng: Rng, image: Buffer, layout: Qcow2Layout): string {
  const name = rng.pick(Object.keys(FIELDS) as FieldName[]);
  const [at, width] = FIELDS[name];
  const value = interesting(rng, width, layout, readUInt(image, at, width));
  writeUInt(image, at, width, value);
  return `header.${name}=0x${value.toString(16)}`;
}

/** Bit flips in the feature words (known and unknown bits). */
export function mutateFeatureBits(rng: Rng, image: Buffer): string {
  const at = rng.pick([72, 80, 88]);
  const bit = rng.pick([0, 1, 2, 3, 4, 5, 31, 32, 63, rng.int(0, 63)]);
  writeUInt(image, at, 8, readUInt(image, at, 8) ^ (1n << BigInt(bit)));
  return `features@${at}^bit${bit}`;
}

const EXT_TYPES = [0, 0xe2792aca, 0x6803f857, 0x23852875, 0x0537be77, 0x44415441, 0x12345678];
const NAMES = ['qcow2', 'raw', 'vmdk', 'nosuch', '', 'x'.repeat(15), 'x'.repeat(16), 'x'.repeat(300), 'json:{}',
  'case.qcow2', '/dev/zero', '/proc/self/mem', '.', '/', 'nbd:localhost:1', 'foo:bar', '../../../../etc/passwd',
  'fz-base.raw', 'missing.qcow2', 'a\0b', 'file:case.qcow2'];

export function mutateExtension(rng: Rng, image: Buffer, layout: Qcow2Layout): string {
  const ext = layout.extensions.length > 0 ? rng.pick(layout.extensions) : { at: layout.headerLength, type: 0, length: 0 };
  switch (rng.int(0, 3)) {
    case 0: {
      const length = Number(interesting(rng, 4, layout, BigInt(ext.length)));
      writeUInt(image, ext.at + 4, 4, BigInt(length));
      return `ext@${ext.at}.length=${length}`;
    }
    case 1: {
      const type = rng.pick(EXT_TYPES);
      writeUInt(image, ext.at, 4, BigInt(type));
      return `ext@${ext.at}.type=0x${type.toString(16)}`;
    }
    case 2: {
      const body = Buffer.from(rng.pick(NAMES), 'latin1');
      const type = rng.pick([0xe2792aca, 0x44415441, 0x6803f857]);
      if (ext.at + 16 + body.length > layout.clusterSize || ext.at + 16 + body.length > image.length) return 'ext:no-room';
      writeUInt(image, ext.at, 4, BigInt(type));
      writeUInt(image, ext.at + 4, 4, BigInt(body.length));
      body.copy(image, ext.at + 8);
      const next = ext.at + 8 + Math.ceil(body.length / 8) * 8;
      writeUInt(image, next, 8, 0n);
      return `ext@${ext.at}=0x${type.toString(16)}:${JSON.stringify(body.toString('latin1'))}`;
    }
    default: {
      for (let i = 0; i < rng.int(1, 8); i++) {
        const at = ext.at + rng.int(0, 15);
        if (at < image.length) image[at] = rng.int(0, 255);
      }
      return `ext@${ext.at}:bytes`;
    }
  }
}

export function mutateBackingName(rng: Rng, image: Buffer, layout: Qcow2Layout): string {
  const name = Buffer.from(rng.pick(NAMES), 'latin1');
  const at = layout.backingOffset !== 0 ? layout.backingOffset : Math.min(layout.clusterSize, image.length) - 1100;
  if (rng.chance(0.3) || at <= 0) {
    const field = rng.pick(['backingFileOffset', 'backingFileSize'] as const);
    const [fieldAt, width] = FIELDS[field];
    const value = interesting(rng, width, layout, readUInt(image, fieldAt, width));
    writeUInt(image, fieldAt, width, value);
    return `header.${field}=0x${value.toString(16)}`;
  }
  if (at + name.length > image.length) return 'backing:no-room';
  name.copy(image, at);
  writeUInt(image, 8, 8, BigInt(at));
  writeUInt(image, 16, 4, BigInt(name.length));
  return `backing=${JSON.stringify(name.toString('latin1'))}`;
}

/** An L1 entry: past EOF, unaligned, huge, at metadata (header, L1, refcounts, another L2). */
export function mutateL1(rng: Rng, image: Buffer, layout: Qcow2Layout): string {
  const index = layout.l2Tables.length > 0 && rng.chance(0.7) ? rng.pick(layout.l2Tables).index : rng.int(0, Math.max(0, layout.l1Size - 1));
  const targets = [0, layout.l1Offset, layout.refcountTableOffset, ...layout.refcountBlocks, ...layout.l2Tables.map((t) => t.offset)];
  const offset = rng.chance(0.5) ? BigInt(rng.pick(targets)) : interesting(rng, 8, layout, 0n);
  const value = rng.chance(0.5) ? offset | (1n << 63n) : offset;
  writeUInt(image, layout.l1Offset + index * 8, 8, value);
  return `L1[${index}]=0x${value.toString(16)}`;
}

/** An L2 entry (or extended bitmap) of an allocated L2 table. */
export function mutateL2(rng: Rng, image: Buffer, layout: Qcow2Layout): string {
  if (layout.l2Tables.length === 0) return mutateL1(rng, image, layout);
  const table = rng.pick(layout.l2Tables);
  const entries = layout.clusterSize / layout.l2EntryBytes;
  const index = rng.chance(0.5) ? rng.int(0, Math.min(entries - 1, 64)) : rng.int(0, entries - 1);
  const at = table.offset + index * layout.l2EntryBytes + (layout.l2EntryBytes === 16 && rng.chance(0.4) ? 8 : 0);
  const kind = rng.int(0, 5);
  const targets = [0, layout.l1Offset, table.offset, layout.refcountTableOffset, layout.fileSize, layout.fileSize + layout.clusterSize];
  const value = kind === 0 ? BigInt(rng.pick(targets)) | (rng.chance(0.5) ? 1n << 63n : 0n)
    : kind === 1 ? (1n << 62n) | (BigInt(rng.nextU32()) << 20n) | BigInt(rng.nextU32())
      : kind === 2 ? (readUInt(image, at, 8) | 1n)
        : kind === 3 ? readUInt(image, at, 8) + BigInt(rng.pick([1, 512, layout.clusterSize, -512]))
          : interesting(rng, 8, layout, readUInt(image, at, 8));
  writeUInt(image, at, 8, value < 0n ? 0n : value & U64_MAX);
  return `L2@${at}=0x${(value < 0n ? 0n : value & U64_MAX).toString(16)}`;
}

export function mutateRefcounts(rng: Rng, image: Buffer, layout: Qcow2Layout): string {
  const blocks = layout.refcountBlocks;
  if (blocks.length > 0 && rng.chance(0.6)) {
    const at = rng.pick(blocks) + rng.int(0, layout.clusterSize - 1);
    const fill = rng.int(0, 255);
    image.fill(fill, at, Math.min(image.length, at + rng.int(1, 4096)));
    return `refblock@${at}.fill=${fill}`;
  }
  const at = layout.refcountTableOffset + 8 * rng.int(0, 3);
  const value = interesting(rng, 8, layout, 0n);
  writeUInt(image, at, 8, value);
  return `reftable@${at}=0x${value.toString(16)}`;
}

export function flipBytes(rng: Rng, image: Buffer, layout: Qcow2Layout): string {
  if (image.length === 0) return 'flip:empty';
  const metadataEnd = Math.min(image.length, Math.max(layout.l1Offset, layout.refcountTableOffset) + layout.clusterSize);
  const count = rng.int(1, 16);
  for (let i = 0; i < count; i++) {
    const at = rng.chance(0.8) ? rng.int(0, Math.max(0, metadataEnd - 1)) : rng.int(0, image.length - 1);
    image[at] = rng.chance(0.5) ? rng.int(0, 255) : image[at]! ^ (1 << rng.int(0, 7));
  }
  return `flip×${count}`;
}

export function resize(rng: Rng, image: Buffer, layout: Qcow2Layout): Buffer {
  const cuts = [0, 1, 4, 71, 72, 103, 104, layout.clusterSize - 1, layout.clusterSize, layout.l1Offset + 4,
    layout.refcountTableOffset + 8, ...layout.l2Tables.map((t) => t.offset + rng.int(0, layout.clusterSize)),
    rng.int(0, image.length), image.length - 1, image.length + rng.int(1, 3 * layout.clusterSize)];
  const length = Math.max(0, rng.pick(cuts));
  if (length <= image.length) return image.subarray(0, length);
  return Buffer.concat([image, Buffer.alloc(length - image.length, rng.chance(0.5) ? 0 : 0xa5)]);
}
