/**
 * One scan per database: a kernel lock (POSIX F_SETLK, exclusive) on
 * `<resolved db>.lock`, where the database path is resolved through every
 * symbolic link, so an alias names the same lock. The kernel drops the lock
 * when its holder dies, so there is no stale lock to detect or take over,
 * and F_GETLK names the holder's pid. The lock file holds nothing; it is
 * removed on release while still locked, and a taker checks, once locked,
 * that the path still names the file it locked (otherwise it locked a file
 * a releasing holder had just unlinked, and tries again).
 */
import fs from 'node:fs';
import path from 'node:path';
import { LOCK_NONE, LOCK_WRITE, lockProbe, lockSet } from '../io/native-addon.js';
import { requireUtf8DatabasePath } from './database-name.js';
import { LockError } from './store-error.js';

/** Points between the lock's steps where fault-injection tests pause. */
export interface LockHooks {
  /** After the lock file is open, before the lock is taken. */
  afterOpen?(lockPath: string): void;
}

/** Attempts before giving up when the lock file keeps being replaced under us. */
const ATTEMPTS = 5;

function describe(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  return e.code ?? e.message;
}

/**
 * The database path with every symbolic link resolved (of the file when it
 * exists, else of its directory), so that two names of one file meet.
 */
export function resolvedDatabasePath(dbPath: string): string {
  const absolute = path.resolve(dbPath);
  try {
    return fs.realpathSync.native(absolute);
  } catch {
    try {
      return path.join(fs.realpathSync.native(path.dirname(absolute)), path.basename(absolute));
    } catch {
      return absolute;
    }
  }
}

function sameFile(fd: number, lockPath: string): boolean {
  const held = fs.fstatSync(fd);
  const named = fs.statSync(lockPath, { throwIfNoEntry: false });
  return named !== undefined && named.dev === held.dev && named.ino === held.ino;
}

/** The held lock of one database. */
export class ScanLock {
  private released = false;

  private constructor(readonly path: string, private readonly fd: number) {}

  /** Takes the lock of `dbPath`; throws LockError when another process holds it or it cannot be taken. */
  static acquire(dbPath: string, hooks: LockHooks = {}): ScanLock {
    requireUtf8DatabasePath(dbPath);
    const lockPath = `${resolvedDatabasePath(dbPath)}.lock`;
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      let fd: number;
      try {
        // O_NOFOLLOW: a symbolic link planted at the lock's name is refused, not followed.
        fd = fs.openSync(lockPath, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW
          | fs.constants.O_NONBLOCK, 0o644);
      } catch (error) {
        throw new LockError(`cannot create lock file '${lockPath}': ${describe(error)}`, { cause: error });
      }
      try {
        if (!fs.fstatSync(fd).isFile()) throw new LockError(`lock file '${lockPath}' is not a regular file`);
        hooks.afterOpen?.(lockPath);
        let isTaken: boolean;
        try {
          isTaken = lockSet(fd, false, LOCK_WRITE, 0, 1);
        } catch (error) {
          throw new LockError(`cannot lock '${lockPath}': ${describe(error)}`, { cause: error });
        }
        if (isTaken) {
          if (sameFile(fd, lockPath)) return new ScanLock(lockPath, fd);
          // Locked a file its holder unlinked on release meanwhile: try the new one.
        } else {
          const holder = lockProbe(fd, false, LOCK_WRITE, 0, 1);
          if (holder !== null) {
            throw new LockError(`another scan (pid ${holder.pid}) holds the database lock '${lockPath}'`);
          }
          // The holder let go between the two calls: try again.
        }
      } catch (error) {
        fs.closeSync(fd);
        throw error;
      }
      fs.closeSync(fd);
    }
    throw new LockError(`cannot take the database lock '${lockPath}': it keeps being replaced`);
  }

  /** Releases the lock (idempotent): the file goes while still locked, then the lock. */
  release(): void {
    if (this.released) return;
    this.released = true;
    try {
      if (sameFile(this.fd, this.path)) fs.rmSync(this.path, { force: true });
    } catch {
      // A lock file that cannot be removed blocks nothing: the kernel lock is what counts.
    } finally {
      try {
        lockSet(this.fd, false, LOCK_NONE, 0, 1);
      } finally {
        fs.closeSync(this.fd);
      }
    }
  }
}
