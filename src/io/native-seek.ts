/**
 * SEEK_DATA / SEEK_HOLE through the project's own N-API addon
 * (src/native/seek.c, built by `npm ci` via node-gyp). When the addon is not
 * built, every query answers "no information", which the raw reader treats the
 * way QEMU treats a file system without SEEK_DATA: all data.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const SEEK_DATA = 3;
export const SEEK_HOLE = 4;
export const ENXIO = 6;
/** Returned when no native seek is available (EOPNOTSUPP). */
export const EOPNOTSUPP = 95;

type SeekFn = (fd: number, offset: number, whence: number) => number;
type WillNeedFn = (fd: number, offset: number, length: number) => number;
/** [offset, length, unwritten] triples of the file's extents, or the negated errno. */
type ExtentsFn = (fd: number) => Float64Array | number;
interface Addon { seek: SeekFn; willNeed: WillNeedFn; fileExtents?: ExtentsFn }

function loadAddon(): Addon | null {
  const require = createRequire(import.meta.url);
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  try {
    return require(path.join(root, 'build', 'Release', 'imgaudit_native.node')) as Addon;
  } catch {
    return null;
  }
}

const addon = loadAddon();
const nativeSeek = addon?.seek ?? null;

/** True when SEEK_DATA/SEEK_HOLE are really available. */
export function hasNativeSeek(): boolean {
  return nativeSeek !== null;
}

/** lseek(fd, offset, whence): the new offset, or the negated errno. */
export function seek(fd: number, offset: number, whence: number): number {
  return nativeSeek === null ? -EOPNOTSUPP : nativeSeek(fd, offset, whence);
}

/** Asks the kernel to read [offset, offset + length) ahead (a hint; no effect without the addon). */
export function willNeed(fd: number, offset: number, length: number): void {
  if (typeof addon?.willNeed === 'function') addon.willNeed(fd, offset, length);
}

/**
 * FS_IOC_FIEMAP (with FIEMAP_FLAG_SYNC): the extent map of the file open as
 * `fd`, as flat [offset, length, unwritten (1 or 0), ...] triples in file
 * order (touching extents of one kind merged), or the negated errno
 * (-EOPNOTSUPP as well when the addon is not built).
 */
export function fiemapExtents(fd: number): Float64Array | number {
  return typeof addon?.fileExtents === 'function' ? addon.fileExtents(fd) : -EOPNOTSUPP;
}
