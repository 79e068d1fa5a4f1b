/**
 * A host file opened read-only: the protocol layer under every format.
 * Reads past the end return zeroes (as QEMU's block layer does), and
 * `blockStatus` reproduces QEMU's file-posix answer from SEEK_DATA/SEEK_HOLE.
 * The synchronous reads the formats make are served, in this order, from
 * ranges staged ahead (`stage`: read together, asynchronously, taken once),
 * from the file's head (its first HEAD_BYTES, read once: the probe and the
 * header fields that follow are one read, not ten), or from the file.
 */
import fs from 'node:fs';
import { promisify } from 'node:util';
import { ImageOpenError, ReadError } from '../errors.js';
import { fsPath } from './byte-path.js';
import { ENXIO, SEEK_DATA, SEEK_HOLE, seek, willNeed } from './native-addon.js';
import { giveBack, takeBuffer } from './buffer-pool.js';
import { ReadCache } from './read-cache.js';
import { planReads } from './read-plan.js';
import { strerror } from './strerror.js';

/** What the host file system says about a range (protocol-level block status). */
export interface HostStatus {
  /** Bytes the answer covers; 0 only when the offset is at or past the end. */
  lengthBytes: number;
  data: boolean;
  zero: boolean;
  /** The answer reaches the end of the file (BDRV_BLOCK_EOF). */
  eof: boolean;
}

/** The head of a file that small reads near offset 0 are served from. */
export const HEAD_BYTES = 4096;

/** A range to read ahead of the synchronous code that will ask for it. */
export interface StagedRange {
  offsetBytes: number;
  lengthBytes: number;
}

/** fs.read as a promise (looked up at each call, so that tests can watch what is read). */
function readAsync(fd: number, buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }> {
  return new Promise((resolve, reject) => {
    fs.read(fd, buffer, offset, length, position, (error, bytesRead) => (error === null ? resolve({ bytesRead }) : reject(error)));
  });
}
const openAsync = promisify(fs.open);
const fstatAsync = promisify(fs.fstat);
const closeAsync = promisify(fs.close);

/**
 * How long this thread's recent synchronous reads took (a moving average,
 * in microseconds; -1 before the first). Staging reads ahead pays where
 * reads wait on the storage; where they come from the page cache, the hop
 * to libuv's threads costs more than the read (map/prefetch.ts asks).
 */
let readMicros = -1;

/** A synchronous read faster than this (µs) came from the page cache. */
export const CACHED_READ_MICROS = 50;

/**
 * Whether this thread's reads wait on the storage, by its recent synchronous
 * reads (yes while there were none): where they do, reads are issued
 * together ahead of the code that needs them (map/staged-open.ts,
 * map/prefetch.ts); where they come from the page cache, plain synchronous
 * reads cost less than the hops to libuv's threads. Asynchronous reads say
 * nothing here: issued together, they wait in libuv's queue whatever the
 * storage (map/staged-open.ts opens a chain synchronously now and then, to
 * measure).
 */
export function readsWait(cachedBelowMicros = CACHED_READ_MICROS): boolean {
  return readMicros < 0 || readMicros >= cachedBelowMicros;
}

/** Bytes shared by the chains of a scan (io/read-cache.ts); off unless `shareReads` turns it on. */
let shared: ReadCache | null = null;

/**
 * Keeps up to `budgetBytes` of what this thread reads, for other chains
 * that read the same unchanged files (a scan's map workers turn it on).
 */
export function shareReads(budgetBytes: number): void {
  shared = new ReadCache(budgetBytes);
}

/** Counts of what reached the file (tests prove that no byte is read twice). */
export interface ReadCounts {
  reads: number;
  bytes: number;
}

/**
 * Thrown by a file in replay mode (`replayOpen`) for a read that is not
 * staged: `ready` reads it asynchronously, and the open that asked for it
 * runs again (map/staged-open.ts). Never an image's error.
 */
export class NotStaged extends Error {
  constructor(readonly ready: () => Promise<void>) {
    super('a read of a replayed open is not staged yet');
    this.name = 'NotStaged';
  }
}

const OPEN_FLAGS = fs.constants.O_RDONLY | fs.constants.O_NONBLOCK;

function openError(filename: string, error: unknown): ImageOpenError {
  return new ImageOpenError(`Could not open '${filename}': ${strerror(error)}`, 'E_OPEN', { cause: error });
}

