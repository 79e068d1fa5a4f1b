#!/usr/bin/env node
// Central store benchmark (issue 14), on a throwaway PostgreSQL cluster:
//  1. push: a synthetic host file of N images (default 5,000; overlays of
//     100 bases, 32 map entries per chain, layer figures and file systems
//     filled) pushed into a fresh central store, then a next run with every
//     image unchanged pushed again (it should send little more than its run
//     rows): seconds, rows sent, rows/s.
//  2. fleet: `imgaudit report --fleet` over H hosts x I images x R runs
//     (default 50 x 2,000 x 30), generated directly in PostgreSQL; best of 3
//     spawns of the CLI per format (includes Node's start-up). Goal: <= 2 s.
// Never a timed test. Usage: npm run build && node bench/central-bench.mjs
//   [--images N] [--hosts H] [--host-images I] [--runs R] [--skip-push] [--skip-fleet]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { startCluster } from './pg-cluster.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(REPO, 'dist/cli.js');
const { migrate } = await import(path.join(REPO, 'dist/store/migrator.js'));
const { RunRepo } = await import(path.join(REPO, 'dist/store/run-repo.js'));
const { pushDatabase } = await import(path.join(REPO, 'dist/store/pg/push-database.js'));
const { openReadStore } = await import(path.join(REPO, 'dist/store/read-store.js'));
const { loadDefinitions } = await import(path.join(REPO, 'dist/report/definitions.js'));
const { FLEET_REPORTS_DIR } = await import(path.join(REPO, 'dist/report/fleet/build-fleet.js'));

function option(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  return at < 0 ? fallback : Number(process.argv[at + 1]);
}
const IMAGES = option('images', 5_000);
const HOSTS = option('hosts', 50);
const HOST_IMAGES = option('host-images', 2_000);
const RUNS = option('runs', 30);
const BASES = 100;
const ENTRIES = 32;
const MiB = 1 << 20;
const FLEET_GOAL_MS = 2_000;

