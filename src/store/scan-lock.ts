/**
 * One scan per database: `<db>.lock`, created with O_EXCL, holds the owner's
 * pid, host and process start time. A lock whose owner is gone (no such pid
 * on this host, or a pid reused by a later process) is stale and taken over.
 */
import fs from 'node:fs';
import os from 'node:os';
import { LockError } from './store-error.js';

interface LockOwner {
  pid: number;
  host: string;
  /** Process start time in clock ticks since boot (/proc/PID/stat field 22), when known. */
  startTicks: string | null;
}

/** Process start time of `pid` from /proc, or null where /proc is unavailable. */
function startTicksOf(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is parenthesised and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

function isAlive(owner: LockOwner): boolean {
  if (owner.host !== os.hostname()) return true; // cannot tell: a scan on another host shares this database
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const ticks = startTicksOf(owner.pid);
  return owner.startTicks === null || ticks === null || ticks === owner.startTicks;
}

function readOwner(lockPath: string): LockOwner | null {
  try {
    const owner = JSON.parse(fs.readFileSync(lockPath, 'utf8')) as Partial<LockOwner>;
    return typeof owner.pid === 'number' && typeof owner.host === 'string'
      ? { pid: owner.pid, host: owner.host, startTicks: owner.startTicks ?? null }
      : null;
  } catch {
    return null;
  }
}

/** A lock an unreadable or half-written file stands for is stale once it is this old. */
const UNREADABLE_LOCK_STALE_MS = 60_000;

function describe(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  return e.code ?? e.message;
}

/** The held lock of one database. */
export class ScanLock {
  private released = false;

  private constructor(readonly path: string) {}

  /** Takes the lock of `dbPath`; throws LockError when a live scan holds it or it cannot be created. */
  static acquire(dbPath: string): ScanLock {
    const lockPath = `${dbPath}.lock`;
    const self: LockOwner = { pid: process.pid, host: os.hostname(), startTicks: startTicksOf(process.pid) };
    for (let attempt = 0; attempt < 2; attempt++) {
      let fd: number;
      try {
        fd = fs.openSync(lockPath, 'wx', 0o644);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw new LockError(`cannot create lock file '${lockPath}': ${describe(error)}`, { cause: error });
        }
        ScanLock.removeIfStale(lockPath);
        continue;
      }
      try {
        fs.writeSync(fd, `${JSON.stringify(self)}\n`);
      } finally {
        fs.closeSync(fd);
      }
      return new ScanLock(lockPath);
    }
    throw new LockError(`database '${dbPath}' is locked by another scan (lock file '${lockPath}')`);
  }

  private static removeIfStale(lockPath: string): void {
    const owner = readOwner(lockPath);
    if (owner !== null && isAlive(owner)) {
      const where = owner.host === os.hostname() ? '' : ` on host ${owner.host}`;
      throw new LockError(`another scan (pid ${owner.pid}${where}) holds the database lock '${lockPath}'`);
    }
    if (owner === null) {
      let ageMs = 0;
      try {
        ageMs = Date.now() - fs.statSync(lockPath).mtimeMs;
      } catch {
        return; // gone meanwhile: retry
      }
      if (ageMs < UNREADABLE_LOCK_STALE_MS) {
        throw new LockError(`another scan is starting (lock file '${lockPath}' was just created)`);
      }
    }
    fs.rmSync(lockPath, { force: true });
  }

  /** Releases the lock (idempotent). */
  release(): void {
    if (this.released) return;
    this.released = true;
    fs.rmSync(this.path, { force: true });
  }
}
