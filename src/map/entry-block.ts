/**
 * A block of map entries in compact columns (typed arrays): how entries are
 * stored (store/map-writer), and how a map worker hands them to the writer
 * (the column buffers are transferred, not copied). A map's content hash is
 * defined over its blocks of BLOCK_ENTRIES, so whoever makes the entries can
 * compute it: the same bytes are hashed whichever thread does it.
 */
import type { Hash } from 'node:crypto';
import type { MapEntry } from './map-entry.js';

/** Entries per block: ~1.7 MiB of typed arrays, the memory bound of one map in progress. */
export const BLOCK_ENTRIES = 65_536;
/** Capacity of a new block; it doubles up to BLOCK_ENTRIES (most maps have a handful of entries). */
const INITIAL_ENTRIES = 256;

/** Packed flag bits of `map_entries.flags`. */
export const ENTRY_FLAGS = { present: 1, zero: 2, data: 4, compressed: 8 } as const;
/** `offsets` value of an entry without a host offset. */
export const NO_OFFSET = -1;

/** The columns of a block as plain data (what crosses between threads). */
export interface EntryColumns {
  count: number;
  starts: Float64Array;
  lengths: Float64Array;
  offsets: Float64Array;
  depths: Uint16Array;
  flags: Uint8Array;
}

/** A growing block of entries. */
export class EntryBlock implements EntryColumns {
  count = 0;
  starts = new Float64Array(INITIAL_ENTRIES);
  lengths = new Float64Array(INITIAL_ENTRIES);
  offsets = new Float64Array(INITIAL_ENTRIES);
  depths = new Uint16Array(INITIAL_ENTRIES);
  flags = new Uint8Array(INITIAL_ENTRIES);

  get isFull(): boolean {
    return this.count === BLOCK_ENTRIES;
  }

  add(entry: MapEntry): void {
    const i = this.count;
    if (i === this.starts.length) this.grow();
    this.starts[i] = entry.startBytes;
    this.lengths[i] = entry.lengthBytes;
    this.offsets[i] = entry.offsetBytes ?? NO_OFFSET;
    this.depths[i] = entry.depth;
    this.flags[i] = (entry.present ? ENTRY_FLAGS.present : 0) | (entry.zero ? ENTRY_FLAGS.zero : 0)
      | (entry.data ? ENTRY_FLAGS.data : 0) | (entry.compressed ? ENTRY_FLAGS.compressed : 0);
    this.count = i + 1;
  }

  /** Empties the block (keeps its capacity). */
  clear(): void {
    this.count = 0;
  }

  /** The filled part of the columns, and their buffers to transfer (the block is left empty and new). */
  detach(): { columns: EntryColumns; transfer: ArrayBuffer[] } {
    const n = this.count;
    const columns: EntryColumns = {
      count: n, starts: this.starts, lengths: this.lengths, offsets: this.offsets, depths: this.depths, flags: this.flags,
    };
    const transfer = [this.starts, this.lengths, this.offsets, this.depths, this.flags].map((a) => a.buffer as ArrayBuffer);
    this.count = 0;
    this.starts = new Float64Array(INITIAL_ENTRIES);
    this.lengths = new Float64Array(INITIAL_ENTRIES);
    this.offsets = new Float64Array(INITIAL_ENTRIES);
    this.depths = new Uint16Array(INITIAL_ENTRIES);
    this.flags = new Uint8Array(INITIAL_ENTRIES);
    return { columns, transfer };
  }

  private grow(): void {
    const capacity = Math.min(BLOCK_ENTRIES, this.starts.length * 2);
    const widen = <A extends Float64Array | Uint16Array | Uint8Array>(from: A, make: (n: number) => A): A => {
      const to = make(capacity);
      to.set(from);
      return to;
    };
    this.starts = widen(this.starts, (n) => new Float64Array(n));
    this.lengths = widen(this.lengths, (n) => new Float64Array(n));
    this.offsets = widen(this.offsets, (n) => new Float64Array(n));
    this.depths = widen(this.depths, (n) => new Uint16Array(n));
    this.flags = widen(this.flags, (n) => new Uint8Array(n));
  }
}

/** Adds one block to a map's content hash. */
export function hashColumns(hash: Hash, block: EntryColumns): void {
  const n = block.count;
  for (const column of [block.starts, block.lengths, block.offsets, block.depths, block.flags]) {
    hash.update(new Uint8Array(column.buffer, column.byteOffset, n * column.BYTES_PER_ELEMENT));
  }
}

/** Ends a map's content hash (after its last block). */
export function finishHash(hash: Hash, virtualSizeBytes: number): string {
  hash.update(`virtual-size:${virtualSizeBytes}`);
  return hash.digest('hex');
}
