/**
 * The scan maps chains on worker threads. On seeded random estates (real
 * qemu-img/qemu-io images), `-j 8` stores exactly what `-j 1` stores: maps,
 * per-depth bytes, layer figures, sharings and findings. Faults under
 * parallelism: a worker that exits or throws mid-map becomes that image's
 * E_INTERNAL error and the run goes on; an image that changes while a worker
 * maps it is mapped again; a parallel scan killed (SIGTERM, kill -9) leaves
 * earlier complete runs reporting the same, and the next scan repairs.
 * Timing never decides: the map workers' test hook pauses a chain mid-map.
 */
import fs from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SEED, Rng, deriveSeed, formatSeed, seedFromEnv } from '../support/prng.js';
import { create, hasQemu, io, op, runOk } from '../support/qemu.js';
import { tempDir } from '../support/imgaudit.js';
import { exited, expectedFigures, pauseHook, readDb, requireBuild, runCli, startCli, storedFigures, waitFor } from './scan-support.js';

const MiB = 1 << 20;
const SEED = seedFromEnv('SCAN_SEED') || DEFAULT_SEED;
const dir = tempDir('scan-parallel');
afterAll(() => { if (process.env.SCAN_PARALLEL_KEEP === undefined) fs.rmSync(dir, { recursive: true, force: true }); });
let dbs = 0;
const freshDb = (): string => path.join(dir, `db-${dbs++}.db`);

/** Random guest ops over `size` bytes, in 64 KiB units. */
function randomOps(rng: Rng, size: number, count: number): string[] {
  const unit = 64 * 1024;
  return Array.from({ length: count }, () => {
    const offset = rng.int(0, size / unit - 4) * unit;
    const length = rng.int(1, 4) * unit;
    return rng.weighted<() => string>([
      [() => op.write(offset, length, rng.int(1, 250)), 6], [() => op.zero(offset, length), 2],
      [() => op.zero(offset, length, true), 1], [() => op.discard(offset, length), 1],
    ])();
  });
}

/** A random estate under `root`: bases, overlays up to depth 3, odd formats, a broken chain, a non-image. */
function buildEstate(root: string, rng: Rng): void {
  fs.mkdirSync(path.join(root, 'vms'), { recursive: true });
  const qcow2 = (file: string, size: number, options = {}, backing?: { file: string; fmt: string }, ops: string[] = []): void => {
    runOk(create(file, 'qcow2', size, options, backing), root);
    if (ops.length > 0) runOk(io(file, 'qcow2', ops), root);
  };
  qcow2('base.qcow2', 64 * MiB, {}, undefined, randomOps(rng, 64 * MiB, 12));
  runOk(create('base.raw', 'raw', 32 * MiB), root);
  runOk(io('base.raw', 'raw', [op.write(0, MiB, 0x21), op.write(9 * MiB, 64 * 1024, 0x22)]), root);
  const tops: string[] = ['base.qcow2'];
  for (let i = 0; i < 14; i++) {
    const file = `vms/vm-${i}.qcow2`;
    const kind = rng.pick(['over-base', 'over-base', 'over-top', 'over-raw', 'alone', 'prealloc', 'subclusters']);
    if (kind === 'over-base') qcow2(file, 64 * MiB, {}, { file: '../base.qcow2', fmt: 'qcow2' }, randomOps(rng, 64 * MiB, rng.int(1, 10)));
    else if (kind === 'over-top') {
      const below = rng.pick(tops.filter((t) => t.startsWith('vms/')).concat('base.qcow2'));
      qcow2(file, 64 * MiB, {}, { file: path.relative(path.join(root, 'vms'), path.join(root, below)), fmt: 'qcow2' },
        randomOps(rng, 64 * MiB, rng.int(1, 6)));
    } else if (kind === 'over-raw') qcow2(file, 32 * MiB, {}, { file: '../base.raw', fmt: 'raw' }, randomOps(rng, 32 * MiB, rng.int(1, 5)));
    else if (kind === 'alone') qcow2(file, 48 * MiB, { cluster_size: rng.pick([4096, 65536, 262144]) }, undefined, randomOps(rng, 48 * MiB, rng.int(1, 12)));
    else if (kind === 'prealloc') qcow2(file, 16 * MiB, { preallocation: 'metadata' }, undefined, randomOps(rng, 16 * MiB, 3));
    else qcow2(file, 16 * MiB, { extended_l2: true, cluster_size: '128k' }, undefined, [op.write(4096, 4096, 0x71), ...randomOps(rng, 16 * MiB, 2)]);
    tops.push(file);
  }
  runOk(['qemu-img', 'create', '-q', '-f', 'qcow2', '-u', '-b', 'missing.qcow2', '-F', 'qcow2', 'vms/broken.qcow2', String(16 * MiB)], root);
  fs.writeFileSync(path.join(root, 'vms/notes.txt'), 'not an image\n');
  fs.writeFileSync(path.join(root, 'vms/fake.qcow2'), 'not a qcow2 either\n');
}

