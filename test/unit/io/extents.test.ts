/**
 * FIEMAP through the addon (src/io/extents.ts): unwritten extents of real
 * files on the temp file system, checked against `filefrag -v`, batching
 * past one ioctl's worth of extents, "cannot tell" answers, and proof that
 * asking changes neither the file's bytes nor its timestamps.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReadError } from '../../../src/errors.js';
import { hostExtents, mergeExtents, unwrittenExtents } from '../../../src/io/extents.js';
import { fiemapExtents } from '../../../src/io/native-addon.js';
import { filefragMapped, filefragUnwritten, hasFilefrag } from '../../layers/filefrag.js';

const K = 1024;
const M = 1024 * K;
let dir: string;
const hasAddon = typeof fiemapExtents(-1) === 'number' && fiemapExtents(-1) !== -95;

/** True when the temp directory's file system reports unwritten extents (ext4, xfs). */
function tracksUnwritten(): boolean {
  const probe = path.join(dir, 'probe');
  execFileSync('fallocate', ['-l', '64K', probe]);
  const found = unwrittenExtents(probe);
  fs.rmSync(probe);
  return found !== null && found.length > 0;
}

beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-extents-')); });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('mergeExtents', () => {
  it('sorts, merges touching and overlapping extents, drops empty ones', () => {
    expect(mergeExtents([
      { offsetBytes: 100, lengthBytes: 10 }, { offsetBytes: 0, lengthBytes: 50 }, { offsetBytes: 50, lengthBytes: 10 },
      { offsetBytes: 105, lengthBytes: 20 }, { offsetBytes: 200, lengthBytes: 0 }, { offsetBytes: 300, lengthBytes: 1 },
    ])).toEqual([{ offsetBytes: 0, lengthBytes: 60 }, { offsetBytes: 100, lengthBytes: 25 }, { offsetBytes: 300, lengthBytes: 1 }]);
  });
});

