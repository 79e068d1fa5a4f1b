/**
 * True preallocation from the host file system: the extents of a file that
 * are allocated but unwritten (fallocate(2) without writes), which read as
 * zeroes while holding disk space. SEEK_DATA reports them as data on some
 * file systems and as holes on others, so `qemu-img map` cannot tell them
 * apart; FIEMAP's FIEMAP_EXTENT_UNWRITTEN flag can.
 *
 * The file is opened read-only and never written; FIEMAP_FLAG_SYNC only
 * settles delayed allocation of data already written by others, which
 * changes neither contents nor timestamps.
 */
import fs from 'node:fs';
import { ReadError } from '../errors.js';
import { fiemapUnwritten } from './native-seek.js';
import { strerror } from './strerror.js';

/** A byte range of the host file. */
export interface HostExtent {
  offsetBytes: number;
  lengthBytes: number;
}

/** errno values meaning "this file system (or file) cannot answer FIEMAP". */
const CANNOT_TELL_ERRNOS: ReadonlySet<number> = new Set([
  95, // EOPNOTSUPP
  25, // ENOTTY: no FS_IOC_FIEMAP on this file system
  53, // EBADR: the file system refuses FIEMAP_FLAG_SYNC
]);

/** Sorts and merges touching or overlapping extents. */
export function mergeExtents(extents: readonly HostExtent[]): HostExtent[] {
  const sorted = [...extents].filter((e) => e.lengthBytes > 0).sort((a, b) => a.offsetBytes - b.offsetBytes);
  const merged: HostExtent[] = [];
  for (const extent of sorted) {
    const last = merged[merged.length - 1];
    if (last !== undefined && extent.offsetBytes <= last.offsetBytes + last.lengthBytes) {
      const endBytes = Math.max(last.offsetBytes + last.lengthBytes, extent.offsetBytes + extent.lengthBytes);
      last.lengthBytes = endBytes - last.offsetBytes;
    } else {
      merged.push({ offsetBytes: extent.offsetBytes, lengthBytes: extent.lengthBytes });
    }
  }
  return merged;
}

/** Turns the addon's flat [offset, length, ...] pairs into merged extents. */
function fromPairs(pairs: Float64Array): HostExtent[] {
  const extents: HostExtent[] = [];
  for (let i = 0; i + 1 < pairs.length; i += 2) {
    extents.push({ offsetBytes: pairs[i]!, lengthBytes: pairs[i + 1]! });
  }
  return mergeExtents(extents);
}

/**
 * The unwritten extents of the regular file at `path`, sorted and merged;
 * null when the file system cannot tell (no FIEMAP, or the addon is not
 * built) or the path is not a regular file. Throws ReadError when the file
 * cannot be opened or FIEMAP fails otherwise.
 */
export function unwrittenExtents(path: string): HostExtent[] | null {
  let fd: number;
  try {
    fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (error) {
    throw new ReadError(`Could not open '${path}': ${strerror(error)}`, { cause: error });
  }
  try {
    if (!fs.fstatSync(fd).isFile()) return null;
    const answer = fiemapUnwritten(fd);
    if (typeof answer !== 'number') return fromPairs(answer);
    if (CANNOT_TELL_ERRNOS.has(-answer)) return null;
    throw new ReadError(`${path}: FIEMAP failed with errno ${-answer}`);
  } finally {
    fs.closeSync(fd);
  }
}
