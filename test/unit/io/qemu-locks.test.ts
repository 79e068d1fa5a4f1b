/**
 * QEMU's lock bytes as qemu-img 7.2 reads them (src/io/qemu-locks.ts): locks
 * are set on one open file description and probed through another (OFD
 * locks conflict between descriptions, even in one process). The roles and
 * messages are those observed with qemu-img against held bytes (see also
 * test/live/locks.live.test.ts); probing never takes a lock.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LOCK_NONE, LOCK_READ, LOCK_WRITE, lockProbe, lockSet } from '../../../src/io/native-addon.js';
import { LockTable, imageInUse, loadLockTable, probeInUse, qemuInUse, qemuLockConflict } from '../../../src/io/qemu-locks.js';

let dir = '';
let file = '';
let holder = -1;
let prober = -1;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-locks-unit-'));
  file = path.join(dir, 'img');
  fs.writeFileSync(file, Buffer.alloc(4096));
  holder = fs.openSync(file, 'r+');
  prober = fs.openSync(file, 'r');
});
afterEach(() => {
  lockSet(holder, true, LOCK_NONE, 0, 0);
});
afterAll(() => {
  fs.closeSync(holder);
  fs.closeSync(prober);
  fs.rmSync(dir, { recursive: true, force: true });
});

const hold = (...bytes: number[]): void => {
  for (const byte of bytes) expect(lockSet(holder, true, LOCK_READ, byte, 1)).toBe(true);
};

describe('qemuLockConflict', () => {
  it('nobody holds anything: every role opens', () => {
    for (const role of ['metadata', 'data', 'filtered'] as const) expect(qemuLockConflict(prober, role, false)).toBeNull();
  });

  it.each([
    [[101], 'metadata', false, 'Failed to get shared "write" lock'],
    [[103], 'metadata', false, 'Failed to get shared "resize" lock'],
    [[100, 101, 103, 201, 203], 'metadata', false, 'Failed to get shared "write" lock'],
    [[101, 103, 200], 'metadata', false, 'Failed to get "consistent read" lock'],
    [[200], 'metadata', true, 'Failed to get "consistent read" lock'],
    [[200], 'filtered', false, 'Failed to get "consistent read" lock'],
    [[103], 'data', false, 'Failed to get shared "resize" lock'],
    [[101], 'data', false, null],
    [[101, 103], 'filtered', false, null],
    [[101, 103], 'metadata', true, null],
    [[100, 102, 201, 203], 'metadata', false, null],
  ] as const)('held %j, role %s, force-share %s → %s', (bytes, role, forceShare, expected) => {
    hold(...bytes);
    expect(qemuLockConflict(prober, role, forceShare)).toBe(expected);
  });

  it('probing takes no lock: the holder can still take a write lock everywhere', () => {
    qemuLockConflict(prober, 'metadata', false);
    qemuInUse(prober);
    expect(lockProbe(holder, true, LOCK_WRITE, 0, 0)).toBeNull();
    expect(lockSet(holder, true, LOCK_WRITE, 100, 200)).toBe(true);
  });
});

describe('qemuInUse', () => {
  it.each([
    [[], null], [[100, 101, 103, 201, 203], 'write'], [[100, 201, 203], 'read'], [[103], 'write'], [[200], 'read'],
  ] as const)('held %j → %s', (bytes, expected) => {
    hold(...bytes);
    expect(qemuInUse(prober)).toBe(expected);
    expect(probeInUse(file)).toBe(expected);
    // /proc/locks tells the same without opening the file.
    const stat = fs.statSync(file, { bigint: true });
    expect(LockTable.read()!.inUse(stat.dev, stat.ino)).toBe(expected);
  });

  it('an unopenable path is not in use', () => {
    expect(probeInUse(path.join(dir, 'missing'))).toBeNull();
  });
});

describe('LockTable', () => {
  it('parses /proc/locks: held POSIX and OFD ranges by device and inode; waiters and flock are not held', () => {
    const table = LockTable.parse([
      '1: OFDLCK ADVISORY  READ -1 fe:00:2157361 203 203',
      '2: OFDLCK ADVISORY  READ -1 fe:00:2157361 100 101',
      '3: POSIX  ADVISORY  READ 4242 08:01:77 100 100',
      '4: FLOCK  ADVISORY  WRITE 99 08:01:88 0 EOF',
      '4: -> OFDLCK ADVISORY  WRITE -1 08:01:99 0 EOF',
      '5: POSIX  ADVISORY  WRITE 12 08:01:55 0 EOF',
    ].join('\n'));
    // st_dev of fe:00 is (0xfe << 8) | 0; of 08:01, (8 << 8) | 1.
    expect(table.inUse(0xfe00n, 2157361n)).toBe('write');
    expect(table.inUse(0x801n, 77n)).toBe('read');
    expect(table.inUse(0x801n, 88n)).toBeNull();
    expect(table.inUse(0x801n, 99n)).toBeNull();
    expect(table.inUse(0x801n, 55n)).toBe('write');
    expect(table.inUse(0x801n, 1n)).toBeNull();
  });

  it('decodes large device numbers (major above 255, minor above 255)', () => {
    // major 0x103, minor 0x1234: st_dev = (minor & 0xff) | (major & 0xfff) << 8 | (minor & ~0xff) << 12.
    const dev = 0x34n | (0x103n << 8n) | (0x1200n << 12n);
    expect(LockTable.parse('1: OFDLCK ADVISORY  READ -1 103:1234:5 100 100').inUse(dev, 5n)).toBe('read');
  });

  it('loadLockTable: imageInUse answers from the table read ahead (here a file standing for /proc/locks)', async () => {
    const stat = fs.statSync(file, { bigint: true });
    const major = ((stat.dev >> 8n) & 0xfffn) | ((stat.dev >> 32n) & ~0xfffn);
    const minor = (stat.dev & 0xffn) | ((stat.dev >> 12n) & ~0xffn);
    const fake = path.join(dir, 'locks');
    // A writer's permission byte (QEMU's lock byte 100 + 1, "write"): nobody really holds it.
    fs.writeFileSync(fake, `1: OFDLCK ADVISORY  READ -1 ${major.toString(16)}:${minor.toString(16)}:${stat.ino} 101 101\n`);
    await loadLockTable(fake);
    expect(imageInUse(file)).toBe('write');
    fs.writeFileSync(fake, '');
    await loadLockTable(fake);
    expect(imageInUse(file)).toBeNull();
    await loadLockTable(path.join(dir, 'no-such-locks'));
    expect(imageInUse(file)).toBeNull(); // no table: probed, and nobody holds it
  });

  it('imageInUse: from /proc/locks, null for a missing file', () => {
    hold(101);
    expect(imageInUse(file)).toBe('write');
    expect(imageInUse(path.join(dir, 'missing'))).toBeNull();
  });
});
