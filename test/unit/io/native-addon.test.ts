/**
 * The addon: the prebuilt binaries in prebuilds/ are built from the source
 * in the tree (SOURCE.sha256, written by `npm run build:native`), every
 * shipped platform is present, and the lock calls behave as fcntl(2) says.
 */
import { createHash } from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  LOCK_NONE, LOCK_READ, LOCK_WRITE, lockProbe, lockSet, nativeAddonProblem,
} from '../../../src/io/native-addon.js';
import { REPO_ROOT } from '../../support/imgaudit.js';

describe('prebuilt addon', () => {
  it('is built from the committed source (run `npm run build:native` after editing it)', () => {
    const recorded = fs.readFileSync(path.join(REPO_ROOT, 'prebuilds', 'SOURCE.sha256'), 'utf8')
      .trim().split('\n').map((line) => line.split(/\s+/));
    expect(recorded.map(([, file]) => file)).toEqual(['src/native/seek.c', 'binding.gyp']);
    for (const [sum, file] of recorded) {
      const actual = createHash('sha256').update(fs.readFileSync(path.join(REPO_ROOT, file!))).digest('hex');
      expect(actual, file).toBe(sum);
    }
  });

  it('ships linux-x64 and linux-arm64 (glibc) and linux-x64 (musl)', () => {
    for (const file of ['linux-x64/imgaudit.node', 'linux-arm64/imgaudit.node', 'linux-x64/imgaudit.musl.node']) {
      const bytes = fs.readFileSync(path.join(REPO_ROOT, 'prebuilds', file));
      expect(bytes.subarray(0, 4).toString('latin1'), file).toBe('\x7fELF');
      const machine = bytes.readUInt16LE(18);
      expect(machine, file).toBe(file.startsWith('linux-arm64') ? 183 /* EM_AARCH64 */ : 62 /* EM_X86_64 */);
    }
  });

  it('loads', () => {
    expect(nativeAddonProblem()).toBeNull();
  });
});

describe('fcntl locks', () => {
  it('probes without taking, and sees an OFD lock another process holds', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-lock-'));
    const file = path.join(dir, 'f');
    fs.writeFileSync(file, 'x'.repeat(1024));
    const fd = fs.openSync(file, 'r');
    // A child holds a shared OFD lock on byte 100 until its stdin closes.
    const child = spawn('python3', ['-c', `
import fcntl, os, struct, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
fcntl.fcntl(fd, fcntl.F_OFD_SETLK, struct.pack('hhqqi4x', fcntl.F_RDLCK, 0, 100, 1, 0))
print('ready', flush=True)
sys.stdin.read()
`, file], { stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      expect(lockProbe(fd, true, LOCK_WRITE, 100, 1)).toBeNull();
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
      expect(lockProbe(fd, true, LOCK_WRITE, 100, 1)).toEqual({ type: LOCK_READ, pid: -1 });
      expect(lockProbe(fd, true, LOCK_READ, 100, 1)).toBeNull();
      expect(lockProbe(fd, true, LOCK_WRITE, 101, 1)).toBeNull();
      // Our own locks: a second open file description conflicts with the first.
      expect(lockSet(fd, true, LOCK_READ, 200, 1)).toBe(true);
      const fd2 = fs.openSync(file, 'r+');
      try {
        expect(lockProbe(fd2, true, LOCK_WRITE, 200, 1)).toEqual({ type: LOCK_READ, pid: -1 });
        expect(lockSet(fd2, true, LOCK_WRITE, 200, 1)).toBe(false);
        expect(lockSet(fd, true, LOCK_NONE, 200, 1)).toBe(true);
        expect(lockSet(fd2, true, LOCK_WRITE, 200, 1)).toBe(true);
      } finally {
        fs.closeSync(fd2);
      }
      // A write lock needs a writable descriptor: fcntl's EBADF comes back as an error.
      expect(() => lockSet(fd, true, LOCK_WRITE, 300, 1)).toThrow(/EBADF/);
    } finally {
      child.stdin.end();
      fs.closeSync(fd);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports the holder pid of a POSIX lock', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-lock-'));
    const file = path.join(dir, 'f');
    fs.writeFileSync(file, '');
    const fd = fs.openSync(file, 'r+');
    try {
      expect(lockSet(fd, false, LOCK_WRITE, 0, 1)).toBe(true);
      const child = spawnSync('python3', ['-c', `
import fcntl, os, struct, sys
fd = os.open(sys.argv[1], os.O_RDWR)
t, w, s, l, pid = struct.unpack('hhqqi4x', fcntl.fcntl(fd, fcntl.F_GETLK, struct.pack('hhqqi4x', fcntl.F_WRLCK, 0, 0, 1, 0)))
print(t == fcntl.F_WRLCK, pid)
`, file], { encoding: 'utf8' });
      expect(child.stdout.trim()).toBe(`True ${process.pid}`);
    } finally {
      fs.closeSync(fd);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