type Row = Record<string, unknown>;
type Contents = Record<'run' | 'images' | 'layers' | 'chainFindings' | 'runFindings' | 'depths' | 'allocations' | 'sharings', Row[]>;

/**
 * Everything run `runId` stores, keyed by paths and content (never by row
 * ids or the chain keys made of them, which depend on the order chains
 * finish in).
 */
function runContents(db: Database.Database, runId: number): Contents {
  const all = (sql: string): Row[] => db.prepare(sql).all(runId) as Row[];
  const mapOf = `(SELECT m.hash || ':' || m.entry_count || ':' || (SELECT group_concat(e.start_bytes || '/' || e.length_bytes || '/'
    || e.depth || '/' || e.flags || '/' || ifnull(e.offset_bytes, '-'), ' ') FROM map_entries e WHERE e.map_id = m.id) FROM maps m WHERE m.id = c.map_id)`;
  return {
    run: all(`SELECT status, image_count, error_count, new_count, changed_count, read_count, mapped_bytes, virtual_size_bytes,
      disk_usage_bytes, unallocated_bytes FROM runs WHERE id = ?`),
    images: all(`SELECT i.path, ri.change, c.layer_count, c.virtual_size_bytes, c.unallocated_bytes, c.error_code,
      c.error_message, c.commit_growth_bytes, c.has_layer_figures, ${mapOf} AS map
      FROM run_images ri JOIN images i ON i.id = ri.image_id JOIN chains c ON c.id = ri.chain_id WHERE ri.run_id = ? ORDER BY i.path`),
    layers: all(`SELECT i.path, cl.depth, f.path AS file, f.format, cl.data_bytes, cl.zero_bytes, cl.preallocated_bytes,
      cl.shadowed_data_bytes, cl.shadowed_zero_bytes, cl.shadowed_preallocated_bytes
      FROM run_images ri JOIN images i ON i.id = ri.image_id JOIN chain_layers cl ON cl.chain_id = ri.chain_id
      JOIN files f ON f.id = cl.file_id WHERE ri.run_id = ? ORDER BY i.path, cl.depth`),
    chainFindings: all(`SELECT i.path, cf.seq, cf.code, cf.severity, cf.depth, cf.message FROM run_images ri
      JOIN images i ON i.id = ri.image_id JOIN chain_findings cf ON cf.chain_id = ri.chain_id WHERE ri.run_id = ? ORDER BY i.path, cf.seq`),
    runFindings: all('SELECT path, code, severity, message FROM run_findings WHERE run_id = ? ORDER BY path, code, message'),
    depths: all('SELECT depth, data_bytes, zero_bytes, preallocated_bytes FROM run_depth_totals WHERE run_id = ? ORDER BY depth'),
    allocations: all(`SELECT DISTINCT f.path, a.data_bytes, a.zero_bytes, a.preallocated_bytes, a.true_data_bytes, a.true_zero_bytes,
      a.true_preallocated_bytes, a.unwritten_bytes, (SELECT hash FROM maps WHERE id = a.map_id) AS map
      FROM run_images ri JOIN chain_layers cl ON cl.chain_id = ri.chain_id JOIN files f ON f.id = cl.file_id
      JOIN file_allocations a ON a.file_id = f.id WHERE ri.run_id = ? ORDER BY f.path`),
    // Chains by the paths of the run's images in that state (keys and ids are per database).
    sharings: all(`SELECT f.path, s.overlay_count, s.read_bytes, s.shared_bytes, s.unread_bytes,
      (SELECT group_concat(x, ' ') FROM (SELECT (SELECT group_concat(p, ',') FROM (SELECT i.path AS p FROM run_images ri
        JOIN images i ON i.id = ri.image_id WHERE ri.run_id = r.run_id AND ri.chain_id = o.chain_id ORDER BY i.path))
        || '=' || o.read_bytes || '/' || o.unique_bytes AS x FROM base_sharing_overlays o WHERE o.sharing_id = s.id ORDER BY x)) AS overlays
      FROM run_base_sharings r JOIN base_sharings s ON s.id = r.sharing_id JOIN files f ON f.id = s.file_id
      WHERE r.run_id = ? ORDER BY f.path, overlays`),
  };
}

