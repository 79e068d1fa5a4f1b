/**
 * The scan's boundary for every file a chain opens besides the image itself
 * (backing files, qcow2 data files, vmdk extents): only regular files
 * (never a FIFO, which would block an open, nor a device), and only inside
 * the roots unless the configuration allows otherwise. The rule holds on
 * real paths (every symbolic link and `..` resolved by the kernel's own
 * rules), the file then opened must be that very file (dev, ino), and it is
 * recorded by its real path. Protocol names (`json:`, `nbd:`) never get
 * here: the map engine records them as unsupported without following them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ImageOpenError, ImgauditError } from '../errors.js';
import { decodePath, fsPath } from '../io/byte-path.js';
import type { FileGuard, FileRole } from '../map/opened-files.js';

/** A backing file lies outside the scanned roots and the configuration does not follow such files. */
export class BackingOutsideRootsError extends ImgauditError {
  readonly code = 'E_BACKING_OUTSIDE_ROOTS';
}

/** A data file or extent lies outside the scanned roots and the configuration does not follow such files. */
export class FileOutsideRootsError extends ImgauditError {
  readonly code = 'E_FILE_OUTSIDE_ROOTS';
}

/** True when `file` (an absolute, real path) is one of `roots` or lies below one. */
export function isInsideRoots(file: string, roots: readonly string[]): boolean {
  return roots.some((root) => file === root || file.startsWith(root.endsWith(path.sep) ? root : root + path.sep));
}

function realPath(file: string): string | null {
  try {
    // Read back as bytes: a real path that is not UTF-8 stays exact (io/byte-path.ts).
    return decodePath(fs.realpathSync.native(fsPath(file), { encoding: 'buffer' }));
  } catch {
    return null;
  }
}

const ROLE_NAMES: Readonly<Record<Exclude<FileRole, 'image'>, string>> = {
  backing: 'backing file', 'data-file': 'data file', extent: 'vmdk extent',
};

/**
 * The guard for ImageChain.open (`guardFile`): throws to refuse a file;
 * returns its real path and identity otherwise, or null when it does not
 * exist (the open then fails as qemu-img's would).
 */
export function rootsGuard(roots: readonly string[], followOutsideRoots: boolean): FileGuard {
  const realRoots = roots.map((root) => realPath(root) ?? path.resolve(root));
  return (name, role) => {
    const real = realPath(name);
    if (real === null) return null;
    const stats = fs.statSync(fsPath(real), { throwIfNoEntry: false });
    if (stats === undefined || stats.isDirectory()) return null;
    const what = ROLE_NAMES[role];
    const shown = real === path.resolve(name) ? `'${name}'` : `'${name}' (really '${real}')`;
    if (!stats.isFile()) {
      throw new ImageOpenError(`Could not open '${name}': the ${what} is not a regular file`, 'E_NOT_REGULAR');
    }
    if (!followOutsideRoots && !isInsideRoots(real, realRoots)) {
      const message = `${what} ${shown} is outside the scanned roots (set followBackingOutsideRoots to follow it)`;
      throw role === 'backing' ? new BackingOutsideRootsError(message) : new FileOutsideRootsError(message);
    }
    return { realPath: real, dev: Number(stats.dev), ino: Number(stats.ino) };
  };
}
