/**
 * The project's own N-API addon (src/native/seek.c): SEEK_DATA/SEEK_HOLE,
 * FIEMAP, read-ahead hints and fcntl byte-range locks, which Node's fs module
 * does not expose. It ships prebuilt in prebuilds/ (one Node-API binary per
 * platform, loaded by node-gyp-build, which falls back to build/ when the
 * package was compiled from source). There is no silent fallback: without
 * the addon a raw file's holes would read as data, so every call throws
 * NativeAddonError, and the CLI refuses `map` and `scan` up front.
 */
import { createRequire } from 'node:module';
import { packageRoot } from './package-root.js';

export const SEEK_DATA = 3;
export const SEEK_HOLE = 4;
export const ENXIO = 6;
export const EOPNOTSUPP = 95;

/** Lock types of lockProbe/lockSet: none (unlock), read (shared), write (exclusive). */
export const LOCK_NONE = 0;
export const LOCK_READ = 1;
export const LOCK_WRITE = 2;
export type LockType = typeof LOCK_NONE | typeof LOCK_READ | typeof LOCK_WRITE;

interface Addon {
  seek(fd: number, offset: number, whence: number): number;
  willNeed(fd: number, offset: number, length: number): number;
  /** [offset, length, unwritten] triples of the file's extents, or the negated errno. */
  fileExtents(fd: number): Float64Array | number;
  lockProbe(fd: number, ofd: boolean, type: number, start: number, length: number): [number, number] | number;
  lockSet(fd: number, ofd: boolean, type: number, start: number, length: number): number;
}

/** The addon could not be loaded: results that need it cannot be computed. */
export class NativeAddonError extends Error {
  override readonly name = 'NativeAddonError';
}


function loadAddon(): Addon | NativeAddonError {
  const require = createRequire(import.meta.url);
  try {
    const load = require('node-gyp-build') as (dir: string) => unknown;
    const addon = load(packageRoot()) as Partial<Addon>;
    for (const name of ['seek', 'willNeed', 'fileExtents', 'lockProbe', 'lockSet'] as const) {
      if (typeof addon[name] !== 'function') throw new Error(`it lacks ${name}() (an older build?)`);
    }
    return addon as Addon;
  } catch (error) {
    const cause = (error instanceof Error ? error.message : String(error)).split('\n')[0];
    return new NativeAddonError(
      `the native addon for ${process.platform}-${process.arch} could not be loaded (${cause}); ` +
      'reinstall imgaudit for this platform, or build it from source with a C compiler (npm rebuild imgaudit)',
    );
  }
}

let loaded: Addon | NativeAddonError | undefined;

function addon(): Addon {
  loaded ??= loadAddon();
  if (loaded instanceof NativeAddonError) throw loaded;
  return loaded;
}

/** Why the addon cannot be used, or null when it loads. */
export function nativeAddonProblem(): NativeAddonError | null {
  try {
    addon();
    return null;
  } catch (error) {
    if (error instanceof NativeAddonError) return error;
    throw error;
  }
}

/** lseek(fd, offset, whence): the new offset, or the negated errno. */
export function seek(fd: number, offset: number, whence: number): number {
  return addon().seek(fd, offset, whence);
}

/** Asks the kernel to read [offset, offset + length) ahead (a hint). */
export function willNeed(fd: number, offset: number, length: number): void {
  addon().willNeed(fd, offset, length);
}

/**
 * FS_IOC_FIEMAP (with FIEMAP_FLAG_SYNC): the extent map of the file open as
 * `fd`, as flat [offset, length, unwritten (1 or 0), ...] triples in file
 * order (touching extents of one kind merged), or the negated errno.
 */
export function fiemapExtents(fd: number): Float64Array | number {
  return addon().fileExtents(fd);
}

/** A conflicting lock: its type and, for POSIX locks, the holder's pid (-1 for OFD locks). */
export interface LockHolder { type: typeof LOCK_READ | typeof LOCK_WRITE; pid: number }

/**
 * F_GETLK / F_OFD_GETLK: the lock that would stop `type` on [start,
 * start + length), or null when none would. Takes no lock. Throws the
 * errno as an Error with `code` on failure.
 */
export function lockProbe(fd: number, ofd: boolean, type: LockType, start: number, length: number): LockHolder | null {
  const result = addon().lockProbe(fd, ofd, type, start, length);
  if (typeof result === 'number') throw errnoError(-result, ofd ? 'F_OFD_GETLK' : 'F_GETLK');
  const [holder, pid] = result;
  return holder === LOCK_READ || holder === LOCK_WRITE ? { type: holder, pid } : null;
}

/**
 * F_SETLK / F_OFD_SETLK without waiting: true when taken (or released, for
 * LOCK_NONE), false when another holder conflicts; other errors throw.
 */
export function lockSet(fd: number, ofd: boolean, type: LockType, start: number, length: number): boolean {
  const result = addon().lockSet(fd, ofd, type, start, length);
  if (result === 0) return true;
  if (result === -11 /* EAGAIN */ || result === -13 /* EACCES */) return false;
  throw errnoError(-result, ofd ? 'F_OFD_SETLK' : 'F_SETLK');
}

const ERRNO_CODES: Record<number, string> = { 9: 'EBADF', 22: 'EINVAL', 37: 'ENOLCK', 95: 'EOPNOTSUPP' };

function errnoError(errno: number, call: string): NodeJS.ErrnoException {
  const code = ERRNO_CODES[errno] ?? `E${errno}`;
  const error: NodeJS.ErrnoException = new Error(`${call} failed: ${code}`);
  error.errno = errno;
  error.code = code;
  error.syscall = 'fcntl';
  return error;
}
