/**
 * The post-scan pass in process: what it computes on a first scan, that a
 * pass over an unchanged estate computes nothing (counted, and timed
 * against the first), that a layer it cannot measure is a finding while the
 * rest goes on, and that an aborted pass stops. Needs qemu-img.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LayerFiguresContext, recordLayerFigures } from '../../../src/app/layer-figures.js';
import { runScan } from '../../../src/app/scan-run.js';
import { DEFAULT_CONFIG, type ScanConfig, mergeConfig } from '../../../src/config/config.js';
import type { FindingRecord } from '../../../src/store/records.js';
import { ScanStore } from '../../../src/store/scan-store.js';
import { create, hasQemu, io, op, runOk } from '../../support/qemu.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-layer-figures-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const MiB = 1 << 20;

/** Starts run N+1 of `store` with the images of the newest run, as an unchanged re-scan records them. */
function repeatRun(store: ScanStore, dbRun: (sql: string) => void): number {
  const runId = store.runs.begin({ roots: [dir], config: {}, fingerprint: 'f', isFull: false, host: 'h', toolVersion: 't', pid: 1,
    startedAt: new Date() });
  dbRun(`INSERT INTO run_images (run_id, image_id, chain_id, root_id, change)
    SELECT ${runId}, image_id, chain_id, root_id, 0 FROM run_images WHERE run_id = ${runId - 1}`);
  return runId;
}

