/**
 * The store side of the per-layer pass: stored maps streamed back in start
 * order (several at once, abandoned streams closed so the connection can
 * write), snapshots stored once per file state, and retention over the 0004
 * tables (own allocations keep their maps; sharings, allocations, snapshots
 * and file rows no run uses go; foreign keys hold).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import type { MapEntry } from '../../../src/map/map-entry.js';
import type { ChainRecord, FileState, LayerRecord } from '../../../src/store/records.js';
import { ScanStore } from '../../../src/store/scan-store.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-layer-repo-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const MiB = 1 << 20;

const file = (name: string, ino: number, over: Partial<FileState> = {}): FileState => ({
  path: `/images/${name}`, dev: 2049, ino, sizeBytes: MiB, allocatedBytes: MiB / 2,
  mtimeNs: 1_732_000_000_000_000_000n, ctimeNs: 1_732_000_000_000_000_000n, ...over,
});

const entry = (startBytes: number, lengthBytes: number, depth: number, over: Partial<MapEntry> = {}): MapEntry => ({
  startBytes, lengthBytes, depth, present: true, zero: false, data: true, compressed: false, offsetBytes: startBytes + 65536,
  filename: undefined, ...over,
});

function storeMap(store: ScanStore, entries: MapEntry[], virtualSizeBytes = 16 * MiB): number {
  const builder = store.maps.begin(virtualSizeBytes);
  for (const e of entries) builder.add(e);
  return builder.finish();
}

const layer = (f: FileState, depth: number, snapshots: LayerRecord['snapshots'] = []): LayerRecord => ({
  depth, format: 'qcow2', virtualSizeBytes: 16 * MiB, backingName: null, backingFormat: null, clusterSizeBytes: 65536,
  version: '3', flags: [], file: f, extraFiles: [], snapshots,
});

function chain(store: ScanStore, layers: LayerRecord[], entries: MapEntry[]): ChainRecord {
  return {
    layers, mapId: storeMap(store, entries), virtualSizeBytes: 16 * MiB, unallocatedBytes: 0,
    depthTotals: layers.map(() => ({ dataBytes: 0, zeroBytes: 0, preallocatedBytes: 0 })), error: null, findings: [],
  };
}

const connection = (store: ScanStore) => (store as unknown as { db: Database.Database }).db;

describe('MapEntryReader', () => {
  it('streams maps in start order, several at once; own entries are the present depth-0 ones', () => {
    const store = ScanStore.open(path.join(dir, 'reader.db'));
    const entries = [
      entry(0, MiB, 0), entry(MiB, MiB, 1), entry(2 * MiB, MiB, 0, { present: false, data: false, zero: true, offsetBytes: undefined }),
      entry(3 * MiB, 13 * MiB, 0, { data: false, zero: true }),
    ];
    const a = storeMap(store, entries);
    const b = storeMap(store, [entry(0, 16 * MiB, 0)]);
    const deep = storeMap(store, Array.from({ length: 5 }, (_, i) => entry(i * MiB, MiB, 1, { present: i !== 2 })));
    const { reader } = store.layers;
    expect([...reader.entries(a, 'all')]).toEqual(entries);
    expect([...reader.entries(a, 'own')]).toEqual([entries[0], entries[3]]);
    // Interleaved streams of the same map and of another.
    const one = reader.entries(a, 'all')[Symbol.iterator]();
    const two = reader.entries(a, 'all')[Symbol.iterator]();
    const three = reader.entries(b, 'own')[Symbol.iterator]();
    expect([one.next().value, two.next().value, three.next().value, one.next().value])
      .toEqual([entries[0], entries[0], entry(0, 16 * MiB, 0), entries[1]]);
    // Paged streams hold no statement: they read a page at a time, whatever else is open.
    expect([...reader.pagedEntries(deep, 1, 2)].map((e) => e.startBytes)).toEqual([0, MiB, 3 * MiB, 4 * MiB]);
    expect([...reader.pagedEntries(deep, 0, 2)]).toEqual([]);
    // Abandoned streams block writes until closed.
    expect(() => storeMap(store, [entry(0, MiB, 0)])).toThrow(/busy/);
    reader.closeAll();
    expect(storeMap(store, [entry(0, MiB, 0)])).toBeGreaterThan(0);
    store.close();
  });
});

describe('snapshots and retention of the per-layer tables', () => {
  it('stores snapshots once per file state', () => {
    const store = ScanStore.open(path.join(dir, 'snapshots.db'));
    const snapshots = [{ id: '1', name: 'before upgrade', createdAtMs: Date.UTC(2026, 0, 2, 3, 4, 5, 678), vmStateBytes: 0 },
      { id: '2', name: 'x', createdAtMs: 8.7e15, vmStateBytes: 1 << 30 }];
    const f = file('snap.qcow2', 5);
    store.transaction(() => {
      store.chains.saveChain(chain(store, [layer(f, 0, snapshots)], [entry(0, MiB, 0)]));
      store.chains.saveChain(chain(store, [layer(f, 0, snapshots)], [entry(0, MiB, 0)]));
      store.chains.saveChain(chain(store, [layer(file('top.qcow2', 6), 0), layer(f, 1, snapshots)], [entry(0, MiB, 1)]));
    });
    expect(connection(store).prepare('SELECT seq, snapshot_id, name, created_at, vm_state_bytes FROM file_snapshots').all()).toEqual([
      { seq: 0, snapshot_id: '1', name: 'before upgrade', created_at: '2026-01-02T03:04:05.678Z', vm_state_bytes: 0 },
      { seq: 1, snapshot_id: '2', name: 'x', created_at: '1970-01-01T00:00:00.000Z', vm_state_bytes: 1 << 30 },
    ]);
    store.close();
  });

  it('prune keeps the maps own allocations reference, drops sharings, allocations, snapshots and files no run uses', () => {
    const dbFile = path.join(dir, 'prune.db');
    const store = ScanStore.open(dbFile);
    const db = connection(store);
    const base = file('base.qcow2', 10);
    const run = (records: [string, ChainRecord][]): number => {
      const runId = store.runs.begin({ roots: ['/images', '/empty'], config: {}, fingerprint: 'f', isFull: false, host: 'h',
        toolVersion: 't', pid: 1, startedAt: new Date() });
      store.transaction(() => {
        for (const [image, record] of records) store.runs.addImage(runId, image, '/images', store.chains.saveChain(record), 'new');
        // What the post-scan pass stores: allocations, the sharing of the base, file systems (one root without images).
        const ids = db.prepare('SELECT DISTINCT cl.file_id FROM run_images ri JOIN chain_layers cl ON cl.chain_id = ri.chain_id WHERE ri.run_id = ?')
          .pluck().all(runId) as number[];
        for (const fileId of ids) {
          const mapId = db.prepare('SELECT map_id FROM chains WHERE top_file_id = ?').pluck().get(fileId) as number | undefined
            ?? storeMap(store, [entry(0, 4 * MiB, 0)]);
          store.layers.allocations.saveAllocation({ fileId, mapId, own: { dataBytes: 1, zeroBytes: 0, preallocatedBytes: 0 }, true: null, unwrittenBytes: null });
        }
        store.layers.prepareRun(runId);
        for (const fileId of store.layers.sharings.baseFiles(0)) {
          const group = store.layers.sharings.baseGroup(fileId);
          const sharingId = store.layers.sharings.sharingId(group.key) ?? store.layers.sharings.saveSharing(group, {
            readBytes: 1, sharedBytes: 0, unreadBytes: 0, overlays: group.overlays.map(() => ({ readBytes: 1, uniqueBytes: 1 })) });
          store.layers.sharings.linkRunSharing(runId, sharingId);
        }
        for (const root of ['/images', '/empty']) {
          store.layers.runFacts.saveFileSystem(runId, { rootId: store.runs.rootId(root), dev: 1, capacityBytes: 10, freeBytes: 5, availableBytes: 4 });
        }
        store.layers.runFacts.saveReference(runId, '/images/a.qcow2', '/etc/libvirt/qemu/a.xml');
      });
      store.runs.end(runId, 'complete', new Date());
      return runId;
    };
    // Run 1: base audited as a top (its own allocation is its chain map), overlays a and b.
    const a1 = file('a.qcow2', 11);
    const overlay = (f: FileState, data: number) => chain(store, [layer(f, 0), layer(base, 1)], [entry(0, data, 0), entry(data, 16 * MiB - data, 1)]);
    run([['/images/base.qcow2', chain(store, [layer(base, 0, [{ id: '1', name: 's', createdAtMs: 0, vmStateBytes: 0 }])], [entry(0, 16 * MiB, 0)])],
      ['/images/a.qcow2', overlay(a1, MiB)], ['/images/b.qcow2', overlay(file('b.qcow2', 12), 2 * MiB)]]);
    const baseMap = db.prepare('SELECT fa.map_id FROM file_allocations fa JOIN files f ON f.id = fa.file_id WHERE f.ino = 10').pluck().get() as number;
    // Run 2: base no longer audited as a top; a changed.
    run([['/images/a.qcow2', overlay(file('a.qcow2', 11, { sizeBytes: 2 * MiB }), 3 * MiB)], ['/images/b.qcow2', overlay(file('b.qcow2', 12), 2 * MiB)]]);
    const count = (table: string) => db.prepare(`SELECT count(*) FROM ${table}`).pluck().get();
    expect([count('base_sharings'), count('file_allocations'), count('run_filesystems'), count('file_snapshots')]).toEqual([2, 4, 4, 1]);

    expect(store.prune({ keepRuns: 1, olderThanMs: null, now: new Date() })).toMatchObject({ runs: 1, chains: 2, files: 1 });
    expect(db.pragma('foreign_key_check')).toEqual([]);
    expect(db.prepare('SELECT count(*) FROM maps WHERE id = ?').pluck().get(baseMap)).toBe(1); // no chain has it any more
    expect(db.prepare('SELECT count(*) FROM chains WHERE map_id = ?').pluck().get(baseMap)).toBe(0);
    expect([count('base_sharings'), count('base_sharing_overlays'), count('run_base_sharings'), count('file_allocations')]).toEqual([1, 2, 1, 3]);
    expect(db.prepare('SELECT count(*) FROM files WHERE ino = 11').pluck().get()).toBe(1); // old a.qcow2 gone
    expect(count('file_snapshots')).toBe(1); // base is still a backing file
    expect(db.prepare('SELECT path FROM roots ORDER BY path').pluck().all()).toEqual(['/empty', '/images']);
    expect(db.prepare(`SELECT count(*) FROM maps WHERE id NOT IN (SELECT map_id FROM chains WHERE map_id IS NOT NULL)
      AND id NOT IN (SELECT map_id FROM file_allocations)`).pluck().get()).toBe(0);
    expect([count('run_filesystems'), count('run_references')]).toEqual([2, 1]);
    store.close();
  });
});
