/** Map storage: once per content, streamed in blocks, provisional rows dropped on abort or crash. */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type EntryColumns, EntryBlock, finishHash, hashColumns } from '../../../src/map/entry-block.js';
import type { MapEntry } from '../../../src/map/map-entry.js';
import { openDatabase } from '../../../src/store/db.js';
import { BLOCK_ENTRIES, MapWriter } from '../../../src/store/map-writer.js';
import { migrate } from '../../../src/store/migrator.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-maps-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function setup() {
  const db = openDatabase(path.join(dir, `w${Math.random()}.db`));
  migrate(db);
  return { db, writer: new MapWriter(db) };
}

function* entries(count: number, variant = 0): Generator<MapEntry> {
  for (let i = 0; i < count; i++) {
    const isData = i % 2 === 0;
    yield {
      startBytes: i * 65536, lengthBytes: 65536, depth: (i + variant) % 3, present: isData || i % 3 === 0,
      zero: !isData, data: isData, compressed: i % 7 === 0,
      offsetBytes: isData ? 2 ** 40 + i * 65536 : undefined, filename: undefined,
    };
  }
}

function store(writer: MapWriter, count: number, variant = 0): number {
  const builder = writer.begin(count * 65536);
  for (const entry of entries(count, variant)) builder.add(entry);
  return builder.finish();
}

describe('MapWriter', () => {
  it('stores entries exactly (flags, null offsets, offsets beyond 2^32)', () => {
    const { db, writer } = setup();
    const id = store(writer, 5);
    const rows = db.prepare('SELECT * FROM map_entries_expanded WHERE map_id = ? ORDER BY start_bytes').all(id);
    expect(rows).toEqual([...entries(5)].map((e) => ({
      map_id: id, start_bytes: e.startBytes, length_bytes: e.lengthBytes, depth: e.depth, present: e.present ? 1 : 0,
      zero: e.zero ? 1 : 0, data: e.data ? 1 : 0, compressed: e.compressed ? 1 : 0, offset_bytes: e.offsetBytes ?? null,
    })));
    expect(db.prepare('SELECT entry_count, virtual_size_bytes FROM maps WHERE id = ?').get(id))
      .toEqual({ entry_count: 5, virtual_size_bytes: 5 * 65536 });
  });

  it('stores an identical map once, small or spilled over several blocks', () => {
    const { db, writer } = setup();
    const small = store(writer, 10);
    expect(store(writer, 10)).toBe(small);
    expect(store(writer, 10, 1)).not.toBe(small);
    const large = BLOCK_ENTRIES * 2 + 17;
    const big = store(writer, large);
    expect(store(writer, large)).toBe(big);
    expect(db.prepare('SELECT count(*) FROM maps').pluck().get()).toBe(3);
    expect(db.prepare('SELECT count(*) FROM map_entries WHERE map_id = ?').pluck().get(big)).toBe(large);
    expect(db.prepare('SELECT count(*) FROM maps WHERE hash IS NULL').pluck().get()).toBe(0);
  });

  it('drops a spilled map on abort, and provisional maps a crash left behind', () => {
    const { db, writer } = setup();
    const builder = writer.begin(1);
    for (const entry of entries(BLOCK_ENTRIES + 1)) builder.add(entry);
    expect(db.prepare('SELECT count(*) FROM maps WHERE hash IS NULL').pluck().get()).toBe(1);
    builder.abort();
    expect(db.prepare('SELECT count(*) FROM map_entries').pluck().get()).toBe(0);
    const crashed = writer.begin(1);
    for (const entry of entries(BLOCK_ENTRIES)) crashed.add(entry);
    expect(writer.deleteProvisionalMaps()).toBe(1);
    expect(db.prepare('SELECT count(*) FROM map_entries').pluck().get()).toBe(0);
  });
});

describe('MapWriter: blocks made by a map worker', () => {
  // What src/app/map-worker.ts does: fill EntryBlocks, hash each full block and the last, transfer them.
  function workerBlocks(count: number, virtualSizeBytes: number): { blocks: EntryColumns[]; digest: string } {
    const hash = createHash('sha256');
    const blocks: EntryColumns[] = [];
    const block = new EntryBlock();
    for (const entry of entries(count)) {
      block.add(entry);
      if (block.isFull) {
        hashColumns(hash, block);
        blocks.push(structuredClone(block.detach().columns));
      }
    }
    hashColumns(hash, block);
    const digest = finishHash(hash, virtualSizeBytes);
    if (block.count > 0) blocks.push(structuredClone(block.detach().columns));
    return { blocks, digest };
  }

  it.each([0, 3, BLOCK_ENTRIES, BLOCK_ENTRIES + 5, 2 * BLOCK_ENTRIES + 17])(
    'stores the same rows under the same hash as entries added one by one (%i entries)', (count) => {
      const { db, writer } = setup();
      const byEntry = store(writer, count);
      const { blocks, digest } = workerBlocks(count, count * 65536);
      const other = setup();
      const builder = other.writer.begin(count * 65536);
      for (const columns of blocks) builder.addColumns(columns);
      const byBlock = builder.finish(digest);
      const rows = (d: typeof db, id: number) => d.prepare(
        'SELECT start_bytes, length_bytes, depth, flags, offset_bytes FROM map_entries WHERE map_id = ? ORDER BY start_bytes').all(id);
      const head = (d: typeof db, id: number) => d.prepare('SELECT hash, entry_count, virtual_size_bytes FROM maps WHERE id = ?').get(id);
      expect(head(other.db, byBlock)).toEqual(head(db, byEntry));
      expect(rows(other.db, byBlock)).toEqual(rows(db, byEntry));
      // The same content from a worker dedupes against the map stored entry by entry.
      const again = writer.begin(count * 65536);
      for (const columns of workerBlocks(count, count * 65536).blocks) again.addColumns(columns);
      expect(again.finish(digest)).toBe(byEntry);
      expect(db.prepare('SELECT count(*) FROM maps WHERE hash IS NULL').pluck().get()).toBe(0);
      db.close();
      other.db.close();
    });
});