export class HostFile {
  /** Name as opened (shown in the human map's File column). */
  readonly filename: string;
  readonly fd: number;
  readonly sizeBytes: number;
  /** Size rounded up to 512, as QEMU keeps a protocol node's length in sectors. */
  readonly lengthBytes: number;
  /** st_blocks × 512. */
  readonly allocatedBytes: number;
  readonly dev: number;
  readonly ino: number;
  readonly mtimeNs: bigint;
  readonly ctimeNs: bigint;
  /** Last known hole [start, end) and data [start, end): spare repeated lseeks. */
  private holeStart = -1;
  private holeEnd = -1;
  private dataStart = -1;
  private dataEnd = -1;
  private closed = false;
  /** Asynchronous reads in flight: the descriptor is closed once they are done. */
  private inflight = 0;
  private head: Buffer | null = null;
  /**
   * Other chains may read this file too (a backing file): its reads go
   * through the scan's shared cache (`shareReads`). An image's own file
   * seldom is, and copying its tables there would only make garbage.
   */
  private isShared = false;
  /** Tables are staged: kernel read-ahead hints would only read them twice. */
  private isStaging = false;
  /** Ranges read ahead, by offset, waiting for the read that takes them. */
  private readonly staged = new Map<number, Buffer>();
  /**
   * An open is being replayed (map/staged-open.ts): a read that is neither
   * staged nor in the head throws NotStaged instead of waiting, and staged
   * ranges stay (copies are handed out) for the next run of the open.
   */
  private replaying = false;
  /** What reached the file so far. */
  readonly counts: ReadCounts = { reads: 0, bytes: 0 };
  /** Called once when the file is closed (table caches give their buffers back). */
  private readonly closers: (() => void)[] = [];

  private constructor(filename: string, fd: number, stat: fs.BigIntStats) {
    this.filename = filename;
    this.fd = fd;
    this.sizeBytes = Number(stat.size);
    this.lengthBytes = Math.ceil(this.sizeBytes / 512) * 512;
    this.allocatedBytes = Number(stat.blocks) * 512;
    this.dev = Number(stat.dev);
    this.ino = Number(stat.ino);
    this.mtimeNs = stat.mtimeNs;
    this.ctimeNs = stat.ctimeNs;
  }

  /**
   * Opens `filename` read-only. Errors read like qemu-img's:
   * "Could not open 'F': No such file or directory". With `identity`, the
   * file opened must be that (dev, ino) (the one a caller checked by its
   * real path), and is named `recordAs`.
   */
  static open(filename: string, identity?: { recordAs: string; dev: number; ino: number }, isShared = false): HostFile {
    let fd: number;
    try {
      fd = fs.openSync(fsPath(filename), OPEN_FLAGS);
    } catch (error) {
      throw openError(filename, error);
    }
    try {
      const file = HostFile.checked(filename, fd, fs.fstatSync(fd, { bigint: true }), identity);
      file.isShared = isShared;
      return file;
    } catch (error) {
      fs.closeSync(fd);
      throw error;
    }
  }

  /**
   * `open` without blocking the thread, with the file's head read too: the
   * scan's workers open many files at once where each open and read waits
   * on the storage.
   */
  static async openAsync(filename: string, identity?: { recordAs: string; dev: number; ino: number }, isShared = false): Promise<HostFile> {
    let fd: number;
    try {
      fd = await openAsync(fsPath(filename), OPEN_FLAGS);
    } catch (error) {
      throw openError(filename, error);
    }
    let file: HostFile;
    try {
      file = HostFile.checked(filename, fd, await fstatAsync(fd, { bigint: true }), identity);
    } catch (error) {
      await closeAsync(fd);
      throw error;
    }
    file.isShared = isShared;
    await file.loadHead();
    return file;
  }

  /** Reads the head asynchronously (a failed read leaves it to the synchronous read, which reports it). */
  private async loadHead(): Promise<void> {
    await this.stage([{ offsetBytes: 0, lengthBytes: HEAD_BYTES }]);
    const head = this.staged.get(0);
    if (head !== undefined && head.length === HEAD_BYTES) {
      this.staged.delete(0);
      this.head = head;
    }
  }

  /**
   * Turns replay mode on or off (see `replaying`); off drops what was staged
   * for the open. A read whose asynchronous attempt failed leaves replay
   * mode, so that the synchronous read reports the error.
   */
  replayOpen(on: boolean): void {
    this.replaying = on;
    if (!on) this.staged.clear();
  }

  private static checked(filename: string, fd: number, stat: fs.BigIntStats, identity?: { recordAs: string; dev: number; ino: number }): HostFile {
    if (!stat.isFile()) {
      throw new ImageOpenError(`'file' driver requires '${filename}' to be a regular file`, 'E_NOT_REGULAR');
    }
    if (identity === undefined) return new HostFile(filename, fd, stat);
    if (Number(stat.dev) !== identity.dev || Number(stat.ino) !== identity.ino) {
      throw new ImageOpenError(`Could not open '${filename}': it was replaced while it was opened`, 'E_OPEN');
    }
    return new HostFile(identity.recordAs, fd, stat);
  }