describe.skipIf(!hasQemu)('recordLayerFigures', () => {
  let root: string;
  let config: ScanConfig;

  beforeAll(async () => {
    root = path.join(dir, 'images');
    fs.mkdirSync(root);
    for (const cmd of [
      create('base.qcow2', 'qcow2', 16 * MiB), io('base.qcow2', 'qcow2', [op.write(0, 4 * MiB)]),
      create('a.qcow2', 'qcow2', undefined, {}, { file: 'base.qcow2', fmt: 'qcow2' }), io('a.qcow2', 'qcow2', [op.write(0, MiB)]),
      create('b.qcow2', 'qcow2', undefined, {}, { file: 'base.qcow2', fmt: 'qcow2' }), io('b.qcow2', 'qcow2', [op.write(2 * MiB, MiB)]),
      create('c.qcow2', 'qcow2', undefined, {}, { file: 'b.qcow2', fmt: 'qcow2' }),
    ]) runOk(cmd, root);
    config = mergeConfig(DEFAULT_CONFIG, { roots: [root], database: path.join(dir, 'audit.db') });
    const summary = await runScan({ config, isFull: false, signal: new AbortController().signal });
    expect(summary).toMatchObject({ status: 'complete', images: 4, errors: 0 });
  }, 60_000);

  function pass(store: ScanStore, runId: number, signal = new AbortController().signal) {
    const findings: { path: string; finding: FindingRecord }[] = [];
    const context: LayerFiguresContext = {
      store, config, runId, roots: [root], signal, onFinding: (p, finding) => findings.push({ path: p, finding }),
    };
    return { run: () => recordLayerFigures(context), findings };
  }

  function withStore<T>(work: (store: ScanStore, sql: (s: string) => unknown[]) => Promise<T>): Promise<T> {
    const store = ScanStore.open(config.database);
    // The store's own connection, for assertions inside its batch.
    const db = (store as unknown as { db: import('better-sqlite3').Database }).db;
    const sql = (s: string) => (s.trimStart().startsWith('SELECT') ? db.prepare(s).all() : (db.exec(s), []));
    return work(store, sql).finally(() => store.close());
  }

  it('the scan computed every layer, chain and sharing', async () => {
    await withStore(async (_store, sql) => {
      expect(sql('SELECT count(*) AS n FROM file_allocations')).toEqual([{ n: 4 }]);
      expect(sql('SELECT count(*) AS n FROM chains WHERE has_layer_figures = 0')).toEqual([{ n: 0 }]);
      // base (a, b read it directly) and b (c reads it directly).
      expect(sql('SELECT overlay_count FROM base_sharings ORDER BY overlay_count')).toEqual([{ overlay_count: 1 }, { overlay_count: 2 }]);
      expect(sql('SELECT count(*) AS n FROM run_filesystems WHERE run_id = 1')).toEqual([{ n: 1 }]);
    });
  });

  it('over an unchanged estate it computes nothing (counted; both passes timed in the log)', async () => {
    await withStore(async (store, sql) => {
      const runId = repeatRun(store, (s) => sql(s));
      const started = process.hrtime.bigint();
      const counts = await pass(store, runId).run();
      const repeatMs = Number(process.hrtime.bigint() - started) / 1e6;
      expect(counts).toEqual({ layersMapped: 0, allocations: 0, chains: 0, sharings: 0, sharingsReused: 2, references: 0, fileSystems: 1 });
      // Recompute from scratch, to compare: the same figures, more work.
      const before = sql('SELECT * FROM file_allocations ORDER BY file_id');
      const layers = sql('SELECT * FROM chain_layers ORDER BY chain_id, depth');
      sql('DELETE FROM run_base_sharings; DELETE FROM base_sharings; DELETE FROM file_allocations; UPDATE chains SET has_layer_figures = 0');
      const again = repeatRun(store, (s) => sql(s));
      const fresh = process.hrtime.bigint();
      expect(await pass(store, again).run()).toMatchObject({ allocations: 4, chains: 4, sharings: 2, sharingsReused: 0 });
      const freshMs = Number(process.hrtime.bigint() - fresh) / 1e6;
      expect(sql('SELECT * FROM file_allocations ORDER BY file_id')).toEqual(before);
      expect(sql('SELECT * FROM chain_layers ORDER BY chain_id, depth')).toEqual(layers);
      console.log(`layer figures pass: ${freshMs.toFixed(1)} ms computing, ${repeatMs.toFixed(1)} ms unchanged`);
    });
  });

  it('a layer it cannot measure is a finding; the others are computed and the chains over it retried later', async () => {
    await withStore(async (store, sql) => {
      // base.qcow2 loses its own allocation and is seen only as a backing file (no chain of its own) that changed since.
      sql(`DELETE FROM run_base_sharings; DELETE FROM base_sharings;
        DELETE FROM file_allocations; UPDATE chains SET has_layer_figures = 0`);
      const base = path.join(root, 'base.qcow2');
      sql(`UPDATE chains SET map_id = NULL WHERE top_file_id = (SELECT id FROM files WHERE path = '${base}')`);
      sql(`UPDATE files SET mtime_ns = mtime_ns - 1 WHERE path = '${base}'`);
      const runId = repeatRun(store, (s) => sql(s));
      const { run, findings } = pass(store, runId);
      const counts = await run();
      expect(findings.map((f) => [path.basename(f.path), f.finding.code, f.finding.severity])).toEqual([
        ['base.qcow2', 'E_LAYER_FIGURES', 'warning'],
      ]);
      expect(findings[0]!.finding.message).toMatch(/changed since it was audited/);
      // Every mapped chain reads base.qcow2 (c at depth 2): none is complete; only b's sharing (c over b) is computed.
      expect(counts).toMatchObject({ layersMapped: 0, allocations: 3, chains: 0, sharings: 1 });
      expect(sql(`SELECT f.path, c.has_layer_figures FROM run_images ri JOIN chains c ON c.id = ri.chain_id
        JOIN files f ON f.id = c.top_file_id WHERE ri.run_id = ${runId} AND c.map_id IS NOT NULL ORDER BY f.path`)
        .map((r) => Object.values(r as object)))
        .toEqual([[path.join(root, 'a.qcow2'), 0], [path.join(root, 'b.qcow2'), 0], [path.join(root, 'c.qcow2'), 0]]);
      // What could be computed was: the shadowed bytes of the layers with an own allocation.
      expect(sql(`SELECT count(*) AS n FROM chain_layers cl JOIN files f ON f.id = cl.file_id
        WHERE f.path <> '${base}' AND cl.shadowed_data_bytes IS NULL
        AND cl.chain_id IN (SELECT chain_id FROM run_images WHERE run_id = ${runId})`)).toEqual([{ n: 0 }]);
      expect(sql(`SELECT code FROM run_findings WHERE run_id = ${runId}`)).toEqual([{ code: 'E_LAYER_FIGURES' }]);
    });
  });

  it('an aborted pass stops before computing anything', async () => {
    await withStore(async (store, sql) => {
      sql('DELETE FROM run_base_sharings; DELETE FROM base_sharings; DELETE FROM file_allocations; UPDATE chains SET has_layer_figures = 0');
      const runId = repeatRun(store, (s) => sql(s));
      const controller = new AbortController();
      controller.abort();
      expect(await pass(store, runId, controller.signal).run()).toMatchObject({ allocations: 0, chains: 0, sharings: 0 });
    });
  });
});
