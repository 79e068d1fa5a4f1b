/** Chain states stored once, run totals materialised, stale runs interrupted, retention. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { MapEntry } from '../../../src/map/map-entry.js';
import type { ChainRecord, FileState } from '../../../src/store/records.js';
import { ScanStore } from '../../../src/store/scan-store.js';
import Database from 'better-sqlite3';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-store-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const file = (name: string, ino: number, over: Partial<FileState> = {}): FileState => ({
  path: `/images/${name}`, dev: 2049, ino, sizeBytes: 1 << 20, allocatedBytes: 1 << 19,
  mtimeNs: 1_732_000_000_123_456_789n, ctimeNs: 1_732_000_000_123_456_789n, ...over,
});

function chain(store: ScanStore, top: FileState, base: FileState, dataBytes: number): ChainRecord {
  const builder = store.maps.begin(1 << 30);
  const entry: MapEntry = { startBytes: 0, lengthBytes: 1 << 30, depth: 1, present: true, zero: false, data: true,
    compressed: false, offsetBytes: dataBytes, filename: undefined };
  builder.add(entry);
  const layer = (f: FileState, depth: number) => ({ depth, format: 'qcow2', virtualSizeBytes: 1 << 30,
    backingName: depth === 0 ? 'base.qcow2' : null, backingFormat: null, clusterSizeBytes: 65536, version: '3',
    flags: [], file: f, extraFiles: [] });
  return {
    layers: [layer(top, 0), layer(base, 1)], mapId: builder.finish(), virtualSizeBytes: 1 << 30, unallocatedBytes: 0,
    depthTotals: [{ dataBytes: 0, zeroBytes: 0, preallocatedBytes: 0 }, { dataBytes, zeroBytes: 0, preallocatedBytes: 0 }],
    error: null, findings: [],
  };
}

function run(store: ScanStore, records: [string, ChainRecord][]): number {
  const runId = store.runs.begin({ roots: ['/images'], config: {}, fingerprint: 'f', isFull: false, host: 'h',
    toolVersion: 't', pid: 1, startedAt: new Date() });
  const previous = store.runs.lastComplete();
  store.transaction(() => {
    for (const [image, record] of records) {
      const chainId = store.chains.saveChain(record);
      const before = previous === undefined ? undefined : store.runs.chainIdIn(previous, image);
      store.runs.addImage(runId, image, '/images', chainId, before === undefined ? 'new' : before === chainId ? 'unchanged' : 'changed');
    }
  });
  store.runs.end(runId, 'complete', new Date());
  return runId;
}

const count = (db: Database.Database, table: string) => db.prepare(`SELECT count(*) FROM ${table}`).pluck().get();

describe('ScanStore', () => {
  it('stores an unchanged chain state once and materialises run totals', () => {
    const dbFile = path.join(dir, 'a.db');
    const store = ScanStore.open(dbFile);
    const base = file('base.qcow2', 10);
    const images = (grow: number): [string, ChainRecord][] => [
      ['/images/a.qcow2', chain(store, file('a.qcow2', 11), base, 100)],
      ['/images/b.qcow2', chain(store, file('b.qcow2', 12, { sizeBytes: grow }), base, 200)],
    ];
    const first = run(store, images(1 << 20));
    for (let i = 0; i < 5; i++) run(store, images(1 << 20));
    const last = run(store, images(2 << 20));
    store.close();
    const db = new Database(dbFile, { readonly: true });
    expect(count(db, 'chains')).toBe(3);
    expect(count(db, 'maps')).toBe(2);
    expect(count(db, 'files')).toBe(4);
    expect(count(db, 'run_images')).toBe(14);
    const totals = db.prepare('SELECT image_count, new_count, changed_count, disk_usage_bytes FROM runs WHERE id IN (?, ?) ORDER BY id');
    expect(totals.all(first, last)).toEqual([
      { image_count: 2, new_count: 2, changed_count: 0, disk_usage_bytes: 2 << 19 },
      { image_count: 2, new_count: 0, changed_count: 1, disk_usage_bytes: 2 << 19 },
    ]);
    expect(db.prepare('SELECT depth, data_bytes FROM run_depth_totals WHERE run_id = ? ORDER BY depth').all(last))
      .toEqual([{ depth: 0, data_bytes: 0 }, { depth: 1, data_bytes: 300 }]);
    expect(db.prepare('SELECT base_path, chain_count, data_bytes_read_by_chains FROM run_base_usage WHERE run_id = ?').all(last))
      .toEqual([{ base_path: '/images/base.qcow2', chain_count: 2, data_bytes_read_by_chains: 300 }]);
    expect(db.prepare('SELECT mtime_ns FROM files LIMIT 1').safeIntegers(true).pluck().get()).toBe(1_732_000_000_123_456_789n);
    db.close();
  });

  it('marks runs a crash left running as interrupted, with their totals', () => {
    const dbFile = path.join(dir, 'b.db');
    const store = ScanStore.open(dbFile);
    const runId = store.runs.begin({ roots: [], config: {}, fingerprint: 'f', isFull: false, host: 'h', toolVersion: 't', pid: 1, startedAt: new Date() });
    store.transaction(() => store.runs.addImage(runId, '/images/a.qcow2', '/images',
      store.chains.saveChain(chain(store, file('a.qcow2', 1), file('base.qcow2', 2), 5)), 'new'));
    expect(store.runs.interruptStale()).toEqual([runId]);
    expect(store.runs.summary(runId)).toMatchObject({ status: 'interrupted', imageCount: 1 });
    expect(store.runs.lastComplete()).toBeUndefined();
    store.close();
  });

  it('prunes old runs and everything only they used; keeps the newest complete run', () => {
    const dbFile = path.join(dir, 'c.db');
    const store = ScanStore.open(dbFile);
    const base = file('base.qcow2', 20);
    for (let i = 0; i < 6; i++) run(store, [['/images/a.qcow2', chain(store, file('a.qcow2', 21, { sizeBytes: i }), base, i)]]);
    expect(store.prune({ keepRuns: 2, olderThanMs: null, now: new Date() })).toEqual({ runs: 4, chains: 4, maps: 4, files: 4 });
    expect(store.prune({ keepRuns: null, olderThanMs: 0, now: new Date(Date.now() + 1000) })).toMatchObject({ runs: 1 });
    store.close();
    const db = new Database(dbFile, { readonly: true });
    expect(db.prepare('SELECT count(*) FROM runs').pluck().get()).toBe(1);
    expect(count(db, 'chains')).toBe(1);
    expect(count(db, 'map_entries')).toBe(1);
    expect(db.pragma('foreign_key_check')).toEqual([]);
    db.close();
  });
});

describe('paths that are not UTF-8', () => {
  it('are stored as \\xNN text with their exact bytes, and read back as the same path', () => {
    const dbFile = path.join(dir, 'bytes.db');
    const store = ScanStore.open(dbFile);
    // Byte 0xff and the bytes 0xc3 0x28, held escaped (io/byte-path.ts).
    const base = file('b\udcff.qcow2', 20);
    const top = file('d\udcc3(/o.qcow2', 21);
    const image = '/images/d\udcc3(/o.qcow2';
    const record = (): ChainRecord => ({ ...chain(store, top, base, 100),
      findings: [{ code: 'E_IMAGE_DIRTY', severity: 'warning', depth: 1, message: "layer '/images/b\udcff.qcow2' is dirty" }] });
    const first = run(store, [[image, record()]]);
    const second = run(store, [[image, record()]]);
    expect(store.runs.imagePaths(second)).toEqual(new Set([image]));
    expect(store.chains.previousChain(first, image)!.files.map((f) => f.path).sort()).toEqual([base.path, top.path].sort());
    store.runs.addFinding(second, image, { code: 'E_IMAGE_CHANGED', severity: 'warning', depth: null, message: `'${image}' changed` });
    store.close();
    const db = new Database(dbFile, { readonly: true });
    expect(db.prepare('SELECT path, path_bytes FROM files ORDER BY path').all()).toEqual([
      { path: '/images/b\\xff.qcow2', path_bytes: Buffer.from([...Buffer.from('/images/b'), 0xff, ...Buffer.from('.qcow2')]) },
      { path: '/images/d\\xc3(/o.qcow2', path_bytes: Buffer.from([...Buffer.from('/images/d'), 0xc3, 0x28, ...Buffer.from('/o.qcow2')]) },
    ]);
    expect(db.prepare('SELECT path, path_bytes FROM images').all()).toEqual([
      { path: '/images/d\\xc3(/o.qcow2', path_bytes: Buffer.from([...Buffer.from('/images/d'), 0xc3, 0x28, ...Buffer.from('/o.qcow2')]) },
    ]);
    expect(db.prepare('SELECT path, path_bytes FROM roots').all()).toEqual([{ path: '/images', path_bytes: null }]);
    expect(db.prepare('SELECT message FROM chain_findings').pluck().all()).toEqual(["layer '/images/b\\xff.qcow2' is dirty"]);
    expect(db.prepare('SELECT path, message FROM run_findings').all())
      .toEqual([{ path: '/images/d\\xc3(/o.qcow2', message: "'/images/d\\xc3(/o.qcow2' changed" }]);
    // The second run found the image by its path: unchanged.
    expect(db.prepare('SELECT change FROM run_images WHERE run_id = ?').pluck().all(second)).toEqual([0]);
    db.close();
  });
});
