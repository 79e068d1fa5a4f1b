#!/usr/bin/env node
// imgaudit report benchmark: every output of the reading commands over a
// synthetic database of N images (default 10,000) and R nightly runs
// (default 30), built directly with SQL inserts through the project's own
// migrations and run-totals code (dist/). Each timing is the best of 3
// spawns of `node dist/cli.js ...` and includes Node's start-up (measured
// on its own line). The goal (issue 4): reports over 10,000 images render in
// seconds. Never a timed test.
//
// With --layers the tables of migration 0004 are filled too, as the scan's
// post-scan pass fills them: own allocations, shadowed bytes, commit growth,
// one base sharing per base and run, and each root's file system per run.
//
// Usage: npm run build && node bench/report-bench.mjs [--images N] [--runs R] [--layers] [--keep]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(REPO, 'dist/cli.js');
const { migrate } = await import(path.join(REPO, 'dist/store/migrator.js'));
const { RunRepo } = await import(path.join(REPO, 'dist/store/run-repo.js'));

function option(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  return at < 0 ? fallback : Number(process.argv[at + 1]);
}
const IMAGES = option('images', 10_000);
const RUNS = option('runs', 30);
const BASES = 100;
const ROOTS = 4;
const MiB = 1 << 20;
const GOAL_MS = 5_000;

