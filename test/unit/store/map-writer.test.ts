/** Map storage: once per content, streamed in blocks, provisional rows dropped on abort or crash. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
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