const contentsOf = (db: string, runId = 1): Contents => readDb(db, (d) => runContents(d, runId));

describe.skipIf(!hasQemu)('parallel scan (e2e)', () => {
  const roots: string[] = [];
  beforeAll(() => {
    requireBuild();
    for (let k = 0; k < 2; k++) {
      const root = path.join(dir, `estate-${k}`);
      buildEstate(root, new Rng(deriveSeed(SEED, k)));
      roots.push(root);
    }
  }, 180_000);

  it(`-j 8 stores exactly what -j 1 stores, on seeded random estates (seed ${formatSeed(SEED)})`, () => {
    for (const root of roots) {
      const one = freshDb();
      const eight = freshDb();
      const first = runCli(['scan', '--db', one, '-j', '1', root], dir);
      const second = runCli(['scan', '--db', eight, '-j', '8', root], dir);
      expect(first.status, first.stderr).toBe(1); // the broken chain is an error
      expect(second.status, second.stderr).toBe(1);
      const expected = contentsOf(one);
      expect(expected.images.length).toBe(17); // base.qcow2, base.raw, 14 vms, broken (fake.qcow2 and notes.txt are no images)
      expect(contentsOf(eight)).toEqual(expected);
      // And the figures are SPEC §3 over qemu-img's own map.
      readDb(eight, (d) => {
        for (const image of ['base.qcow2', 'vms/vm-0.qcow2', 'vms/vm-7.qcow2', 'vms/vm-13.qcow2']) {
          const file = path.join(root, image);
          expect(storedFigures(d, 1, file), image).toEqual(expectedFigures(file));
        }
      });
    }
  }, 180_000);

  it.each(['exit', 'throw'] as const)('a worker that %ss mid-map is that image\'s E_INTERNAL error; the run goes on', (kind) => {
    const root = roots[0]!;
    const clean = freshDb();
    expect(runCli(['scan', '--db', clean, '-j', '8', root], dir).status).toBe(1);
    const db = freshDb();
    const faulty = runCli(['scan', '--db', db, '-j', '8', root], dir, { IMGAUDIT_TEST_WORKER_FAULT: `${kind}:vm-3.qcow2` });
    expect(faulty.status, faulty.stderr).toBe(1);
    const victim = path.join(root, 'vms/vm-3.qcow2');
    const [got, want] = [contentsOf(db), contentsOf(clean)];
    const row = got.images.find((image) => image.path === victim)!;
    expect(row.error_code).toBe('E_INTERNAL');
    expect(String(row.error_message)).toMatch(kind === 'exit' ? /map worker exited \(status 70\)/ : /map worker failed: injected fault/);
    expect(got.run[0]!.status).toBe('complete');
    // Every other image is stored as by a clean scan.
    const others = (c: Contents): Row[] => c.images.filter((image) => image.path !== victim);
    expect(others(got)).toEqual(others(want));
    readDb(db, (d) => expect(d.prepare('SELECT count(*) FROM maps WHERE hash IS NULL').pluck().get()).toBe(0));
    // The next scan maps it (a failed chain is never reused).
    expect(runCli(['scan', '--db', db, '-j', '8', root], dir).status).toBe(1);
    const withoutChange = (rows: Row[]): Row[] => rows.map(({ change: _, ...rest }) => rest);
    const next = contentsOf(db, 2).images;
    expect(withoutChange(next)).toEqual(withoutChange(want.images));
    // Only the victim changed since the faulty run.
    const changes = new Set(next.filter((image) => image.path !== victim).map((image) => image.change));
    expect(changes.size).toBe(1);
    expect(changes.has(next.find((image) => image.path === victim)!.change)).toBe(false);
  }, 120_000);

  it('an image that changes while a worker maps it is mapped again (and kept unstable without retries)', async () => {
    for (const retries of [2, 0]) {
      const root = path.join(dir, `changing-${retries}`);
      fs.mkdirSync(root);
      runOk(create('base.qcow2', 'qcow2', 64 * MiB), root);
      runOk(io('base.qcow2', 'qcow2', [op.write(0, 4 * MiB, 0x11)]), root);
      runOk(create('vm.qcow2', 'qcow2', 64 * MiB, {}, { file: 'base.qcow2', fmt: 'qcow2' }), root);
      runOk(io('vm.qcow2', 'qcow2', [op.write(MiB, MiB, 0x22)]), root);
      const config = path.join(dir, `changing-${retries}.json`);
      fs.writeFileSync(config, JSON.stringify({ roots: [root], changeRetries: retries }));
      const db = freshDb();
      const marker = path.join(dir, `changing-${retries}.paused`);
      const child = startCli(['scan', '--db', db, '--config', config, '-j', '8'], dir, pauseHook('pause', 'vm.qcow2', marker));
      const done = exited(child);
      await waitFor(() => fs.existsSync(marker), 'the worker to pause on vm.qcow2');
      runOk(io('vm.qcow2', 'qcow2', [op.write(40 * MiB, 2 * MiB, 0x33)]), root);
      fs.rmSync(marker);
      const { status, stderr } = await done;
      const vm = path.join(root, 'vm.qcow2');
      const findings = readDb(db, (d) => d.prepare('SELECT code FROM run_findings WHERE path = ?').pluck().all(vm));
      if (retries > 0) {
        expect(status, stderr).toBe(0);
        expect(findings).toEqual([]);
        expect(readDb(db, (d) => storedFigures(d, 1, vm))).toEqual(expectedFigures(vm));
      } else {
        expect(findings).toEqual(['E_IMAGE_CHANGED']);
      }
    }
  }, 120_000);

  it('SIGTERM and kill -9 during a parallel scan: earlier complete runs report the same, the next scan repairs', async () => {
    const root = roots[1]!;
    const db = freshDb();
    expect(runCli(['scan', '--db', db, '-j', '8', root], dir).status).toBe(1);
    const report = (): string => runCli(['report', '--db', db, '--run', '1', '--format', 'json'], dir).stdout;
    const before = report();
    const complete = contentsOf(db);
    // Change an image so that the next scans map it (and stay paused there).
    runOk(io('vms/vm-5.qcow2', 'qcow2', [op.write(5 * MiB, MiB, 0x5a)]), root);
    // (kill -9 while a map is half written is in scan-faults.e2e.test.ts: it needs a map of more than one block.)
    for (const [signal, hook] of [['SIGTERM', 'pause'], ['SIGKILL', 'pause']] as const) {
      const marker = path.join(dir, `killed-${dbs}-${signal}-${hook}`);
      const child = startCli(['scan', '--db', db, '-j', '8', '--full', root], dir, pauseHook(hook, 'vm-5.qcow2', marker));
      const done = exited(child);
      await Promise.race([waitFor(() => fs.existsSync(marker), 'the worker to pause on vm-5.qcow2'),
        done.then((r) => { throw new Error(`the scan ended first (${r.status}): ${r.stderr}`); })]);
      child.kill(signal);
      expect((await done).status).toBe(signal === 'SIGTERM' ? 143 : null);
      expect(report()).toBe(before);
      expect(contentsOf(db)).toEqual(complete);
    }
    const repaired = runCli(['scan', '--db', db, '-j', '8', root], dir);
    expect(repaired.status, repaired.stderr).toBe(1);
    readDb(db, (d) => {
      expect(d.prepare('SELECT id, status FROM runs ORDER BY id').all()).toEqual([
        { id: 1, status: 'complete' }, { id: 2, status: 'interrupted' }, { id: 3, status: 'interrupted' },
        { id: 4, status: 'complete' }]);
      expect(d.prepare('SELECT count(*) FROM maps WHERE hash IS NULL').pluck().get()).toBe(0);
      expect(d.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(d.pragma('foreign_key_check')).toEqual([]);
      const vm5 = path.join(root, 'vms/vm-5.qcow2');
      expect(storedFigures(d, 4, vm5)).toEqual(expectedFigures(vm5));
    });
    expect(report()).toBe(before);
  }, 180_000);
});
