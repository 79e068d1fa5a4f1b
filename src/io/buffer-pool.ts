/**
 * Buffers of metadata tables, kept for reuse on this thread. A scan maps
 * thousands of chains, each reading its own tables (a 64 KiB L2 table per
 * 512 MiB of guest data): allocated anew each time, they are external
 * memory that presses V8 into full garbage collections again and again
 * (each 64 MiB of new buffers forces one, on every worker). Buffers come
 * back here when a staged read has been copied out or dropped, and when a
 * table cache's file is closed; reads take them before allocating. Only a
 * buffer that owns its whole memory is kept (never a view into another
 * read's buffer); bounded in bytes; small buffers come from Node's pool.
 */

/** Bytes kept at most (per thread). */
const POOL_BYTES = 16 * 1024 * 1024;
/** Smaller buffers come from Node's own pool. */
const MIN_POOLED_BYTES = 4096;

const free = new Map<number, Buffer[]>();
let keptBytes = 0;

/** A buffer of `lengthBytes` (contents undefined): a kept one when there is one. */
export function takeBuffer(lengthBytes: number): Buffer {
  const kept = lengthBytes >= MIN_POOLED_BYTES ? free.get(lengthBytes)?.pop() : undefined;
  if (kept === undefined) return Buffer.allocUnsafe(lengthBytes);
  keptBytes -= lengthBytes;
  return kept;
}

/** Gives a buffer back for reuse: nothing may use it afterwards. */
export function giveBack(buffer: Buffer): void {
  const length = buffer.length;
  if (length < MIN_POOLED_BYTES || buffer.byteOffset !== 0 || buffer.buffer.byteLength !== length) return;
  if (keptBytes + length > POOL_BYTES) return;
  let list = free.get(length);
  if (list === undefined) free.set(length, list = []);
  list.push(buffer);
  keptBytes += length;
}

/** Bytes kept now (tests). */
export function pooledBytes(): number {
  return keptBytes;
}
