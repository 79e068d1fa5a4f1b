/**
 * Files named by the user (config file, database, `--out`) are opened only
 * when they are what they must be. A FIFO would block open() (and the
 * process would ignore SIGINT meanwhile), a device such as /dev/zero never
 * ends: such paths are refused before they are read, and what is read is
 * bounded. Errors carry an errno-style `code`; callers word the message.
 */
import fs from 'node:fs';
import { fsPath } from './byte-path.js';

/** What the path names, following symbolic links: a kind, or null when nothing is there. */
export type FileKind = 'file' | 'directory' | 'fifo' | 'device' | 'socket' | 'other';

/** The kind of `stats`. */
export function kindOf(stats: fs.Stats): FileKind {
  if (stats.isFile()) return 'file';
  if (stats.isDirectory()) return 'directory';
  if (stats.isFIFO()) return 'fifo';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'device';
  if (stats.isSocket()) return 'socket';
  return 'other';
}

/** The kind of what `file` names (following links), or null when nothing is there. */
export function fileKind(file: string): FileKind | null {
  const stats = fs.statSync(fsPath(file), { throwIfNoEntry: false });
  return stats === undefined ? null : kindOf(stats);
}

/** How messages name a kind. */
export const KIND_NAMES: Readonly<Record<FileKind, string>> = {
  file: 'a regular file', directory: 'a directory', fifo: 'a FIFO', device: 'a device', socket: 'a socket', other: 'not a regular file',
};

/** Thrown by readRegularFile: `code` is the errno, or ENOTREG / EFBIG. */
export class FileRefusedError extends Error {
  constructor(message: string, readonly code: string) {
    super(message);
    this.name = 'FileRefusedError';
  }
}

/**
 * Reads `file` when it is a regular file of at most `maxBytes`. Opened with
 * O_NONBLOCK, so a FIFO put in its place never blocks the open; checked with
 * fstat on the open descriptor, so nothing can be swapped in between.
 */
export function readRegularFile(file: string, maxBytes: number): Buffer {
  let fd: number;
  try {
    fd = fs.openSync(fsPath(file), fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'EIO';
    throw new FileRefusedError(code, code);
  }
  try {
    const stats = fs.fstatSync(fd);
    const kind = kindOf(stats);
    if (kind !== 'file') throw new FileRefusedError(`it is ${KIND_NAMES[kind]}, not a regular file`, 'ENOTREG');
    if (stats.size > maxBytes) throw new FileRefusedError(`it is larger than ${maxBytes} bytes`, 'EFBIG');
    const buffer = Buffer.alloc(maxBytes + 1);
    let length = 0;
    for (;;) {
      const n = fs.readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
      if (length > maxBytes) throw new FileRefusedError(`it is larger than ${maxBytes} bytes`, 'EFBIG');
    }
    return buffer.subarray(0, length);
  } finally {
    fs.closeSync(fd);
  }
}
