/**
 * Disagreements with qemu-img 7.2 found by the fuzzers and reported to the
 * engine's owner. Each has a minimal reproducer (a mutation of a small built
 * image) run by known-disagreements.test.ts with `it.fails`, so the suite
 * turns red the day the engine is fixed and the entry must be removed; and
 * a pattern of qemu-img's message, so the random differential fuzzer counts
 * such cases as "known" instead of failing on them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { buildQcow2 } from '../support/qcow2-builder.js';

export interface KnownDisagreement {
  id: string;
  /** qemu-img's message (after "Could not open 'F': "). */
  qemu: RegExp;
  /** Writes the reproducer image into `dir` and returns its name. */
  build(dir: string): string;
}

const M = 1 << 20;

/** A valid 4 MiB v3 image with one data cluster, edited by `edit` before it is written back. */
function image(dir: string, name: string, edit: (header: Buffer, fileSize: number) => void,
  extra: Parameters<typeof buildQcow2>[1] = { virtualSize: 4 * M }): string {
  const file = path.join(dir, name);
  const built = buildQcow2(file, { clusters: [{ guest: 0, kind: 'data' }], ...extra });
  const fd = fs.openSync(file, 'r+');
  try {
    const header = Buffer.alloc(4096);
    fs.readSync(fd, header, 0, 4096, 0);
    edit(header, built.fileSize);
    fs.writeSync(fd, header, 0, 4096, 0);
  } finally {
    fs.closeSync(fd);
  }
  return name;
}

/** Puts one header extension at 112 (the builder's header length) followed by the end marker. */
const extension = (header: Buffer, type: number, body: Buffer) => {
  header.writeUInt32BE(type, 112);
  header.writeUInt32BE(body.length, 116);
  body.copy(header, 120);
  header.writeBigUInt64BE(0n, 120 + Math.ceil(body.length / 8) * 8);
};

const REFUSED_BY_QEMU: readonly KnownDisagreement[] = [
  { id: 'crypt_method > 2', qemu: /Unsupported encryption method -?\d+/,
    build: (dir) => image(dir, 'crypt3.qcow2', (h) => h.writeUInt32BE(3, 32)) },
  { id: 'encrypted image without --object secret (imgaudit maps it without a key)', qemu: /Parameter 'encrypt.key-secret' is required for cipher/,
    build: (dir) => image(dir, 'aes.qcow2', (h) => h.writeUInt32BE(1, 32)) },
  { id: 'LUKS crypt method without a crypto header extension', qemu: /Missing CRYPTO header for crypt method \d+/,
    build: (dir) => image(dir, 'luksnohdr.qcow2', (h) => h.writeUInt32BE(2, 32)) },
  { id: 'refcount_table_clusters = 0', qemu: /Image does not contain a reference count table/,
    build: (dir) => image(dir, 'noreftable.qcow2', (h) => h.writeUInt32BE(0, 56)) },
  { id: 'compression bit set with zlib', qemu: /Compression type incompatible feature bit must (not )?be set/,
    build: (dir) => image(dir, 'compbit.qcow2', (h) => h.writeUInt32BE(1 << 3, 76)) },
  { id: 'unknown compression type', qemu: /unknown compression type: \d+/,
    build: (dir) => image(dir, 'comptype.qcow2', (h) => { h.writeUInt32BE(1 << 3, 76); h[104] = 7; }) },
  { id: 'bitmaps extension of the wrong length', qemu: /bitmaps_ext: |found bitmaps extension with zero bitmaps/,
    build: (dir) => image(dir, 'bitmaps.qcow2', (h) => extension(h, 0x23852875, Buffer.alloc(8))) },
  { id: 'crypto header extension without LUKS', qemu: /CRYPTO header extension only expected with LUKS encryption method/,
    build: (dir) => image(dir, 'cryptoext.qcow2', (h) => extension(h, 0x0537be77, Buffer.alloc(16))) },
  { id: 'data-file-raw without a data file', qemu: /data-file-raw requires a data file/,
    build: (dir) => image(dir, 'dfraw.qcow2', (h) => h.writeUInt32BE(1 << 1, 92)) },
  { id: 'more than 65536 snapshots', qemu: /Snapshot table too large/,
    build: (dir) => image(dir, 'snapcount.qcow2', (h) => { h.writeUInt32BE(65537, 60); h.writeBigUInt64BE(1n << 20n, 64); }) },
  { id: 'snapshot entry with too much extra data', qemu: /Too much extra metadata in snapshot table entry \d+|Snapshot table is too big|Failed to read snapshot table/,
    build: (dir) => {
      const name = image(dir, 'snapextra.qcow2', (h, fileSize) => {
        h.writeUInt32BE(1, 60);
        h.writeBigUInt64BE(BigInt(fileSize), 64); // a new cluster at the end holds the table
      });
      const entry = Buffer.alloc(65536);
      entry.writeUInt32BE(4096, 36); // extra_data_size > 1024
      fs.appendFileSync(path.join(dir, name), entry);
      return name;
    } },
  { id: 'backing file in /proc (size unknown)', qemu: /Could not refresh total sector count: Invalid argument/,
    build: (dir) => image(dir, 'procbacking.qcow2', () => undefined, { virtualSize: 4 * M, backing: { name: '/proc/self/mem' } }) },
];

