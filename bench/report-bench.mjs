#!/usr/bin/env node
// imgaudit report benchmark: every output of the reading commands (report in
// every format, every definition with --report in every format, --by, diff,
// runs, check, query over the views, prune --dry-run) over
//
//   - an estate of real qcow2 images (--estate N, default 10,000: overlays of
//     one template in directories of 100, every 100th with a snapshot overlay
//     on top), scanned twice by `imgaudit scan` with 1 % of the images
//     written to in between;
//   - synthetic databases of N images (--images N[,N2...], default 10,000
//     and 100,000) and R nightly runs (--runs R, default 30), built directly
//     with SQL inserts through the project's own migrations and run-totals
//     code (dist/), layer tables filled as the post-scan pass fills them.
//
// Each timing is the best of --repeat spawns (default 2) of `node dist/cli.js
// ...` and includes Node's start-up (measured on its own line). Targets
// (issue 16): every output <= 1 s at 10,000 images, <= 10 s at 100,000, and
// the time per image (start-up excluded) not growing from one size to the
// next (a ratio above 1.5 is reported as growth; timings on a shared machine
// are noisy; a command within 100 ms of start-up at the largest size is not
// compared). Never a timed test.
//
// Usage: npm run build && node bench/report-bench.mjs [--estate N | --no-estate] [--images N,...] [--runs R]
//   [--repeat K] [--only PATTERN] [--keep] [--reuse DIR]
import { execFileSync, spawnSync } from 'node:child_process';
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
const RUNS = option('runs', 30);
const REPEAT = option('repeat', 2);
const ESTATE = process.argv.includes('--no-estate') ? 0 : option('estate', 10_000);
const SIZES = (() => {
  const at = process.argv.indexOf('--images');
  return at < 0 ? [10_000, 100_000] : process.argv[at + 1].split(',').map(Number);
})();
/** --reuse DIR: take the estate and synthetic databases a --keep run left in DIR instead of building them. */
const REUSE = (() => {
  const at = process.argv.indexOf('--reuse');
  return at < 0 ? null : process.argv[at + 1];
})();
const ONLY = (() => {
  const at = process.argv.indexOf('--only');
  return at < 0 ? null : new RegExp(process.argv[at + 1]);
})();
const BASES = 100;
/** CPU time above start-up below which a command's time per image is not compared between sizes (noise). */
const NOISE_MS = 100;
const ROOTS = 4;
const MiB = 1 << 20;

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

function buildDatabase(file, IMAGES) {
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
  // Run 1 lists every image; each later run copies the run before it in one
  // statement, then gives a tenth of the images (the ones that grew) a new chain state.
  const copyRun = db.prepare(`INSERT INTO run_images (run_id, image_id, chain_id, root_id, change)
    SELECT ?, image_id, chain_id, root_id, 0 FROM run_images WHERE run_id = ?`);
  const changeImage = db.prepare('UPDATE run_images SET chain_id = ?, change = 1 WHERE run_id = ? AND image_id = ?');
  for (let r = 0; r < RUNS; r++) {
    db.transaction(() => {
      const runId = Number(insert.run.run(new Date(start + r * 86_400_000).toISOString(), JSON.stringify(roots)).lastInsertRowid);
      if (r === 0) {
        for (const image of images) insert.runImage.run(runId, image.imageId, chainOf(image, 0), image.rootId, 2);
      } else {
        copyRun.run(runId, runId - 1);
        for (const image of images) if (random() < 0.1) changeImage.run(chainOf(image, r), runId, image.imageId);
      }
      runs.end(runId, 'complete', new Date(start + r * 86_400_000 + 600_000));
    })();
  }
  fillLayerTables(db, rootIds);
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
      for (const row of overlays.all(runId)) {
        const list = byBase.get(row.baseId);
        if (list === undefined) byBase.set(row.baseId, [row]);
        else list.push(row);
      }
      for (const [baseId, rows] of byBase) {
        const read = rows.reduce((max, row) => Math.max(max, row.readBytes), 0);
        const id = Number(sharing.run(`${runId}:${baseId}`, baseId, rows.length, read, Math.floor(read / 2), 0).lastInsertRowid);
        for (const row of rows) overlay.run(id, row.chainId, row.readBytes, Math.floor(row.readBytes / 8));
        runSharing.run(runId, id);
      }
    });
  })();
}

/**
 * A real estate: one template (an image of the root too) and `count` qcow2
 * overlays of it in directories of 100 (byte copies of 20 distinct ones),
 * every 100th with a snapshot overlay on top; scanned twice, 1 % of the
 * overlays written to in between. Returns the database.
 */