/** A host file: run 1 with every image new, run 2 with every image unchanged. */
function buildHostFile(file) {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  migrate(db);
  const insert = {
    root: db.prepare('INSERT INTO roots (path) VALUES (?)'),
    image: db.prepare('INSERT INTO images (path) VALUES (?)'),
    file: db.prepare(`INSERT INTO files (path, dev, ino, size_bytes, allocated_bytes, mtime_ns, ctime_ns, format, virtual_size_bytes,
      backing_name, backing_format, cluster_size_bytes, version, flags) VALUES (?, 2049, ?, ?, ?, ?, ?, 'qcow2', ?, ?, ?, 65536, '3', '[]')`),
    map: db.prepare('INSERT INTO maps (hash, entry_count, virtual_size_bytes) VALUES (?, ?, ?)'),
    entry: db.prepare('INSERT INTO map_entries (map_id, start_bytes, length_bytes, depth, flags, offset_bytes) VALUES (?, ?, ?, ?, ?, ?)'),
    chain: db.prepare(`INSERT INTO chains (key, top_file_id, map_id, layer_count, virtual_size_bytes, unallocated_bytes, commit_growth_bytes,
      has_layer_figures) VALUES (?, ?, ?, ?, ?, ?, ?, 1)`),
    layer: db.prepare(`INSERT INTO chain_layers (chain_id, depth, file_id, data_bytes, zero_bytes, preallocated_bytes, shadowed_data_bytes,
      shadowed_zero_bytes, shadowed_preallocated_bytes) VALUES (?, ?, ?, ?, 0, 0, ?, 0, 0)`),
    allocation: db.prepare(`INSERT INTO file_allocations (file_id, map_id, data_bytes, zero_bytes, preallocated_bytes) VALUES (?, ?, ?, 0, 0)`),
    run: db.prepare(`INSERT INTO runs (started_at, status, pid, host, tool_version, roots, config, fingerprint, is_full)
      VALUES (?, 'running', 1, 'bench', 'bench', '["/srv/pool"]', '{}', 'f', 0)`),
    runImage: db.prepare('INSERT INTO run_images (run_id, image_id, chain_id, root_id, change) VALUES (?, ?, ?, ?, ?)'),
    filesystem: db.prepare('INSERT INTO run_filesystems (run_id, root_id, dev, capacity_bytes, free_bytes, available_bytes) VALUES (?, ?, 2049, ?, ?, ?)'),
  };
  const virtual = 32 * 1024 * MiB;
  const mapOf = (key, depthOf) => {
    const id = Number(insert.map.run(key, ENTRIES, virtual).lastInsertRowid);
    const length = virtual / ENTRIES;
    for (let e = 0; e < ENTRIES; e++) insert.entry.run(id, e * length, length, depthOf(e), e % 3 === 0 ? 1 : 5, e % 3 === 0 ? null : e * length);
    return id;
  };
  db.transaction(() => {
    const rootId = Number(insert.root.run('/srv/pool').lastInsertRowid);
    const bases = Array.from({ length: BASES }, (_, b) => {
      const fileId = Number(insert.file.run(`/srv/pool/bases/base-${b}.qcow2`, 1_000_000 + b, 4 * 1024 * MiB, 4 * 1024 * MiB, 1, 1, virtual, null, null).lastInsertRowid);
      insert.allocation.run(fileId, mapOf(`base-${b}`, () => 0), 4 * 1024 * MiB);
      return fileId;
    });
    const chains = Array.from({ length: IMAGES }, (_, i) => {
      const imagePath = `/srv/pool/vms/vm-${String(i).padStart(5, '0')}.qcow2`;
      const imageId = Number(insert.image.run(imagePath).lastInsertRowid);
      const fileId = Number(insert.file.run(imagePath, i + 1, (i % 97 + 1) * MiB, (i % 97 + 1) * MiB, 2, 2, virtual, `../bases/base-${i % BASES}.qcow2`, 'qcow2').lastInsertRowid);
      const mapId = mapOf(`chain-${i}`, (e) => (e + i) % 2);
      const chainId = Number(insert.chain.run(`k${i}`, fileId, mapId, 2, virtual, virtual / 4, (i % 97 + 1) * MiB / 2).lastInsertRowid);
      insert.layer.run(chainId, 0, fileId, (i % 97 + 1) * MiB, 0);
      insert.layer.run(chainId, 1, bases[i % BASES], 2 * 1024 * MiB, MiB);
      return { imageId, chainId };
    });
    const runs = new RunRepo(db);
    for (const r of [0, 1]) {
      const runId = Number(insert.run.run(new Date(Date.parse('2026-11-01T02:00:00Z') + r * 86_400_000).toISOString()).lastInsertRowid);
      for (const { imageId, chainId } of chains) insert.runImage.run(runId, imageId, chainId, rootId, r === 0 ? 2 : 0);
      insert.filesystem.run(runId, rootId, 16 * 1024 ** 4, 8 * 1024 ** 4, 7 * 1024 ** 4);
      runs.end(runId, 'complete', new Date(Date.parse('2026-11-01T02:10:00Z') + r * 86_400_000));
    }
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}

/** Hides run 2 from the host file (to push run 1 alone first), or shows it again. */
function setRun2Visible(file, isVisible) {
  const db = new Database(file);
  db.prepare("UPDATE runs SET status = ? WHERE id = 2").run(isVisible ? 'complete' : 'running');
  db.close();
}

function sumRows(rows) {
  return Object.values(rows).reduce((sum, n) => sum + n, 0);
}

async function benchPush(cluster, dir) {
  const file = path.join(dir, 'host.db');
  let t0 = performance.now();
  buildHostFile(file);
  console.log(`host file: ${IMAGES} images x 2 runs (${BASES} bases, ${ENTRIES} map entries per chain), `
    + `${(fs.statSync(file).size / MiB).toFixed(1)} MiB, built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  cluster.psql('CREATE DATABASE push_bench');
  const central = cluster.url('push_bench');
  await pushDatabase({ database: file, central, host: 'bench', isMigrateOnly: true });
  setRun2Visible(file, false);
  t0 = performance.now();
  const first = await pushDatabase({ database: file, central, host: 'bench' });
  const firstS = (performance.now() - t0) / 1000;
  setRun2Visible(file, true);
  t0 = performance.now();
  const second = await pushDatabase({ database: file, central, host: 'bench' });
  const secondS = (performance.now() - t0) / 1000;
  for (const [label, outcome, s] of [['push of run 1 (fresh store)', first, firstS], ['re-push: run 2, unchanged', second, secondS]]) {
    const rows = sumRows(outcome.rows);
    console.log(`${label.padEnd(30)} ${s.toFixed(2).padStart(6)} s  ${String(rows).padStart(8)} rows  ${Math.round(rows / s).toLocaleString('en').padStart(9)} rows/s`);
    console.log(`  ${Object.entries(outcome.rows).filter(([, n]) => n > 0).map(([t, n]) => `${t} ${n}`).join(', ')}`);
  }
}

/** H hosts x I images x R runs, straight into the central tables. */
function fleetSql() {
  return `
SET synchronous_commit = off;
INSERT INTO roots (id, path) VALUES (1, '/var/lib/libvirt/images');
INSERT INTO images (id, path) SELECT i + 1, '/var/lib/libvirt/images/vm-' || i || '.qcow2' FROM generate_series(0, ${HOST_IMAGES - 1}) i;
-- Bases: 20 templates, copied to every host (same allocation map).
INSERT INTO maps (id, hash, entry_count, virtual_size_bytes) SELECT b + 1, 'base-' || b, 1, 34359738368 FROM generate_series(0, 19) b;
INSERT INTO files (id, path, dev, ino, size_bytes, allocated_bytes, mtime_ns, ctime_ns, format, virtual_size_bytes, flags)
SELECT h * 20 + b + 1, '/var/lib/libvirt/images/base-' || b || '.qcow2', 2049, 900000 + h * 100 + b, 4294967296, 4294967296,
       1700000000000000000, 1700000000000000000, 'qcow2', 34359738368, '[]'
FROM generate_series(0, ${HOSTS - 1}) h, generate_series(0, 19) b;
INSERT INTO file_allocations (file_id, map_id, data_bytes, zero_bytes, preallocated_bytes)
SELECT h * 20 + b + 1, b + 1, 4294967296, 0, 0 FROM generate_series(0, ${HOSTS - 1}) h, generate_series(0, 19) b;
-- Each image's state changes every 20 runs (5 % a night): one top file, map and chain state per version.
CREATE TEMP TABLE versions AS
SELECT h, i, v, row_number() OVER (ORDER BY h, i, v) + 100000 AS id
FROM generate_series(0, ${HOSTS - 1}) h, generate_series(0, ${HOST_IMAGES - 1}) i,
     LATERAL generate_series((1 + (h * 7 + i) % 20) / 20, (${RUNS} + (h * 7 + i) % 20) / 20) v;
INSERT INTO files (id, path, dev, ino, size_bytes, allocated_bytes, mtime_ns, ctime_ns, format, virtual_size_bytes, backing_name, flags)
SELECT id, '/var/lib/libvirt/images/vm-' || i || '.qcow2', 2049, h * 1000000 + i + 1, (i % 97 + 1 + v) * 1048576, (i % 97 + 1 + v) * 1048576,
       1700000000000000000 + v, 1700000000000000000 + v, 'qcow2', 34359738368, 'base-' || (i % 20) || '.qcow2', '[]'
FROM versions;
INSERT INTO maps (id, hash, entry_count, virtual_size_bytes) SELECT id, 'm-' || id, 1, 34359738368 FROM versions;
INSERT INTO chains (id, key, top_file_id, map_id, layer_count, virtual_size_bytes, unallocated_bytes, commit_growth_bytes, has_layer_figures)
SELECT id, 'c-' || id, id, id, 2, 34359738368, 17179869184, (i % 97 + 1 + v) * 524288, 1 FROM versions;
INSERT INTO chain_layers (chain_id, depth, file_id, data_bytes, zero_bytes, preallocated_bytes, shadowed_data_bytes, shadowed_zero_bytes, shadowed_preallocated_bytes)
SELECT id, 0, id, (i % 97 + 1 + v) * 1048576, 65536, 0, 0, 0, 0 FROM versions
UNION ALL
SELECT id, 1, h * 20 + (i % 20) + 1, 2147483648, 0, 1048576, 1073741824, 0, 0 FROM versions;
INSERT INTO runs (id, started_at, finished_at, status, pid, host, tool_version, roots, config, fingerprint, is_full, image_count,
                  virtual_size_bytes, disk_usage_bytes, unallocated_bytes, host_name, local_id, pushed_at)
SELECT h * ${RUNS} + r, to_char(current_date + time '02:00' + (r - ${RUNS}) * interval '1 day' + h * interval '1 minute', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
       to_char(current_date + time '02:20' + (r - ${RUNS}) * interval '1 day' + h * interval '1 minute', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
       'complete', 1, 'host-' || h, 'bench', '["/var/lib/libvirt/images"]', '{}', 'f', 0, ${HOST_IMAGES},
       ${HOST_IMAGES}::bigint * 34359738368, (${HOST_IMAGES}::bigint * 50 + r * (h + 1)) * 1048576, ${HOST_IMAGES}::bigint * 17179869184,
       'host-' || h, r, '2026-11-01T03:00:00.000Z'
FROM generate_series(0, ${HOSTS - 1}) h, generate_series(1, ${RUNS}) r;
INSERT INTO run_images (run_id, image_id, chain_id, root_id, change)
SELECT v.h * ${RUNS} + r, v.i + 1, v.id, 1, CASE WHEN r = 1 THEN 2 WHEN (r + (v.h * 7 + v.i) % 20) % 20 = 0 THEN 1 ELSE 0 END
FROM generate_series(1, ${RUNS}) r
JOIN versions v ON v.v = (r + (v.h * 7 + v.i) % 20) / 20;
INSERT INTO run_depth_totals (run_id, depth, data_bytes, zero_bytes, preallocated_bytes)
SELECT id, d, CASE d WHEN 0 THEN 53687091200 + id ELSE 4294967296000 END, 65536 * ${HOST_IMAGES}, CASE d WHEN 1 THEN 2097152000 ELSE 0 END
FROM runs, generate_series(0, 1) d;
INSERT INTO run_filesystems (run_id, root_id, dev, capacity_bytes, free_bytes, available_bytes)
SELECT id, 1, 2049, 17592186044416, 8796093022208 - local_id * 10737418240 * (1 + id % 5), 7696581394432 - local_id * 10737418240 * (1 + id % 5) FROM runs;
-- What a push adds per run for the fleet view (migration 0006).
INSERT INTO run_base_files (run_id, file_id, chain_count)
SELECT ri.run_id, cl.file_id, count(*) FROM run_images ri JOIN chain_layers cl ON cl.chain_id = ri.chain_id AND cl.depth >= 1
GROUP BY ri.run_id, cl.file_id;
INSERT INTO run_layer_totals (run_id, shadowed_data_bytes, shadowed_zero_bytes, shadowed_preallocated_bytes)
SELECT ri.run_id, sum(cl.shadowed_data_bytes), sum(cl.shadowed_zero_bytes), sum(cl.shadowed_preallocated_bytes)
FROM run_images ri JOIN chain_layers cl ON cl.chain_id = ri.chain_id AND cl.depth >= 1 GROUP BY ri.run_id;
ANALYZE;
SELECT (SELECT count(*) FROM runs) || ' runs, ' || (SELECT count(*) FROM run_images) || ' run_images, '
    || (SELECT count(*) FROM chains) || ' chain states, ' || pg_size_pretty(pg_database_size(current_database()));
`;
}

function timeCli(args) {
  let best = Infinity;
  let bytes = 0;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 1 << 30 });
    const ms = performance.now() - t0;
    if (r.status !== 0) throw new Error(`imgaudit ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
    best = Math.min(best, ms);
    bytes = Buffer.byteLength(r.stdout);
  }
  return { ms: best, bytes };
}

async function benchFleet(cluster) {
  cluster.psql('CREATE DATABASE fleet_bench');
  const central = cluster.url('fleet_bench');
  await pushDatabase({ database: '/nonexistent', central, host: 'x', isMigrateOnly: true });
  const t0 = performance.now();
  const summary = cluster.psql(fleetSql(), 'fleet_bench').trim();
  console.log(`\nfleet store: ${HOSTS} hosts x ${HOST_IMAGES} images x ${RUNS} runs: ${summary}, generated in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  // Each definition's query alone (best of 3), through the reading commands' store.
  const store = await openReadStore({ location: central });
  const params = { now: new Date().toISOString(), stale_after_s: 129600, window_days: 30, orphan_min_age_s: 604800, limit: 10 };
  for (const definition of loadDefinitions([FLEET_REPORTS_DIR]).values()) {
    const used = Object.fromEntries(Object.entries(params).filter(([name]) => definition.sql.includes(`$${name}`)));
    let best = Infinity;
    for (let i = 0; i < 3; i++) {
      const t = performance.now();
      await store.select(definition.sql, used);
      best = Math.min(best, performance.now() - t);
    }
    console.log(`  query ${definition.name.padEnd(14)} ${String(Math.round(best)).padStart(6)} ms`);
  }
  await store.close();
  const startup = timeCli(['--version']);
  console.log(`node start-up (imgaudit --version): ${startup.ms.toFixed(0)} ms`);
  let missed = false;
  for (const format of ['text', 'json', 'csv', 'prometheus']) {
    const { ms, bytes } = timeCli(['report', '--fleet', '--db', central, '--format', format]);
    const ok = ms <= FLEET_GOAL_MS;
    missed ||= !ok;
    console.log(`report --fleet --format ${format.padEnd(10)} ${String(Math.round(ms)).padStart(6)} ms  ${String(bytes).padStart(7)} bytes  ${ok ? 'ok' : `MISSED (goal ${FLEET_GOAL_MS} ms)`}`);
  }
  // One host read back through --host (its 30 runs into memory), for comparison.
  for (const args of [['runs', '--format', 'json'], ['report', '--format', 'json']]) {
    const { ms } = timeCli([...args, '--db', central, '--host', 'host-0']);
    console.log(`${[...args, '--host host-0'].join(' ').padEnd(36)} ${String(Math.round(ms)).padStart(6)} ms`);
  }
  return missed;
}

if (!fs.existsSync('/usr/lib/postgresql') && process.env.PG_BIN === undefined) {
  console.log('central benchmark skipped: no PostgreSQL server binaries (Debian package postgresql)');
  process.exit(0);
}
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-central-bench-'));
const cluster = startCluster();
try {
  if (!process.argv.includes('--skip-push')) await benchPush(cluster, dir);
  const missed = process.argv.includes('--skip-fleet') ? false : await benchFleet(cluster);
  process.exitCode = missed ? 1 : 0;
} finally {
  cluster.destroy();
  fs.rmSync(dir, { recursive: true, force: true });
}