/** Reproducers where qemu-img maps the image and imgaudit refuses it. */
const MAPPED_BY_QEMU: readonly KnownDisagreement[] = [
  { id: 'backing name with a NUL byte (QEMU reads a C string)', qemu: /^$/,
    build: (dir) => {
      fs.writeFileSync(path.join(dir, 'fz'), Buffer.alloc(64 * 1024, 1));
      return image(dir, 'nulname.qcow2', () => undefined, { virtualSize: 4 * M, backing: { name: 'fz\0junk', format: 'raw' } });
    } },
  { id: 'file shorter than the 72-byte v2 header (QEMU reads zeroes past EOF)', qemu: /^$/,
    build: (dir) => {
      const name = image(dir, 'short.qcow2', (h) => h.writeUInt32BE(2, 4), { virtualSize: 4 * M, version: 2 });
      fs.truncateSync(path.join(dir, name), 71);
      return name;
    } },
  { id: 'L2 entry with a host offset of 2^53 (past EOF, QEMU prints it)', qemu: /^$/,
    build: (dir) => {
      const name = 'offset53.qcow2';
      const built = buildQcow2(path.join(dir, name), { virtualSize: 4 * M, clusters: [{ guest: 0, kind: 'data' }] });
      const entry = Buffer.alloc(8);
      entry.writeBigUInt64BE((1n << 63n) | (1n << 53n));
      const fd = fs.openSync(built.path, 'r+');
      fs.writeSync(fd, entry, 0, 8, built.l2Offsets.get(0)!);
      fs.closeSync(fd);
      return name;
    } },
  { id: 'snapshot table offset beyond 2^53 with no snapshots', qemu: /^$/,
    build: (dir) => image(dir, 'snapoffset.qcow2', (h) => h.writeBigUInt64BE(1n << 62n, 64)) },
  { id: 'backing file that is a character device (/dev/zero, QEMU: host_device)', qemu: /^$/,
    build: (dir) => image(dir, 'devzero.qcow2', () => undefined, { virtualSize: 4 * M, backing: { name: '/dev/zero', format: 'raw' } }) },
];

/** Entries the engine was fixed for: kept as plain regression tests. */
const FIXED = new Set([
  'crypt_method > 2', 'LUKS crypt method without a crypto header extension', 'refcount_table_clusters = 0',
  'compression bit set with zlib', 'unknown compression type', 'bitmaps extension of the wrong length',
  'crypto header extension without LUKS', 'data-file-raw without a data file', 'more than 65536 snapshots',
  'backing name with a NUL byte (QEMU reads a C string)',
  'file shorter than the 72-byte v2 header (QEMU reads zeroes past EOF)',
  'snapshot table offset beyond 2^53 with no snapshots',
]);

/** Images qemu-img refuses and imgaudit still maps (it.fails until fixed). */
export const KNOWN = REFUSED_BY_QEMU.filter((k) => !FIXED.has(k.id));
/** Images qemu-img refuses and imgaudit refuses alike (fixed disagreements). */
export const AGREED_REFUSALS = REFUSED_BY_QEMU.filter((k) => FIXED.has(k.id));
/** Images qemu-img maps and imgaudit still refuses (it.fails until fixed). */
export const KNOWN_REFUSALS = MAPPED_BY_QEMU.filter((k) => !FIXED.has(k.id));
/** Images both map alike (fixed disagreements). */
export const AGREED_MAPS = MAPPED_BY_QEMU.filter((k) => FIXED.has(k.id));

/** The known disagreement whose qemu-img message matches `stderr`, if any. */
export const knownFailure = (stderr: string): KnownDisagreement | undefined => KNOWN.find((k) => k.qemu.test(stderr));