  /**
   * Reads `lengthBytes` at `offsetBytes`; bytes past the end of the file read
   * as zeroes. Callers bound `lengthBytes` by a named limit before calling.
   */
  readAt(offsetBytes: number, lengthBytes: number): Buffer {
    const staged = this.staged.get(offsetBytes);
    if (staged !== undefined && staged.length === lengthBytes) {
      if (this.replaying) return Buffer.from(staged);
      this.staged.delete(offsetBytes);
      return staged;
    }
    return this.readInto(takeBuffer(lengthBytes), offsetBytes);
  }

  /** Fills `buffer` from `offsetBytes` (zeroes past the end); returns it. */
  readInto(buffer: Buffer, offsetBytes: number): Buffer {
    const lengthBytes = buffer.length;
    const staged = this.staged.get(offsetBytes);
    if (staged !== undefined && staged.length >= lengthBytes) {
      staged.copy(buffer, 0, 0, lengthBytes);
      if (!this.replaying) {
        this.staged.delete(offsetBytes);
        giveBack(staged);
      }
      return buffer;
    }
    if (offsetBytes + lengthBytes <= HEAD_BYTES) {
      if (this.head === null && this.replaying) {
        throw new NotStaged(async () => {
          await this.loadHead();
          if (this.head === null) this.replaying = false;
        });
      }
      this.head ??= this.readFromFile(Buffer.allocUnsafe(HEAD_BYTES), 0);
      this.head.copy(buffer, 0, offsetBytes, offsetBytes + lengthBytes);
      return buffer;
    }
    return this.readFromFile(buffer, offsetBytes);
  }

  private readFromFile(buffer: Buffer, offsetBytes: number): Buffer {
    const lengthBytes = buffer.length;
    if (offsetBytes >= this.sizeBytes) return buffer.fill(0);
    const cache = this.isShared ? shared : null;
    const key = cache === null ? '' : ReadCache.key(this, offsetBytes, lengthBytes);
    if (cache !== null && cache.get(key, buffer) !== undefined) return buffer;
    if (this.replaying) {
      throw new NotStaged(async () => {
        await this.stage([{ offsetBytes, lengthBytes }]);
        if (!this.staged.has(offsetBytes)) this.replaying = false;
      });
    }
    const wanted = Math.min(lengthBytes, this.sizeBytes - offsetBytes);
    let done = 0;
    const started = process.hrtime.bigint();
    while (done < wanted) {
      let n: number;
      try {
        n = fs.readSync(this.fd, buffer, done, wanted - done, offsetBytes + done);
      } catch (error) {
        throw new ReadError(`${this.filename}: read of ${wanted} bytes at 0x${offsetBytes.toString(16)}: ${strerror(error)}`, { cause: error });
      }
      this.counts.reads++;
      this.counts.bytes += n;
      if (n === 0) break; // the file shrank: the rest reads as zeroes
      done += n;
    }
    const micros = Number(process.hrtime.bigint() - started) / 1000;
    readMicros = readMicros < 0 ? micros : readMicros * 0.75 + micros * 0.25;
    if (done < lengthBytes) buffer.fill(0, done);
    cache?.set(key, buffer);
    return buffer;
  }

  /**
   * Reads `ranges` together, asynchronously, and keeps them for the
   * synchronous reads that will ask for them (each is taken once). Ranges
   * already staged, and ranges past the end of the file, are not read;
   * nearby ranges are read as one (io/read-plan.ts). A failed read is not
   * staged: the synchronous read then reports it.
   */
  async stage(ranges: readonly StagedRange[]): Promise<void> {
    this.isStaging = true;
    const cache = this.isShared ? shared : null;
    const wanted: StagedRange[] = [];
    for (const range of ranges) {
      if (this.staged.has(range.offsetBytes) || this.closed) continue;
      const cached = cache?.get(ReadCache.key(this, range.offsetBytes, range.lengthBytes));
      if (cached !== undefined) this.staged.set(range.offsetBytes, cached);
      else wanted.push(range);
    }
    await Promise.all(planReads(wanted, this.sizeBytes).map(async (read) => {
      const buffer = await this.readAsync(read.offsetBytes, read.lengthBytes);
      if (buffer === null || this.closed) return;
      for (const part of read.parts) {
        if (this.staged.has(part.offsetBytes)) continue;
        const from = part.offsetBytes - read.offsetBytes;
        let bytes = buffer.subarray(from, from + part.lengthBytes);
        if (bytes.length < part.lengthBytes) {
          // The part runs past the end of the file: the rest reads as zeroes.
          bytes = Buffer.concat([bytes, Buffer.alloc(part.lengthBytes - bytes.length)]);
        }
        cache?.set(ReadCache.key(this, part.offsetBytes, part.lengthBytes), bytes);
        this.staged.set(part.offsetBytes, bytes);
      }
    }));
  }

