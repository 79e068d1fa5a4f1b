/**
 * Streaming map storage, once per distinct content. Entries are packed into
 * a fixed-size block; a map that fits in one block is hashed and stored only
 * if no identical map exists. A larger map is spilled block by block under a
 * provisional row (hash NULL) and either completed or, when an identical map
 * already exists, dropped. Memory per map in progress is one block.
 *
 * Blocks made by a map worker arrive whole, with the map's hash computed
 * there (`addColumns`, `finish(digest)`).
 *
 * A crash leaves at most provisional rows; `deleteProvisionalMaps` removes
 * them when the next scan starts (it holds the scan lock, so none is live).
 */
import { createHash, type Hash } from 'node:crypto';
import {
  BLOCK_ENTRIES, type EntryColumns, EntryBlock, NO_OFFSET, finishHash, hashColumns,
} from '../map/entry-block.js';
import type { MapEntry } from '../map/map-entry.js';
import type { Db, Statement } from './db.js';

export { BLOCK_ENTRIES, ENTRY_FLAGS } from '../map/entry-block.js';
/** Rows per multi-row INSERT (SQLite allows 32,766 parameters; 6 per row). */
const ROWS_PER_INSERT = 256;
const COLUMNS = 6;

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
  private block = new EntryBlock();
  /** Blocks handed over whole (from a worker): the hash comes with `finish`. */
  private pending: EntryColumns | null = null;
  private readonly hash: Hash = createHash('sha256');
  private readonly args: unknown[] = new Array(ROWS_PER_INSERT * COLUMNS);
  private stored = 0;
  private provisionalId: number | null = null;
  private done = false;

  constructor(private readonly writer: MapWriter, private readonly virtualSizeBytes: number) {}

  /** Appends the next entry (entries arrive in guest order). */
  add(entry: MapEntry): void {
    this.block.add(entry);
    if (this.block.isFull) {
      hashColumns(this.hash, this.block);
      this.spill(this.block);
      this.block.clear();
    }
  }

  /**
   * Appends a block made elsewhere (a map worker): a full block is stored
   * at once, the last one when the map finishes. Blocks are not hashed here.
   */
  addColumns(columns: EntryColumns): void {
    if (this.pending !== null) {
      this.spill(this.pending);
    }
    this.pending = columns;
  }

  /** Entries added so far. */
  get entryCount(): number {
    return this.stored + this.block.count + (this.pending?.count ?? 0);
  }

  /** Stores what remains; returns the map's id. `digest` is the hash of blocks added by `addColumns`. */
  finish(digest?: string): number {
    this.done = true;
    const last: EntryColumns = this.pending ?? this.block;
    if (digest === undefined) {
      hashColumns(this.hash, last);
      digest = finishHash(this.hash, this.virtualSizeBytes);
    }
    const { writer } = this;
    const existing = writer.mapByHash.get(digest) as number | undefined;
    if (existing !== undefined) {
      if (this.provisionalId !== null) writer.deleteMap.run(this.provisionalId);
      return existing;
    }
    const total = this.entryCount;
    return writer.db.transaction(() => {
      const id = this.provisionalId ?? Number(writer.insertMap.run(null, 0, this.virtualSizeBytes).lastInsertRowid);
      this.insertBlock(id, last);
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

  private spill(columns: EntryColumns): void {
    const { writer } = this;
    writer.db.transaction(() => {
      this.provisionalId ??= Number(writer.insertMap.run(null, 0, this.virtualSizeBytes).lastInsertRowid);
      this.insertBlock(this.provisionalId, columns);
    })();
    writer.afterBlock();
  }

  private insertBlock(mapId: number, columns: EntryColumns): void {
    const { args, writer } = this;
    const n = columns.count;
    let i = 0;
    for (; i + ROWS_PER_INSERT <= n; i += ROWS_PER_INSERT) {
      for (let k = 0; k < ROWS_PER_INSERT; k++) fill(args, k * COLUMNS, mapId, columns, i + k);
      writer.insertMany.run(args);
    }
    const one = new Array<unknown>(COLUMNS);
    for (; i < n; i++) {
      fill(one, 0, mapId, columns, i);
      writer.insertOne.run(one);
    }
    this.stored += n;
  }
}

function fill(target: unknown[], at: number, mapId: number, columns: EntryColumns, i: number): void {
  const offset = columns.offsets[i]!;
  target[at] = mapId;
  target[at + 1] = columns.starts[i];
  target[at + 2] = columns.lengths[i];
  target[at + 3] = columns.depths[i];
  target[at + 4] = columns.flags[i];
  target[at + 5] = offset === NO_OFFSET ? null : offset;
}
