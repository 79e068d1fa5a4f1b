/** The scan lock: one holder, a clear message naming it, stale locks taken over. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ScanLock } from '../../../src/store/scan-lock.js';
import { LockError } from '../../../src/store/store-error.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-lock-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A pid that is certainly not running: a child that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

describe('ScanLock', () => {
  it('is exclusive while held, names the holder, and is free again once released', () => {
    const db = path.join(dir, 'a.db');
    const lock = ScanLock.acquire(db);
    const owner = JSON.parse(fs.readFileSync(`${db}.lock`, 'utf8')) as { pid: number };
    expect(owner.pid).toBe(process.pid);
    expect(() => ScanLock.acquire(db)).toThrow(LockError);
    expect(() => ScanLock.acquire(db)).toThrow(`another scan (pid ${process.pid}) holds the database lock '${db}.lock'`);
    lock.release();
    lock.release();
    expect(fs.existsSync(`${db}.lock`)).toBe(false);
    ScanLock.acquire(db).release();
  });

  it('takes over a lock whose process is gone', () => {
    const db = path.join(dir, 'b.db');
    fs.writeFileSync(`${db}.lock`, JSON.stringify({ pid: deadPid(), host: os.hostname(), startTicks: null }));
    const lock = ScanLock.acquire(db);
    expect((JSON.parse(fs.readFileSync(`${db}.lock`, 'utf8')) as { pid: number }).pid).toBe(process.pid);
    lock.release();
  });

  it('takes over a lock whose pid was reused by a later process', () => {
    const db = path.join(dir, 'c.db');
    fs.writeFileSync(`${db}.lock`, JSON.stringify({ pid: process.pid, host: os.hostname(), startTicks: '1' }));
    ScanLock.acquire(db).release();
  });

  it('treats a fresh unreadable lock as held and an old one as stale', () => {
    const db = path.join(dir, 'd.db');
    fs.writeFileSync(`${db}.lock`, '');
    expect(() => ScanLock.acquire(db)).toThrow(/another scan is starting/);
    const old = new Date(Date.now() - 3_600_000);
    fs.utimesSync(`${db}.lock`, old, old);
    ScanLock.acquire(db).release();
  });

  it('fails clearly where the lock cannot be created', () => {
    const file = path.join(dir, 'plain-file');
    fs.writeFileSync(file, '');
    expect(() => ScanLock.acquire(path.join(file, 'x.db'))).toThrow(`cannot create lock file '${file}/x.db.lock': ENOTDIR`);
    expect(() => ScanLock.acquire(path.join(dir, 'no/such/dir/x.db'))).toThrow(/cannot create lock file .*: ENOENT/);
  });
});