function buildEstate(work, count) {
  const root = path.join(work, 'estate');
  const run = (cmd, args, cwd = root) => execFileSync(cmd, args, { cwd, stdio: ['ignore', 'ignore', 'inherit'] });
  fs.mkdirSync(path.join(root, 'templates'), { recursive: true });
  run('qemu-img', ['create', '-q', '-f', 'qcow2', 'templates/base.qcow2', '20G']);
  run('qemu-io', ['-c', 'write -P 1 0 8M', '-c', 'write -P 2 1G 8M', 'templates/base.qcow2']);
  const distinct = [];
  // Made at the depth of the copies, whose backing name "../templates/base.qcow2" they share; removed before the scans.
  const staging = path.join(root, 'staging');
  fs.mkdirSync(staging);
  for (let i = 0; i < 20; i++) {
    const file = path.join(staging, `overlay-${i}.qcow2`);
    run('qemu-img', ['create', '-q', '-f', 'qcow2', '-o', 'cluster_size=4096', '-b', '../templates/base.qcow2', '-F', 'qcow2', file]);
    run('qemu-io', ['-c', `write -P ${i + 3} ${i * 64}M 64k`, file]);
    distinct.push(file);
  }
  const images = [];
  for (let i = 0; i < count; i++) {
    const dir = path.join(root, `vms${String(Math.floor(i / 100)).padStart(3, '0')}`);
    if (i % 100 === 0) fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `vm-${i}.qcow2`);
    fs.copyFileSync(distinct[i % distinct.length], file);
    images.push(file);
    if (i % 100 === 50) {
      run('qemu-img', ['create', '-q', '-f', 'qcow2', '-o', 'cluster_size=4096', '-b', `vm-${i}.qcow2`, '-F', 'qcow2',
        `vm-${i}-snap.qcow2`], dir);
    }
  }
  fs.rmSync(staging, { recursive: true });
  const db = path.join(work, 'estate.db');
  const scan = () => {
    const r = spawnSync(process.execPath, [CLI, 'scan', '--quiet', '--db', db, root], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`imgaudit scan failed (${r.status}): ${r.stderr}`);
  };
  const t0 = performance.now();
  scan();
  const firstScanMs = performance.now() - t0;
  for (let i = 0; i < count; i += 100) run('qemu-io', ['-c', 'write -P 9 4M 64k', images[i]]);
  scan();
  return { db, firstScanMs };
}

/**
 * Best of REPEAT spawns of `imgaudit args`: wall time and CPU time (user +
 * system, from /usr/bin/time). On a shared machine the CPU time is the
 * steadier figure: waiting for a core shows in the wall time only.
 */