describe('unwrittenExtents', () => {
  it('answers null for files the file system cannot describe and for non-regular files', () => {
    expect(unwrittenExtents('/dev/null')).toBeNull();
    expect(unwrittenExtents(dir)).toBeNull();
    if (fs.existsSync('/proc/self/status')) expect(unwrittenExtents('/proc/self/status')).toBeNull();
  });

  it('throws a ReadError for a missing file', () => {
    expect(() => unwrittenExtents(path.join(dir, 'missing'))).toThrow(ReadError);
  });

  it('answers [] for a file without unwritten extents (sparse and fully written)', () => {
    const sparse = path.join(dir, 'sparse');
    fs.writeFileSync(sparse, '');
    fs.truncateSync(sparse, 8 * M);
    const written = path.join(dir, 'written');
    fs.writeFileSync(written, Buffer.alloc(M, 7));
    if (!hasAddon) return;
    expect(unwrittenExtents(sparse)).toEqual([]);
    expect(unwrittenExtents(written)).toEqual([]);
  });

  describe.skipIf(!hasAddon)('on a file system with unwritten extents', () => {
    it('finds fallocated-but-unwritten ranges exactly as filefrag lists them', (ctx) => {
      if (!tracksUnwritten() || !hasFilefrag) ctx.skip();
      const file = path.join(dir, 'falloc');
      execFileSync('fallocate', ['-l', '64M', file]);
      const fd = fs.openSync(file, 'r+');
      fs.writeSync(fd, Buffer.alloc(M, 1), 0, M, 3 * M);
      fs.writeSync(fd, Buffer.alloc(4 * K, 2), 0, 4 * K, 10 * M + 8 * K);
      fs.closeSync(fd); // not synced: FIEMAP_FLAG_SYNC settles the delayed writes
      const found = unwrittenExtents(file);
      expect(found).toEqual([
        { offsetBytes: 0, lengthBytes: 3 * M },
        { offsetBytes: 4 * M, lengthBytes: 6 * M + 8 * K },
        { offsetBytes: 10 * M + 12 * K, lengthBytes: 54 * M - 12 * K },
      ]);
      expect(found).toEqual(filefragUnwritten(file));
      // Written and unwritten extents alternate without gaps: the space held is one range.
      expect(hostExtents(file)!.mapped).toEqual([{ offsetBytes: 0, lengthBytes: 64 * M }]);
    });

    it('tells holes from held space: the mapped extents of a sparse file with data and fallocated islands', (ctx) => {
      if (!tracksUnwritten() || !hasFilefrag) ctx.skip();
      const file = path.join(dir, 'islands');
      fs.writeFileSync(file, '');
      fs.truncateSync(file, 64 * M);
      execFileSync('fallocate', ['-o', String(8 * M), '-l', String(4 * M), '-n', file]);
      const fd = fs.openSync(file, 'r+');
      fs.writeSync(fd, Buffer.alloc(64 * K, 5), 0, 64 * K, 32 * M);
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      const extents = hostExtents(file)!;
      expect(extents.unwritten).toEqual([{ offsetBytes: 8 * M, lengthBytes: 4 * M }]);
      expect(extents.mapped).toEqual([{ offsetBytes: 8 * M, lengthBytes: 4 * M }, { offsetBytes: 32 * M, lengthBytes: 64 * K }]);
      expect(extents.mapped).toEqual(filefragMapped(file));
      expect(extents.unwritten).toEqual(filefragUnwritten(file));
    });

    it('reads extent maps longer than one FIEMAP batch', (ctx) => {
      if (!tracksUnwritten() || !hasFilefrag) ctx.skip();
      const file = path.join(dir, 'striped');
      execFileSync('fallocate', ['-l', '8M', file]);
      const fd = fs.openSync(file, 'r+');
      for (let at = 0; at < 8 * M; at += 8 * K) fs.writeSync(fd, Buffer.alloc(4 * K, 3), 0, 4 * K, at);
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      const found = unwrittenExtents(file)!;
      expect(found).toHaveLength(1024);
      expect(found.every((e, i) => e.offsetBytes === i * 8 * K + 4 * K && e.lengthBytes === 4 * K)).toBe(true);
      expect(found).toEqual(filefragUnwritten(file));
      expect(hostExtents(file)!.mapped).toEqual([{ offsetBytes: 0, lengthBytes: 8 * M }]);
    });

    it('never modifies the file: bytes, mtime and ctime unchanged, even with delayed writes pending', (ctx) => {
      if (!tracksUnwritten()) ctx.skip();
      const file = path.join(dir, 'untouched');
      execFileSync('fallocate', ['-l', '16M', file]);
      const fd = fs.openSync(file, 'r+');
      fs.writeSync(fd, Buffer.alloc(64 * K, 9), 0, 64 * K, 5 * M);
      fs.closeSync(fd);
      const before = fs.statSync(file, { bigint: true });
      const hash = (): string => createHash('sha256').update(fs.readFileSync(file)).digest('hex');
      const sum = hash();
      unwrittenExtents(file);
      unwrittenExtents(file);
      const after = fs.statSync(file, { bigint: true });
      expect(after.mtimeNs).toBe(before.mtimeNs);
      expect(after.ctimeNs).toBe(before.ctimeNs);
      expect(after.size).toBe(before.size);
      expect(hash()).toBe(sum);
    });

    it('works on a file it may not write (read-only open)', (ctx) => {
      if (!tracksUnwritten()) ctx.skip();
      const file = path.join(dir, 'readonly');
      execFileSync('fallocate', ['-l', '1M', file]);
      fs.chmodSync(file, 0o444);
      expect(unwrittenExtents(file)).toEqual([{ offsetBytes: 0, lengthBytes: M }]);
    });

    it('answers null on tmpfs (no FIEMAP) when /dev/shm is tmpfs', (ctx) => {
      const shm = '/dev/shm';
      if (!fs.existsSync(shm)) ctx.skip();
      const file = path.join(fs.mkdtempSync(path.join(shm, 'imgaudit-')), 'f');
      try {
        fs.writeFileSync(file, Buffer.alloc(4 * K, 1));
        const type = execFileSync('stat', ['-f', '-c', '%T', file], { encoding: 'utf8' }).trim();
        if (type !== 'tmpfs') ctx.skip();
        expect(unwrittenExtents(file)).toBeNull();
      } finally {
        fs.rmSync(path.dirname(file), { recursive: true, force: true });
      }
    });
  });
});