/** Deterministic pseudo-random numbers (mulberry32). */
function rng(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function buildDatabase(file) {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  migrate(db);
  const random = rng(42);
  const insert = {
    root: db.prepare('INSERT INTO roots (path) VALUES (?)'),
    image: db.prepare('INSERT INTO images (path) VALUES (?)'),
    file: db.prepare(`INSERT INTO files (path, dev, ino, size_bytes, allocated_bytes, mtime_ns, ctime_ns, format,
      virtual_size_bytes, backing_name, backing_format, cluster_size_bytes, version, flags)
      VALUES (?, 2049, ?, ?, ?, ?, ?, ?, ?, ?, ?, 65536, '3', '[]')`),
    map: db.prepare('INSERT INTO maps (hash, entry_count, virtual_size_bytes) VALUES (?, 1, ?)'),
    entry: db.prepare('INSERT INTO map_entries (map_id, start_bytes, length_bytes, depth, flags, offset_bytes) VALUES (?, 0, ?, 0, 5, 0)'),
    chain: db.prepare(`INSERT INTO chains (key, top_file_id, map_id, layer_count, virtual_size_bytes, unallocated_bytes,
      error_code, error_message) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
    layer: db.prepare('INSERT INTO chain_layers (chain_id, depth, file_id, data_bytes, zero_bytes, preallocated_bytes) VALUES (?, ?, ?, ?, ?, ?)'),
    finding: db.prepare("INSERT INTO chain_findings (chain_id, seq, code, severity, depth, message) VALUES (?, 0, ?, ?, ?, ?)"),
    run: db.prepare(`INSERT INTO runs (started_at, status, pid, host, tool_version, roots, config, fingerprint, is_full)
      VALUES (?, 'running', 1, 'bench', 'bench', ?, '{}', 'f', 0)`),
    runImage: db.prepare('INSERT INTO run_images (run_id, image_id, chain_id, root_id, change) VALUES (?, ?, ?, ?, ?)'),
  };
  let ino = 1;
  let key = 0;
  const roots = Array.from({ length: ROOTS }, (_, i) => `/srv/pool${i}`);
  const rootIds = roots.map((root) => Number(insert.root.run(root).lastInsertRowid));
  const bases = Array.from({ length: BASES }, (_, i) => {
    const virtual = (8 + (i % 8) * 8) * 1024 * MiB;
    const allocated = Math.floor(virtual * (0.1 + random() * 0.3));
    const path_ = `${roots[i % ROOTS]}/bases/base-${i}.qcow2`;
    const fileId = Number(insert.file.run(path_, ino++, allocated, allocated, 1, 1, 'qcow2', virtual, null, null).lastInsertRowid);
    return { path: path_, fileId, virtual, allocated };
  });
  // Each image: an overlay of one base (80 %), a standalone qcow2 (15 %) or raw (4 %), or broken (1 %).
  const images = Array.from({ length: IMAGES }, (_, i) => {
    const root = i % ROOTS;
    const kind = i % 100 === 0 ? 'broken' : i % 20 === 1 ? 'raw' : i % 7 === 2 ? 'standalone' : 'overlay';
    const path_ = `${roots[root]}/vms/vm-${String(i).padStart(5, '0')}.${kind === 'raw' ? 'raw' : 'qcow2'}`;
    const imageId = Number(insert.image.run(path_).lastInsertRowid);
    return { path: path_, imageId, rootId: rootIds[root], kind, base: bases[i % BASES], allocated: Math.floor(random() * 4096) * MiB };
  });
  function chainOf(image, generation) {
    const base = image.base;
    const virtual = image.kind === 'overlay' ? base.virtual : 16 * 1024 * MiB;
    const allocated = image.allocated + generation * 64 * MiB;
    const fileId = Number(insert.file.run(image.path, ino++, allocated, allocated, generation, generation,
      image.kind === 'raw' ? 'raw' : 'qcow2', virtual, image.kind === 'overlay' ? path.relative(path.dirname(image.path), base.path) : null,
      image.kind === 'overlay' ? 'qcow2' : null).lastInsertRowid);
    if (image.kind === 'broken') {
      const chainId = Number(insert.chain.run(`k${key++}`, fileId, null, 1, virtual, null, 'E_BACKING_MISSING', 'no such file').lastInsertRowid);
      insert.layer.run(chainId, 0, fileId, null, null, null);
      insert.finding.run(chainId, 'E_BACKING_MISSING', 'error', 1, `${image.path}: backing file missing`);
      return chainId;
    }
    const own = Math.min(allocated, virtual);
    const zero = Math.floor(own / 16);
    const fromBase = image.kind === 'overlay' ? Math.min(base.allocated, virtual - own - zero) : 0;
    const unallocated = virtual - own - zero - fromBase;
    const mapId = Number(insert.map.run(`h${key}`, virtual).lastInsertRowid);
    insert.entry.run(mapId, virtual);
    const layers = image.kind === 'overlay' ? 2 : 1;
    const chainId = Number(insert.chain.run(`k${key++}`, fileId, mapId, layers, virtual, unallocated, null, null).lastInsertRowid);
    insert.layer.run(chainId, 0, fileId, own, zero, 0);
    if (layers === 2) insert.layer.run(chainId, 1, base.fileId, fromBase, 0, 0);
    return chainId;
  }
  const runs = new RunRepo(db);
  const start = Date.parse('2026-10-01T02:00:00Z');
  const chains = new Map();
  for (let r = 0; r < RUNS; r++) {
    db.transaction(() => {
      const runId = Number(insert.run.run(new Date(start + r * 86_400_000).toISOString(), JSON.stringify(roots)).lastInsertRowid);
      for (const image of images) {
        // Every night a tenth of the images grow.
        const isChanged = r === 0 || random() < 0.1;
        if (isChanged) chains.set(image.imageId, { chainId: chainOf(image, r), generation: r });
        insert.runImage.run(runId, image.imageId, chains.get(image.imageId).chainId, image.rootId, r === 0 ? 2 : isChanged ? 1 : 0);
      }
      runs.end(runId, 'complete', new Date(start + r * 86_400_000 + 600_000));
    })();
  }
  if (process.argv.includes('--layers')) fillLayerTables(db, rootIds);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}

/** The 0004 tables, filled as a scan's post-scan pass would (figures made up, shapes real). */
function fillLayerTables(db, rootIds) {
  db.transaction(() => {
    db.exec(`INSERT INTO file_allocations (file_id, map_id, data_bytes, zero_bytes, preallocated_bytes,
               true_data_bytes, true_zero_bytes, true_preallocated_bytes, unwritten_bytes)
             SELECT id, (SELECT min(id) FROM maps), allocated_bytes, 0, 0, allocated_bytes - allocated_bytes / 8, 0,
                    allocated_bytes / 8, allocated_bytes / 8 FROM files`);
    db.exec(`UPDATE chain_layers SET shadowed_data_bytes = CASE WHEN depth = 0 THEN 0 ELSE coalesce(data_bytes, 0) / 4 END,
               shadowed_zero_bytes = 0, shadowed_preallocated_bytes = 0 WHERE data_bytes IS NOT NULL`);
    db.exec(`UPDATE chains SET has_layer_figures = 1,
               commit_growth_bytes = CASE WHEN layer_count > 1 THEN (SELECT allocated_bytes / 2 FROM files WHERE id = top_file_id) END
             WHERE map_id IS NOT NULL`);
    const runIds = db.prepare("SELECT id FROM runs ORDER BY id").pluck().all();
    const filesystem = db.prepare(`INSERT INTO run_filesystems (run_id, root_id, dev, capacity_bytes, free_bytes, available_bytes)
      VALUES (?, ?, ?, ?, ?, ?)`);
    const sharing = db.prepare(`INSERT INTO base_sharings (key, file_id, overlay_count, read_bytes, shared_bytes, unread_bytes)
      VALUES (?, ?, ?, ?, ?, ?)`);
    const overlay = db.prepare('INSERT INTO base_sharing_overlays (sharing_id, chain_id, read_bytes, unique_bytes) VALUES (?, ?, ?, ?)');
    const runSharing = db.prepare('INSERT INTO run_base_sharings (run_id, sharing_id) VALUES (?, ?)');
    const overlays = db.prepare(`SELECT cl.file_id AS baseId, ri.chain_id AS chainId, cl.data_bytes AS readBytes
      FROM run_images ri JOIN chain_layers cl ON cl.chain_id = ri.chain_id AND cl.depth = 1 WHERE ri.run_id = ?`);
    runIds.forEach((runId, r) => {
      rootIds.forEach((rootId, i) => filesystem.run(runId, rootId, 2049 + i, 16 * 1024 ** 4, 8 * 1024 ** 4 - r * 10 * 1024 ** 3,
        7 * 1024 ** 4 - r * 10 * 1024 ** 3));
      const byBase = new Map();
      for (const row of overlays.all(runId)) byBase.set(row.baseId, [...(byBase.get(row.baseId) ?? []), row]);
      for (const [baseId, rows] of byBase) {
        const read = Math.max(...rows.map((row) => row.readBytes));
        const id = Number(sharing.run(`${runId}:${baseId}`, baseId, rows.length, read, Math.floor(read / 2), 0).lastInsertRowid);
        for (const row of rows) overlay.run(id, row.chainId, row.readBytes, Math.floor(row.readBytes / 8));
        runSharing.run(runId, id);
      }
    });
  })();
}

function time(args) {
  let best = Infinity;
  let bytes = 0;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 1 << 30 });
    const ms = performance.now() - t0;
    if (r.status !== 0 && !(args[0] === 'check' && r.status === 1)) {
      throw new Error(`imgaudit ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
    }
    best = Math.min(best, ms);
    bytes = Buffer.byteLength(r.stdout);
  }
  return { ms: best, bytes };
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-report-bench-'));
const dbFile = path.join(dir, 'bench.db');
try {
  const t0 = performance.now();
  buildDatabase(dbFile);
  console.log(`synthetic database: ${IMAGES} images x ${RUNS} runs${process.argv.includes('--layers') ? ' (with layer tables)' : ''}, `
    + `${(fs.statSync(dbFile).size / MiB).toFixed(1)} MiB, `
    + `built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const startup = time(['--version']);
  console.log(`node start-up (imgaudit --version): ${startup.ms.toFixed(0)} ms\n`);
  const cases = [
    ['report', '--format', 'text'],
    ['report', '--format', 'markdown'],
    ['report', '--format', 'json'],
    ['report', '--format', 'csv'],
    ['report', '--format', 'html'],
    ['report', '--format', 'prometheus'],
    ['report', '--by', 'layer', '--format', 'csv'],
    ['report', '--by', 'image', '--format', 'text'],
    ['report', '--by', 'image', '--format', 'html'],
    ['report', '--by', 'root', '--format', 'text'],
    ['diff', '--format', 'text'],
    ['diff', '--format', 'json'],
    ['diff', '--format', 'csv'],
    ['diff', '--format', 'html'],
    ['runs', '--format', 'text'],
    ['check', '--format', 'json'],
    ['query', 'SELECT path, sum(disk_usage_growth_bytes) AS growth_bytes FROM image_growth '
      + "WHERE to_started_at >= '2026-10-24' GROUP BY path HAVING growth_bytes > 10 * 1024 * 1024 * 1024"],
  ];
  console.log('command'.padEnd(64) + 'best of 3'.padStart(10) + 'output'.padStart(12));
  let worst = 0;
  for (const args of cases) {
    const { ms, bytes } = time([...args, '--db', dbFile]);
    worst = Math.max(worst, ms);
    const label = `imgaudit ${args.join(' ')}`;
    console.log(`${(label.length > 62 ? `${label.slice(0, 59)}...` : label).padEnd(64)}${`${ms.toFixed(0)} ms`.padStart(10)}`
      + `${`${(bytes / 1024).toFixed(0)} KiB`.padStart(12)}`);
  }
  console.log(`\nslowest: ${worst.toFixed(0)} ms (goal: every output of ${IMAGES} images in seconds, < ${GOAL_MS} ms): `
    + (worst < GOAL_MS ? 'ok' : 'MISSED'));
  process.exitCode = worst < GOAL_MS ? 0 : 1;
} finally {
  if (process.argv.includes('--keep')) console.log(`kept ${dir}`);
  else fs.rmSync(dir, { recursive: true, force: true });
}