function time(args) {
  let best = { ms: Infinity, cpuMs: Infinity };
  const cpuFile = path.join(dir, 'cpu.txt');
  for (let i = 0; i < REPEAT; i++) {
    const t0 = performance.now();
    const r = spawnSync('/usr/bin/time', ['-o', cpuFile, '-f', '%U %S', process.execPath, CLI, ...args],
      { encoding: 'utf8', maxBuffer: 1 << 30 });
    const ms = performance.now() - t0;
    if (r.status !== 0 && !(args[0] === 'check' && r.status === 1)) {
      throw new Error(`imgaudit ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
    }
    const [user, system] = fs.readFileSync(cpuFile, 'utf8').trim().split('\n').at(-1).split(' ').map(Number);
    const cpuMs = (user + system) * 1000;
    if (cpuMs < best.cpuMs) best = { ms, cpuMs };
  }
  return best;
}

const REPORT_FORMATS = ['text', 'markdown', 'json', 'csv', 'html', 'prometheus'];
const FORMATS = ['text', 'markdown', 'json', 'csv', 'html'];
const definitions = fs.readdirSync(path.join(REPO, 'reports')).filter((f) => f.endsWith('.sql')).map((f) => f.slice(0, -4)).sort();
const GROWTH_QUERY = 'SELECT path, sum(disk_usage_growth_bytes) AS growth_bytes FROM image_growth '
  + "WHERE to_started_at >= '2026-10-24' GROUP BY path HAVING growth_bytes > 10 * 1024 * 1024 * 1024";
const ALL_CASES = [
  ...REPORT_FORMATS.map((f) => ['report', '--format', f]),
  ...definitions.flatMap((d) => FORMATS.map((f) => ['report', '--report', d, '--format', f])),
  ...['image', 'layer', 'depth', 'root', 'format'].flatMap((by) => ['text', 'json', 'csv'].map((f) => ['report', '--by', by, '--format', f])),
  ...['diff', 'runs', 'check'].flatMap((command) => FORMATS.map((f) => [command, '--format', f])),
  ['query', GROWTH_QUERY],
  ['query', 'SELECT * FROM run_root_totals WHERE run_id = (SELECT max(id) FROM runs)', '--format', 'csv'],
  ['query', 'SELECT * FROM run_format_totals WHERE run_id = (SELECT max(id) FROM runs)', '--format', 'json'],
  ['query', 'SELECT * FROM run_totals', '--format', 'csv'],
  ['prune', '--keep', '10', '--dry-run'],
];
const CASES = ONLY === null ? ALL_CASES : ALL_CASES.filter((args) => ONLY.test(args.join(' ')));

const label = (args) => {
  const text = `imgaudit ${args.join(' ')}`;
  return text.length > 58 ? `${text.slice(0, 55)}...` : text;
};

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-report-bench-'));
try {
  const startup = time(['--version']);
  console.log(`node start-up (imgaudit --version): ${startup.ms.toFixed(0)} ms wall, ${startup.cpuMs.toFixed(0)} ms CPU; `
    + `best of ${REPEAT} spawns (by CPU time) per figure`);
  const datasets = [];
  const reused = (name) => (REUSE !== null && fs.existsSync(path.join(REUSE, name)) ? path.join(REUSE, name) : null);
  if (ESTATE > 0 && reused('estate.db') !== null) {
    console.log(`estate: reused ${reused('estate.db')}`);
    datasets.push({ name: `estate ${ESTATE / 1000}k`, images: ESTATE, db: reused('estate.db') });
  } else if (ESTATE > 0) {
    const t0 = performance.now();
    const { db, firstScanMs } = buildEstate(dir, ESTATE);
    console.log(`estate: ${ESTATE} qcow2 overlays (+ template, + ${Math.ceil(ESTATE / 100)} snapshot overlays), 2 scans, `
      + `first scan ${(firstScanMs / 1000).toFixed(1)} s, built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    datasets.push({ name: `estate ${ESTATE / 1000}k`, images: ESTATE, db });
  }
  for (const images of SIZES) {
    if (reused(`synthetic-${images}.db`) !== null) {
      console.log(`synthetic: reused ${reused(`synthetic-${images}.db`)}`);
      datasets.push({ name: `synth ${images / 1000}k`, images, db: reused(`synthetic-${images}.db`) });
      continue;
    }
    const db = path.join(dir, `synthetic-${images}.db`);
    const t0 = performance.now();
    buildDatabase(db, images);
    console.log(`synthetic: ${images} images x ${RUNS} runs, ${(fs.statSync(db).size / MiB).toFixed(0)} MiB, `
      + `built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    datasets.push({ name: `synth ${images / 1000}k`, images, db });
  }
  console.log(`\nCPU seconds (user + system; wall seconds in brackets)\n${'command'.padEnd(60)}`
    + `${datasets.map((d) => d.name.padStart(18)).join('')}  per image, largest/smallest synthetic (CPU)`);
  const missed = [];
  for (const args of CASES) {
    const cells = [];
    for (const dataset of datasets) {
      // prune --dry-run rolls back what it deletes, but takes the scan lock and may migrate: time it on a copy.
      let db = dataset.db;
      if (args[0] === 'prune') {
        db = path.join(dir, 'prune.db');
        fs.copyFileSync(dataset.db, db);
      }
      const timing = time([...args, '--db', db]);
      if (db !== dataset.db) fs.rmSync(db);
      cells.push(timing);
      const limit = dataset.images <= 10_000 ? 1_000 : 10_000;
      if (timing.cpuMs > limit) missed.push(`${label(args)} on ${dataset.name}: ${timing.cpuMs.toFixed(0)} ms CPU > ${limit} ms`);
    }
    const synthetic = datasets.map((d, i) => ({ ...d, cpuMs: cells[i].cpuMs })).filter((d) => d.name.startsWith('synth'));
    let ratio = '';
    if (synthetic.length >= 2) {
      const small = synthetic[0];
      const large = synthetic.at(-1);
      const perImage = (d) => Math.max(d.cpuMs - startup.cpuMs, 1) / d.images;
      const r = perImage(large) / perImage(small);
      if (large.cpuMs - startup.cpuMs < NOISE_MS) {
        // Both within the noise of Node's start-up: a ratio of two near-zero differences says nothing.
        ratio = 'start-up';
      } else {
        ratio = `${r.toFixed(2)}${r > 1.5 ? '  GROWS' : ''}`;
        if (r > 1.5) missed.push(`${label(args)}: CPU time per image x${r.toFixed(2)} from ${small.name} to ${large.name}`);
      }
    }
    const cell = (t) => `${(t.cpuMs / 1000).toFixed(2)} (${(t.ms / 1000).toFixed(1)})`.padStart(18);
    console.log(`${label(args).padEnd(60)}${cells.map(cell).join('')}  ${ratio}`);
  }
  console.log(`\ntargets (CPU time): <= 1 s at 10,000 images, <= 10 s at 100,000, time per image not growing: `
    + (missed.length === 0 ? 'all met' : `${missed.length} missed`));
  for (const line of missed) console.log(`  missed: ${line}`);
  process.exitCode = missed.length === 0 ? 0 : 1;
} finally {
  if (process.argv.includes('--keep')) console.log(`kept ${dir}`);
  else fs.rmSync(dir, { recursive: true, force: true });
}
