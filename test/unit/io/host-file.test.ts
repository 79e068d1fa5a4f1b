/**
 * The protocol layer (src/io/host-file.ts; research §3.3): read-only open,
 * sizes, zero-filled reads past EOF, and block status from SEEK_DATA /
 * SEEK_HOLE on real sparse temp files made with ftruncate + positioned
 * writes (4 KiB-aligned, the allocation unit of ext4/xfs/tmpfs). The raw
 * map of the same files is also compared with qemu-img when installed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageOpenError, ImgauditError } from '../../../src/errors.js';
import { HostFile } from '../../../src/io/host-file.js';
import { hasDist, runCli } from '../../support/imgaudit.js';
import { hasQemu, qemuMap } from '../../support/qemu.js';

const K = 1024;
let dir: string;

/** Creates a sparse file of `size` bytes with `data` ranges filled with 0x5a. */
function sparse(name: string, size: number, data: Array<[number, number]>): string {
  const file = path.join(dir, name);
  const fd = fs.openSync(file, 'w');
  try {
    fs.ftruncateSync(fd, size);
    for (const [offset, length] of data) fs.writeSync(fd, Buffer.alloc(length, 0x5a), 0, length, offset);
  } finally {
    fs.closeSync(fd);
  }
  return file;
}

/** Walks blockStatus over the whole rounded length: [start, length, data, zero, eof]. */
function walk(file: HostFile, step = Infinity): Array<[number, number, boolean, boolean, boolean]> {
  const out: Array<[number, number, boolean, boolean, boolean]> = [];
  for (let pos = 0; pos < file.lengthBytes;) {
    const s = file.blockStatus(pos, Math.min(step, file.lengthBytes - pos));
    const last = out.at(-1);
    if (last && last[2] === s.data && last[0] + last[1] === pos) { last[1] += s.lengthBytes; last[4] = s.eof; } else out.push([pos, s.lengthBytes, s.data, s.zero, s.eof]);
    pos += s.lengthBytes;
  }
  return out;
}

beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-host-')); });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('open', () => {
  it('fails with qemu\'s text for a missing file', () => {
    const missing = path.join(dir, 'missing');
    expect(() => HostFile.open(missing)).toThrow(new ImageOpenError(`Could not open '${missing}': No such file or directory`));
  });

  it('refuses a directory with a typed error', () => {
    let error: unknown;
    try {
      HostFile.open(dir);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ImgauditError);
  });

  it('reports size, the size rounded up to 512, st_blocks and identity', () => {
    const file = HostFile.open(sparse('odd', 1000, [[0, 1000]]));
    try {
      const stat = fs.statSync(file.filename, { bigint: true });
      expect([file.sizeBytes, file.lengthBytes, file.allocatedBytes]).toEqual([1000, 1024, Number(stat.blocks) * 512]);
      expect([file.dev, file.ino, file.mtimeNs, file.ctimeNs]).toEqual([Number(stat.dev), Number(stat.ino), stat.mtimeNs, stat.ctimeNs]);
    } finally {
      file.close();
    }
  });

  it('reads zeroes past the end and the real bytes before it', () => {
    const file = HostFile.open(sparse('short', 10, [[0, 10]]));
    try {
      expect([...file.readAt(8, 6)]).toEqual([0x5a, 0x5a, 0, 0, 0, 0]);
      expect(file.readAt(2 ** 40, 4).equals(Buffer.alloc(4))).toBe(true);
    } finally {
      file.close();
      file.close(); // idempotent
    }
  });
});

describe('block status from SEEK_DATA/SEEK_HOLE', () => {
  const layout: Array<[number, number]> = [[64 * K, 4 * K], [512 * K, 8 * K]];

  it('reports holes and data extents, and a trailing hole as zero to the end', () => {
    const file = HostFile.open(sparse('holes', 1024 * K + 3, layout));
    try {
      expect(walk(file)).toEqual([
        [0, 64 * K, false, true, false], [64 * K, 4 * K, true, false, false], [68 * K, 444 * K, false, true, false],
        [512 * K, 8 * K, true, false, false], [520 * K, 504 * K + 512, false, true, true],
      ]);
    } finally {
      file.close();
    }
  });

  it('gives the same extents when asked in small, unaligned steps and out of order', () => {
    const file = HostFile.open(sparse('steps', 1024 * K + 3, layout));
    try {
      expect(walk(file, 1000)).toEqual(walk(file));
      expect(file.blockStatus(66 * K, 100 * K)).toEqual({ lengthBytes: 2 * K, data: true, zero: false, eof: false });
      expect(file.blockStatus(10, 100)).toEqual({ lengthBytes: 100, data: false, zero: true, eof: false });
      expect(file.blockStatus(516 * K, 1 << 30)).toEqual({ lengthBytes: 4 * K, data: true, zero: false, eof: false });
    } finally {
      file.close();
    }
  });

  it('ends data at the exact EOF and makes the tail to 512 a zero hole (iotest 221)', () => {
    const file = HostFile.open(sparse('eof', 65537, [[0, 65537]]));
    try {
      expect(walk(file)).toEqual([[0, 65537, true, false, false], [65537, 511, false, true, true]]);
    } finally {
      file.close();
    }
  });

  it('answers nothing at or past the rounded length and clamps requests to it', () => {
    const file = HostFile.open(sparse('clamp', 4 * K, [[0, 4 * K]]));
    try {
      expect(file.blockStatus(4 * K, 512)).toEqual({ lengthBytes: 0, data: false, zero: false, eof: true });
      expect(file.blockStatus(0, 2 ** 40)).toEqual({ lengthBytes: 4 * K, data: true, zero: false, eof: true });
    } finally {
      file.close();
    }
  });

  it('maps an empty file and an all-hole file', () => {
    const empty = HostFile.open(sparse('empty', 0, []));
    const hole = HostFile.open(sparse('hole', 5 * K << 20, []));
    try {
      expect(empty.lengthBytes).toBe(0);
      expect(walk(empty)).toEqual([]);
      expect(walk(hole)).toEqual([[0, 5 * K << 20, false, true, true]]);
    } finally {
      empty.close();
      hole.close();
    }
  });

  it('reports data and holes above 4 GiB exactly', () => {
    const file = HostFile.open(sparse('big', 6 * K ** 3 + 1, [[4 * K ** 3 - 4 * K, 8 * K], [5 * K ** 3, 4 * K]]));
    try {
      expect(walk(file).map(([s, l, d]) => [s, l, d])).toEqual([
        [0, 4 * K ** 3 - 4 * K, false], [4 * K ** 3 - 4 * K, 8 * K, true], [4 * K ** 3 + 4 * K, K ** 3 - 4 * K, false],
        [5 * K ** 3, 4 * K, true], [5 * K ** 3 + 4 * K, K ** 3 - 4 * K + 512, false],
      ]);
    } finally {
      file.close();
    }
  });

  it.skipIf(!hasQemu || !hasDist)('the raw map of these files equals qemu-img\'s', () => {
    for (const name of ['holes', 'eof', 'clamp', 'empty', 'hole', 'big', 'odd', 'short']) {
      const args = ['--output=json', '-f', 'raw', name];
      expect(runCli(['map', ...args], dir).stdout, name).toBe(qemuMap(args, dir).stdout);
    }
  });
});
