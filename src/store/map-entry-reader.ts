/**
 * Stored maps streamed back in start order for the post-scan pass: a map
 * read through a pooled statement of its own, or many maps (a base's
 * overlays) read a page at a time by one statement.
 */
import type { MapEntry } from '../map/map-entry.js';
import type { Db, Statement } from './db.js';
import { ENTRY_FLAGS } from './map-writer.js';

export type EntryRow = [start: number, length: number, depth: number, flags: number, offset: number | null];

function toEntry(row: EntryRow): MapEntry {
  const [startBytes, lengthBytes, depth, flags, offset] = row;
  return {
    startBytes, lengthBytes, depth,
    present: (flags & ENTRY_FLAGS.present) !== 0, zero: (flags & ENTRY_FLAGS.zero) !== 0,
    data: (flags & ENTRY_FLAGS.data) !== 0, compressed: (flags & ENTRY_FLAGS.compressed) !== 0,
    offsetBytes: offset ?? undefined, filename: undefined,
  };
}

/** Which entries of a stored map to stream. */
export type EntrySelection = 'all' | 'own';

const ENTRY_SQL: Readonly<Record<EntrySelection, string>> = {
  all: 'SELECT start_bytes, length_bytes, depth, flags, offset_bytes FROM map_entries WHERE map_id = ? ORDER BY start_bytes',
  // A file's own allocation: the present depth-0 entries of its map.
  own: `SELECT start_bytes, length_bytes, depth, flags, offset_bytes FROM map_entries
        WHERE map_id = ? AND depth = 0 AND (flags & ${ENTRY_FLAGS.present}) <> 0 ORDER BY start_bytes`,
};

/**
 * Streams stored maps in start order. `entries` iterates a statement
 * (`.iterate()`); several such streams may be open at once, each on a
 * statement of its own from a pool, and `closeAll` ends every stream still
 * open, since the connection cannot write while one is. `pagedEntries`
 * serves many streams at once (a base's overlays): each holds a page of
 * entries rather than an open statement, all pages read by one statement.
 */
export class MapEntryReader {
  private readonly idle: Record<EntrySelection, Statement[]> = { all: [], own: [] };
  private readonly open = new Set<Generator<MapEntry>>();
  private readonly pageAtDepth: Statement;

  constructor(private readonly db: Db) {
    this.pageAtDepth = db.prepare(`
      SELECT start_bytes, length_bytes, depth, flags, offset_bytes FROM map_entries
      WHERE map_id = ? AND start_bytes >= ? AND depth = ? AND (flags & ${ENTRY_FLAGS.present}) <> 0
      ORDER BY start_bytes LIMIT ?`).raw(true);
  }

  /**
   * The present entries of map `mapId` at `depth`, read `pageRows` at a time
   * (no statement stays open between pages). `wholeMaps` keeps the maps that
   * fit in one page for the streams that follow (copies of an image share
   * their maps: read once, streamed per overlay).
   */
  pagedEntries(mapId: number, depth: number, pageRows: number, wholeMaps?: Map<number, readonly EntryRow[]>): Iterable<MapEntry> {
    const page = this.pageAtDepth;
    return {
      *[Symbol.iterator]() {
        const whole = wholeMaps?.get(mapId);
        if (whole !== undefined) {
          for (const row of whole) yield toEntry(row);
          return;
        }
        for (let from = 0; ;) {
          const rows = page.all(mapId, from, depth, pageRows) as EntryRow[];
          if (from === 0 && rows.length < pageRows) wholeMaps?.set(mapId, rows);
          for (const row of rows) yield toEntry(row);
          if (rows.length < pageRows) return;
          from = rows[rows.length - 1]![0] + 1;
        }
      },
    };
  }

  /** The entries of map `mapId`, re-read on each iteration. */
  entries(mapId: number, selection: EntrySelection): Iterable<MapEntry> {
    return { [Symbol.iterator]: () => this.stream(mapId, selection) };
  }

  /** Ends the streams a consumer left open. */
  closeAll(): void {
    for (const stream of this.open) stream.return(undefined);
    this.open.clear();
  }

  private stream(mapId: number, selection: EntrySelection): Generator<MapEntry> {
    const generator = this.rows(mapId, selection);
    this.open.add(generator);
    return generator;
  }

  private *rows(mapId: number, selection: EntrySelection): Generator<MapEntry> {
    const pool = this.idle[selection];
    const statement = pool.pop() ?? this.db.prepare(ENTRY_SQL[selection]).raw(true);
    try {
      for (const row of statement.iterate(mapId) as IterableIterator<EntryRow>) yield toEntry(row);
    } finally {
      pool.push(statement);
    }
  }
}
