/**
 * True preallocation from the host file system: which bytes of a file hold
 * disk space at all (its extents; the rest are holes), and which of those
 * are allocated but unwritten (fallocate(2) without writes), reading as
 * zeroes while holding space. SEEK_DATA reports unwritten extents as data on
 * some file systems and as holes on others, so `qemu-img map` cannot tell
 * them apart; FIEMAP's FIEMAP_EXTENT_UNWRITTEN flag can.
 *
 * The file is opened read-only and never written; FIEMAP_FLAG_SYNC only
 * settles delayed allocation of data already written by others, which
 * changes neither contents nor timestamps.
 */
import fs from 'node:fs';
import { ReadError } from '../errors.js';
import { fsPath } from './byte-path.js';
import { fiemapExtents } from './native-addon.js';
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

/** The extent map of a host file. */
export interface HostExtentMap {
  /** Every byte range that holds disk space (written or not), sorted and merged; the gaps are holes. */
  mapped: HostExtent[];
  /** The ranges among those that are allocated but unwritten, sorted and merged. */
  unwritten: HostExtent[];
}

/** Turns the addon's flat [offset, length, unwritten] triples into the two extent lists. */
function fromTriples(triples: Float64Array): HostExtentMap {
  const mapped: HostExtent[] = [];
  const unwritten: HostExtent[] = [];
  for (let i = 0; i + 2 < triples.length; i += 3) {
    const extent = { offsetBytes: triples[i]!, lengthBytes: triples[i + 1]! };
    mapped.push(extent);
    if (triples[i + 2] === 1) unwritten.push({ ...extent });
  }
  return { mapped: mergeExtents(mapped), unwritten: mergeExtents(unwritten) };
}

/**
 * The extent map of the regular file at `path`; null when the file system
 * cannot tell (no FIEMAP, or the addon is not built) or the path is not a
 * regular file. Throws ReadError when the file cannot be opened or FIEMAP
 * fails otherwise.
 */
export function hostExtents(path: string): HostExtentMap | null {
  let fd: number;
  try {
    fd = fs.openSync(fsPath(path), fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (error) {
    throw new ReadError(`Could not open '${path}': ${strerror(error)}`, { cause: error });
  }
  try {
    if (!fs.fstatSync(fd).isFile()) return null;
    const answer = fiemapExtents(fd);
    if (typeof answer !== 'number') return fromTriples(answer);
    if (CANNOT_TELL_ERRNOS.has(-answer)) return null;
    throw new ReadError(`${path}: FIEMAP failed with errno ${-answer}`);
  } finally {
    fs.closeSync(fd);
  }
}

/** The unwritten extents of the regular file at `path` (see hostExtents); null when unknown. */
export function unwrittenExtents(path: string): HostExtent[] | null {
  return hostExtents(path)?.unwritten ?? null;
}
