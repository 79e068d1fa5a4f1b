/**
 * Buffered, synchronous writes to stdout/stderr: map output can be millions
 * of lines, so text is gathered in 64 KiB chunks and written with
 * fs.writeSync (retrying when a non-blocking pipe is full), which keeps
 * memory flat and ordering exact. Text is written as UTF-8, except that
 * an escaped byte of a path that is not UTF-8 is written as that byte.
 */
import fs from 'node:fs';
import { pathBytes } from '../io/byte-path.js';

const CHUNK_BYTES = 64 * 1024;

function writeAll(fd: number, text: string): void {
  // A path not UTF-8 is written as its bytes, as qemu-img prints a file name (io/byte-path.ts).
  let buffer = pathBytes(text);
  while (buffer.length > 0) {
    try {
      const written = fs.writeSync(fd, buffer);
      buffer = buffer.subarray(written);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    }
  }
}

export class BufferedWriter {
  private pending = '';
  constructor(private readonly fd: number) {}

  write(text: string): void {
    this.pending += text;
    if (this.pending.length >= CHUNK_BYTES) this.flush();
  }

  flush(): void {
    if (this.pending === '') return;
    const text = this.pending;
    this.pending = '';
    writeAll(this.fd, text);
  }
}

/** Writes a whole message to stderr right away. */
export function writeStderr(text: string): void {
  writeAll(2, text);
}
