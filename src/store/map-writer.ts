/**
 * Streaming map storage, once per distinct content. Entries are packed into
 * a fixed-size block; a map that fits in one block is hashed and stored only
 * if no identical map exists. A larger map is spilled block by block under a
 * provisional row (hash NULL) and either completed or, when an identical map
 * already exists, dropped. Memory per map in progress is one block.
 *
 * A crash leaves at most provisional rows; `deleteProvisionalMaps` removes
 * them when the next scan starts (it holds the scan lock, so none is live).
 */
import { createHash, type Hash } from 'node:crypto';
import type { MapEntry } from '../map/map-entry.js';
import type { Db, Statement } from './db.js';

/** Entries per block: ~1.7 MiB of typed arrays, the memory bound of one map in progress. */
export const BLOCK_ENTRIES = 65_536;
/** Capacity of a new builder's block. */
const INITIAL_ENTRIES = 256;
/** Rows per multi-row INSERT (SQLite allows 32,766 parameters; 6 per row). */
const ROWS_PER_INSERT = 256;
const COLUMNS = 6;

/** Packed flag bits of `map_entries.flags`. */
export const ENTRY_FLAGS = { present: 1, zero: 2, data: 4, compressed: 8 } as const;
const NO_OFFSET = -1;

function insertSql(rows: number): string {
  return `INSERT INTO map_entries (map_id, start_bytes, length_bytes, depth, flags, offset_bytes) VALUES ${
    Array.from({ length: rows }, () => '(?, ?, ?, ?, ?, ?)').join(', ')}`;
}

/** Creates map builders over one connection (the scan's single writer). */
export class MapWriter {
  readonly insertMany: Statement;
  readonly insertOne: Statement;
  readonly insertMap: Statement;
  readonly mapByHash: Statement;
  readonly completeMap: Statement;
  readonly deleteMap: Statement;

  /** Called after each spilled block (the store commits its batch there when due). */
  afterBlock: () => void = () => {};

  constructor(readonly db: Db) {
    this.insertMany = db.prepare(insertSql(ROWS_PER_INSERT));
    this.insertOne = db.prepare(insertSql(1));
    this.insertMap = db.prepare('INSERT INTO maps (hash, entry_count, virtual_size_bytes) VALUES (?, ?, ?)');
    this.mapByHash = db.prepare('SELECT id FROM maps WHERE hash = ?').pluck();
    this.completeMap = db.prepare('UPDATE maps SET hash = ?, entry_count = ? WHERE id = ?');
    this.deleteMap = db.prepare('DELETE FROM maps WHERE id = ?');
  }

  /** Starts a map of a chain with the given virtual size. */
  begin(virtualSizeBytes: number): MapBuilder {
    return new MapBuilder(this, virtualSizeBytes);
  }

  /** Removes maps a crashed scan left half-written. Returns how many. */
  deleteProvisionalMaps(): number {
    return this.db.prepare('DELETE FROM maps WHERE hash IS NULL').run().changes;
  }
}

/** One map being stored; `finish` returns the id of the stored (or identical existing) map. */
export class MapBuilder {
  // Columns of the current block; they start small and double up to BLOCK_ENTRIES,
  // since most maps (sparse overlays) have a handful of entries.
  private starts = new Float64Array(INITIAL_ENTRIES);
  private lengths = new Float64Array(INITIAL_ENTRIES);
  private offsets = new Float64Array(INITIAL_ENTRIES);
  private depths = new Uint16Array(INITIAL_ENTRIES);
  private flags = new Uint8Array(INITIAL_ENTRIES);
  private readonly hash: Hash = createHash('sha256');
  private readonly args: unknown[] = new Array(ROWS_PER_INSERT * COLUMNS);
  private count = 0;
  private stored = 0;
  private provisionalId: number | null = null;
  private done = false;

  constructor(private readonly writer: MapWriter, private readonly virtualSizeBytes: number) {}

  /** Appends the next entry (entries arrive in guest order). */
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
    if (this.count === BLOCK_ENTRIES) this.spill();
  }

  /** Entries added so far. */
  get entryCount(): number {
    return this.stored + this.count;
  }

  /** Stores what remains; returns the map's id. */
  finish(): number {
    this.done = true;
    this.hashBlock();
    this.hash.update(`virtual-size:${this.virtualSizeBytes}`);
    const digest = this.hash.digest('hex');
    const { writer } = this;
    const existing = writer.mapByHash.get(digest) as number | undefined;
    if (existing !== undefined) {
      if (this.provisionalId !== null) writer.deleteMap.run(this.provisionalId);
      return existing;
    }
    const total = this.entryCount;
    return writer.db.transaction(() => {
      const id = this.provisionalId ?? Number(writer.insertMap.run(null, 0, this.virtualSizeBytes).lastInsertRowid);
      this.insertBlock(id);
      writer.completeMap.run(digest, total, id);
      return id;
    })();
  }

  /** Drops what was stored of this map (the mapping failed or is retried). */
  abort(): void {
    if (this.done) return;
    this.done = true;
    if (this.provisionalId !== null) this.writer.deleteMap.run(this.provisionalId);
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

  private spill(): void {
    this.hashBlock();
    const { writer } = this;
    writer.db.transaction(() => {
      this.provisionalId ??= Number(writer.insertMap.run(null, 0, this.virtualSizeBytes).lastInsertRowid);
      this.insertBlock(this.provisionalId);
    })();
    writer.afterBlock();
  }

  private hashBlock(): void {
    const n = this.count;
    for (const column of [this.starts, this.lengths, this.offsets, this.depths, this.flags]) {
      this.hash.update(new Uint8Array(column.buffer, 0, n * column.BYTES_PER_ELEMENT));
    }
  }

  private insertBlock(mapId: number): void {
    const { args, writer } = this;
    const n = this.count;
    let i = 0;
    for (; i + ROWS_PER_INSERT <= n; i += ROWS_PER_INSERT) {
      for (let k = 0; k < ROWS_PER_INSERT; k++) this.fill(args, k * COLUMNS, mapId, i + k);
      writer.insertMany.run(args);
    }
    const one = new Array<unknown>(COLUMNS);
    for (; i < n; i++) {
      this.fill(one, 0, mapId, i);
      writer.insertOne.run(one);
    }
    this.stored += n;
    this.count = 0;
  }

  private fill(target: unknown[], at: number, mapId: number, i: number): void {
    const offset = this.offsets[i]!;
    target[at] = mapId;
    target[at + 1] = this.starts[i];
    target[at + 2] = this.lengths[i];
    target[at + 3] = this.depths[i];
    target[at + 4] = this.flags[i];
    target[at + 5] = offset === NO_OFFSET ? null : offset;
  }
}
