/**
 * Which backing files a scan opens: only regular files (never a FIFO, which
 * would block an open), and only inside the roots unless the configuration
 * allows otherwise. Protocol names (`json:`, `nbd:`) are left to the map
 * engine, which records them as unsupported without following them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ImageOpenError, ImgauditError } from '../errors.js';
import { protocolOf } from '../map/backing-name.js';

/** A backing file lies outside the scanned roots and the configuration does not follow such files. */
export class BackingOutsideRootsError extends ImgauditError {
  readonly code = 'E_BACKING_OUTSIDE_ROOTS';
}

/** True when `file` is one of `roots` or lies below one. */
export function isInsideRoots(file: string, roots: readonly string[]): boolean {
  const resolved = path.resolve(file);
  return roots.some((root) => resolved === root || resolved.startsWith(root.endsWith(path.sep) ? root : root + path.sep));
}

function realPath(file: string): string | null {
  try {
    return fs.realpathSync(file);
  } catch {
    return null;
  }
}

/**
 * The `checkBacking` hook for ImageChain.open: throws to refuse a backing
 * file. A file is inside the roots when its path, or its real path, lies
 * under a root or a root's real path (roots and backing names may go
 * through symbolic links).
 */
export function backingPolicy(roots: readonly string[], followOutsideRoots: boolean): (resolvedName: string) => void {
  const realRoots = roots.map((root) => realPath(root) ?? root);
  const isInside = (file: string): boolean => {
    if (isInsideRoots(file, roots)) return true;
    const real = realPath(file);
    return real !== null && isInsideRoots(real, realRoots);
  };
  return (resolvedName) => {
    const protocol = protocolOf(resolvedName);
    if (protocol !== null && protocol !== 'file') return;
    const file = protocol === 'file' ? resolvedName.slice('file:'.length) : resolvedName;
    let stat: fs.Stats | undefined;
    try {
      stat = fs.statSync(file);
    } catch {
      stat = undefined; // missing: the open reports it as qemu-img would
    }
    if (stat !== undefined && !stat.isFile() && !stat.isDirectory()) {
      throw new ImageOpenError(`Could not open '${file}': not a regular file`, 'E_NOT_REGULAR');
    }
    if (!followOutsideRoots && !isInside(file)) {
      throw new BackingOutsideRootsError(
        `backing file '${file}' is outside the scanned roots (set followBackingOutsideRoots to follow it)`);
    }
  };
}