  /** One asynchronous read (short only at the end of the file); null when it failed. */
  private async readAsync(offsetBytes: number, lengthBytes: number): Promise<Buffer | null> {
    const buffer = takeBuffer(lengthBytes);
    let done = 0;
    this.inflight++;
    try {
      while (done < lengthBytes) {
        const { bytesRead } = await readAsync(this.fd, buffer, done, lengthBytes - done, offsetBytes + done);
        this.counts.reads++;
        this.counts.bytes += bytesRead;
        if (bytesRead === 0) break;
        done += bytesRead;
      }
    } catch {
      return null;
    } finally {
      if (--this.inflight === 0 && this.closed) fs.closeSync(this.fd);
    }
    return buffer.subarray(0, done);
  }

  /** Drops a staged range the map did not ask for after all. */
  unstage(offsetBytes: number): void {
    const staged = this.staged.get(offsetBytes);
    if (staged === undefined) return;
    this.staged.delete(offsetBytes);
    giveBack(staged);
  }

  /** Bytes staged and not yet taken. */
  get stagedBytes(): number {
    let bytes = 0;
    for (const buffer of this.staged.values()) bytes += buffer.length;
    return bytes;
  }

  /**
   * QEMU's protocol-level block status for [offsetBytes, +lengthBytes):
   * the generic clamping of block/io.c around file-posix's SEEK_DATA/SEEK_HOLE
   * answer (trailing hole → zero, no information → data).
   */
  blockStatus(offsetBytes: number, lengthBytes: number): HostStatus {
    const total = this.lengthBytes;
    if (offsetBytes >= total) return { lengthBytes: 0, data: false, zero: false, eof: true };
    const bytes = Math.min(lengthBytes, total - offsetBytes);
    const found = this.findAllocation(offsetBytes);
    let pnum: number;
    let data: boolean;
    if (!('endBytes' in found)) {
      pnum = bytes; data = found.kind === 'unknown';
    } else {
      pnum = found.endBytes - offsetBytes; data = found.kind === 'data';
    }
    if (pnum > bytes) pnum = bytes;
    return { lengthBytes: pnum, data, zero: !data, eof: offsetBytes + pnum === total };
  }

  private findAllocation(start: number):
    | { kind: 'data' | 'hole'; endBytes: number }
    | { kind: 'trailing-hole' | 'unknown' } {
    if (start >= this.dataStart && start < this.dataEnd) return { kind: 'data', endBytes: this.dataEnd };
    if (start >= this.holeStart && start < this.holeEnd) return { kind: 'hole', endBytes: this.holeEnd };
    const dataAt = seek(this.fd, start, SEEK_DATA);
    if (dataAt === -ENXIO) return { kind: 'trailing-hole' };
    if (dataAt < 0 || dataAt < start) return { kind: 'unknown' };
    if (dataAt > start) {
      this.holeStart = start;
      this.holeEnd = dataAt;
      return { kind: 'hole', endBytes: dataAt };
    }
    const holeAt = seek(this.fd, start, SEEK_HOLE);
    if (holeAt === -ENXIO) return { kind: 'trailing-hole' };
    if (holeAt <= start) return { kind: 'unknown' };
    this.dataStart = start;
    this.dataEnd = holeAt;
    return { kind: 'data', endBytes: holeAt };
  }

  /** Hints that [offsetBytes, +lengthBytes) will be read soon (kernel read-ahead). */
  adviseWillNeed(offsetBytes: number, lengthBytes: number): void {
    // Not where reads are staged, nor where they come from the page cache (a hint there is only a system call).
    if (this.isStaging || !readsWait()) return;
    if (offsetBytes < this.sizeBytes) willNeed(this.fd, offsetBytes, lengthBytes);
  }

  /** Calls `callback` when the file is closed. */
  whenClosed(callback: () => void): void {
    this.closers.push(callback);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const callback of this.closers.splice(0)) callback();
    for (const staged of this.staged.values()) giveBack(staged);
    this.staged.clear();
    this.head = null;
    if (this.inflight === 0) fs.closeSync(this.fd);
  }
}
