/**
 * Watches the reads of files under a directory (fs.readSync and fs.read
 * replaced for the length of a test): by path, each read's offset, length
 * and whether it blocked the thread. `restore` puts fs back.
 */
import fs from 'node:fs';

export interface WatchedRead {
  offsetBytes: number;
  lengthBytes: number;
  isSync: boolean;
}

export interface ReadWatch {
  reads: Map<string, WatchedRead[]>;
  restore(): void;
}

/** Records every read of a file under `dir`; `failAsync` may make an asynchronous read fail (EIO) instead. */
export function watchReads(dir: string, failAsync?: (path: string, position: number) => boolean): ReadWatch {
  const readSync = fs.readSync;
  const read = fs.read;
  const byFd = new Map<number, string>();
  const reads = new Map<string, WatchedRead[]>();
  const nameOf = (fd: number): string => {
    let name = byFd.get(fd);
    if (name === undefined) {
      try {
        name = fs.readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        name = `fd ${fd}`;
      }
      byFd.set(fd, name);
    }
    return name;
  };
  const note = (fd: number, length: number, position: number, isSync: boolean): void => {
    const name = nameOf(fd);
    if (!name.startsWith(dir)) return;
    if (!reads.has(name)) reads.set(name, []);
    reads.get(name)!.push({ offsetBytes: position, lengthBytes: length, isSync });
  };
  fs.readSync = ((fd: number, buffer: Buffer, offset: number, length: number, position: number) => {
    note(fd, length, position, true);
    return readSync(fd, buffer, offset, length, position);
  }) as typeof fs.readSync;
  fs.read = ((fd: number, buffer: Buffer, offset: number, length: number, position: number,
    callback: (error: NodeJS.ErrnoException | null, bytesRead: number) => void) => {
    if (failAsync?.(nameOf(fd), position) === true) {
      const error: NodeJS.ErrnoException = Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO', errno: -5 });
      process.nextTick(() => callback(error, 0));
      return;
    }
    note(fd, length, position, false);
    return read(fd, buffer, offset, length, position, callback);
  }) as typeof fs.read;
  return {
    reads,
    restore() {
      fs.readSync = readSync;
      fs.read = read;
    },
  };
}
