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
const REPLACEMENT = Buffer.from('\uFFFD');
/** Characters of a long text encoded and written at a time. */
const SLICE_CHARS = 1024 * 1024;

function writeAll(fd: number, text: string): void {
  // A path not UTF-8 is written as its bytes, as qemu-img prints a file name (io/byte-path.ts). Its
  // escaped bytes encode as U+FFFD: only a text whose encoding holds one is looked at again.
  let buffer: Buffer = Buffer.from(text);
  if (buffer.includes(REPLACEMENT)) buffer = pathBytes(text);
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
    // A long text (a whole JSON report: hundreds of MiB at 100,000 images) goes out in slices that end
    // at a line break, never inside a character or an escaped byte: no buffer the size of the whole text.
    let start = 0;
    while (text.length - start > SLICE_CHARS) {
      const end = text.indexOf('\n', start + SLICE_CHARS);
      if (end < 0) break;
      writeAll(this.fd, text.slice(start, end + 1));
      start = end + 1;
    }
    writeAll(this.fd, start === 0 ? text : text.slice(start));
  }
}

/** Writes a whole message to stderr right away. */
export function writeStderr(text: string): void {
  writeAll(2, text);
}
