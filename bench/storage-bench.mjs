#!/usr/bin/env node
// imgaudit scan where reads wait on the storage (SPEC §5), side by side with
// `ls | xargs -P N -n 1 qemu-img map --output=json` in one run, on an estate
// of 120 qcow2 overlays of 200 GiB over one base, 40 scattered 64 KiB writes
// each (about 40 L2 tables per image, as a real VM disk touched in many places):
//
//   warm   page cache warm, -j 8 vs xargs -P 8                     target ≤ 0.5×
//   cold   page cache dropped before each run, -j 8 vs -P 8        target ≤ 0.5×
//          (needs root: `sync; echo 3 > /proc/sys/vm/drop_caches`; says so when it cannot)
//   slow   behind 2 ms per read (../shared/tools/slowfs.py), -j 1/2/4/8/16
//          vs -P 1/2/4/8/16; -j 8 ≤ 0.25× of -P 8, -j 8 ≥ 6× faster than -j 1
//   reads  reads per image through slowfs, imgaudit map vs qemu-img map  target ≤ 1×
//   rss    peak RSS of the -j 8 scan                               target ≤ 250 MiB
//
// Usage: npm run build && node bench/storage-bench.mjs [--estate DIR] [--only warm,cold,slow,reads,rss]
//          [--images N] [--jobs 1,2,4,8,16] [--repeat R] [--latency-ms MS]
// --estate keeps the built images in DIR (built once, reused). Needs qemu-img, qemu-io, and for
// the slow cases fuse + python3-fusepy (`apt-get install -y fuse python3-fusepy`).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(REPO, 'dist/cli.js');
const RSS = path.join(REPO, 'bench/scan-rss.mjs');
const SLOWFS = path.resolve(REPO, '../shared/tools/slowfs.py');
const SLOWFS_FALLBACK = '/work/shared/tools/slowfs.py';
const GiB = 2 ** 30;

const args = process.argv.slice(2);
function option(name, fallback) {
  const at = args.indexOf(`--${name}`);
  return at < 0 ? fallback : args[at + 1];
}
const IMAGES = Number(option('images', 120));
const WRITES = 40;
const REPEAT = Number(option('repeat', 3));
const JOBS = option('jobs', '1,2,4,8,16').split(',').map(Number);
const ONLY = option('only', 'warm,cold,slow,reads,rss').split(',');
const LATENCY_MS = Number(option('latency-ms', 2));
const estateOption = option('estate', undefined);

function rng(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

function run(cmd, argv, cwd) {
  execFileSync(cmd, argv, { cwd, stdio: ['ignore', 'ignore', 'inherit'] });
}

/** The estate: base.qcow2 (200 GiB, 16 writes) and ovl-NNN.qcow2 over it, 40 scattered 64 KiB writes each. */
function buildEstate(dir) {
  const done = path.join(dir, '.complete');
  if (fs.existsSync(done) && Number(fs.readFileSync(done, 'utf8')) === IMAGES) return;
  fs.mkdirSync(dir, { recursive: true });
  for (const name of fs.readdirSync(dir)) fs.rmSync(path.join(dir, name), { force: true });
  const random = rng(0x5ca1ab1e);
  const slots = (200 * GiB) / 65536;
  const writes = (count, pattern) => Array.from({ length: count }, () =>
    ['-c', `write -P ${pattern} ${Math.floor(random() * slots) * 65536} 64k`]).flat();
  run('qemu-img', ['create', '-q', '-f', 'qcow2', 'base.qcow2', '200G'], dir);
  run('qemu-io', [...writes(16, 7), 'base.qcow2'], dir);
  for (let i = 0; i < IMAGES; i++) {
    const file = `ovl-${String(i).padStart(3, '0')}.qcow2`;
    run('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', 'base.qcow2', '-F', 'qcow2', file], dir);
    run('qemu-io', [...writes(WRITES, i % 250), file], dir);
  }
  run('sync', [], dir);
  fs.writeFileSync(done, String(IMAGES));
}

const estate = estateOption ? path.resolve(estateOption) : fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-storage-bench-'));
process.stderr.write(`estate in ${estate}...\n`);
buildEstate(estate);
if (args.includes('--build-only')) process.exit(0);

const N = process.execPath;
const rows = [];
let missed = 0;
function verdict(isMet, text) {
  if (!isMet) missed++;
  return `${text} ${isMet ? 'ok' : 'MISSED'}`;
}
const report = (what, measured, reference, target) => rows.push({ what, measured, reference, target });
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-storage-work-'));
const seconds = (start) => Number(process.hrtime.bigint() - start) / 1e9;
const best = (values) => Math.min(...values);

/** One timed run of `cmd` (a shell line or argv); returns seconds. */
function timed(argv, options = {}) {
  const start = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', ...options });
  const elapsed = seconds(start);
  if (r.status !== 0 && r.status !== 1) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
  return elapsed;
}

/** A fresh scan of `root` at -j `jobs`: seconds and peak RSS (MiB, all threads). */
function scan(root, jobs) {
  const db = path.join(work, 'bench.db');
  for (const suffix of ['', '-wal', '-shm']) fs.rmSync(db + suffix, { force: true });
  const rssFile = path.join(work, 'rss.txt');
  const secs = timed([N, '--import', RSS, CLI, 'scan', '--quiet', '--db', db, '-j', String(jobs), root],
    { env: { ...process.env, IMGAUDIT_RSS_OUT: rssFile } });
  return { seconds: secs, rssMiB: Number(fs.readFileSync(rssFile, 'utf8')) / 1024 };
}

const images = () => fs.readdirSync(estate).filter((f) => f.startsWith('ovl-'));
function xargs(root, jobs) {
  return timed(['bash', '-c', `cd "$1" && ls ovl-*.qcow2 | xargs -P ${jobs} -n 1 qemu-img map --output=json > /dev/null`, 'x', root]);
}

function dropCaches() {
  try {
    execFileSync('sync');
    fs.writeFileSync('/proc/sys/vm/drop_caches', '3');
    return true;
  } catch {
    return false;
  }
}

/** Mounts slowfs over the estate; returns the mount point and a stop function that returns slowfs' counts. */
async function mountSlow() {
  const tool = fs.existsSync(SLOWFS) ? SLOWFS : SLOWFS_FALLBACK;
  const mount = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-slowfs-'));
  const child = spawn('/usr/bin/python3', [tool, estate, mount, '--latency-ms', String(LATENCY_MS)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk) => { output += chunk; });
  child.stderr.on('data', (chunk) => { output += chunk; });
  for (let i = 0; i < 100 && !fs.existsSync(path.join(mount, 'base.qcow2')); i++) await new Promise((r) => setTimeout(r, 100));
  if (!fs.existsSync(path.join(mount, 'base.qcow2'))) throw new Error(`slowfs did not mount: ${output}`);
  return {
    mount,
    async stop() {
      const exited = new Promise((resolve) => child.on('exit', resolve));
      spawnSync('fusermount', ['-u', mount]);
      await exited;
      fs.rmdirSync(mount);
      const counts = /slowfs: (\{.*\})/.exec(output);
      return counts === null ? null : JSON.parse(counts[1].replace(/'/g, '"'));
    },
  };
}

try {
  const count = images().length;
  if (ONLY.includes('warm')) {
    scan(estate, 8); // warms the page cache (and the compile of the bundle)
    const ours = best(Array.from({ length: REPEAT }, () => scan(estate, 8).seconds));
    const theirs = best(Array.from({ length: REPEAT }, () => xargs(estate, 8)));
    report(`warm, ${count} overlays, -j 8`, `${ours.toFixed(2)} s`, `xargs -P 8 ${theirs.toFixed(2)} s`,
      verdict(ours / theirs <= 0.5, `${(ours / theirs).toFixed(2)}× (≤ 0.5×)`));
    for (const jobs of [1, 2, 4]) {
      report(`warm, -j ${jobs}`, `${best(Array.from({ length: REPEAT }, () => scan(estate, jobs).seconds)).toFixed(2)} s`, '', '');
    }
  }
  if (ONLY.includes('cold')) {
    if (!dropCaches()) {
      report('cold (page cache dropped)', 'not run', 'cannot write /proc/sys/vm/drop_caches (needs root)', '');
    } else {
      const ours = best(Array.from({ length: REPEAT }, () => (dropCaches(), scan(estate, 8).seconds)));
      const theirs = best(Array.from({ length: REPEAT }, () => (dropCaches(), xargs(estate, 8))));
      report(`cold, ${count} overlays, -j 8`, `${ours.toFixed(2)} s`, `xargs -P 8 ${theirs.toFixed(2)} s`,
        verdict(ours / theirs <= 0.5, `${(ours / theirs).toFixed(2)}× (≤ 0.5×)`));
    }
  }
  if (ONLY.includes('slow')) {
    const slow = await mountSlow();
    try {
      const curve = {};
      for (const jobs of JOBS) {
        const ours = best(Array.from({ length: REPEAT }, () => scan(slow.mount, jobs).seconds));
        const theirs = best(Array.from({ length: REPEAT }, () => xargs(slow.mount, jobs)));
        curve[jobs] = ours;
        report(`slowfs ${LATENCY_MS} ms, -j ${jobs}`, `${ours.toFixed(2)} s`, `xargs -P ${jobs} ${theirs.toFixed(2)} s`,
          jobs === 8 ? verdict(ours / theirs <= 0.25, `${(ours / theirs).toFixed(2)}× (≤ 0.25×)`) : `${(ours / theirs).toFixed(2)}×`);
      }
      if (curve[1] !== undefined && curve[8] !== undefined) {
        report('slowfs, -j 1 / -j 8', `${(curve[1] / curve[8]).toFixed(1)}× faster`, '', verdict(curve[1] / curve[8] >= 6, '(≥ 6×)'));
      }
    } finally {
      await slow.stop();
    }
  }
  if (ONLY.includes('reads')) {
    const one = 'ovl-000.qcow2';
    const countOf = async (argv) => {
      const slow = await mountSlow();
      try {
        timed(argv(slow.mount));
      } catch (error) {
        await slow.stop();
        throw error;
      }
      return slow.stop();
    };
    const ours = await countOf((m) => [N, CLI, 'map', '--output=json', path.join(m, one)]);
    const theirs = await countOf((m) => ['qemu-img', 'map', '--output=json', path.join(m, one)]);
    report(`reads, map of one overlay (${one})`, `${ours.read} reads, ${(ours.bytes / 2 ** 20).toFixed(1)} MiB`,
      `qemu-img ${theirs.read} reads, ${(theirs.bytes / 2 ** 20).toFixed(1)} MiB`, verdict(ours.read <= theirs.read, '(≤ qemu-img)'));
    const scanned = await countOf((m) => [N, CLI, 'scan', '--quiet', '--db', path.join(work, `reads-${Date.now()}.db`), '-j', '8', m]);
    const mapped = await countOf((m) => ['bash', '-c', `cd "$1" && ls ovl-*.qcow2 | xargs -P 8 -n 1 qemu-img map --output=json > /dev/null`, 'x', m]);
    report(`reads, scan of ${count} overlays`, `${(scanned.read / count).toFixed(1)} per image`,
      `qemu-img ${(mapped.read / count).toFixed(1)} per image`, verdict(scanned.read <= mapped.read, '(≤ qemu-img)'));
  }
  if (ONLY.includes('rss')) {
    const rss = Math.max(...Array.from({ length: REPEAT }, () => scan(estate, 8).rssMiB));
    report(`peak RSS, scan -j 8, ${count} overlays`, `${rss.toFixed(0)} MiB`, '', verdict(rss <= 250, '(≤ 250 MiB)'));
  }
} finally {
  fs.rmSync(work, { recursive: true, force: true });
  if (!estateOption) fs.rmSync(estate, { recursive: true, force: true });
}

const width = (key) => Math.max(...rows.map((r) => r[key].length), key.length);
const columns = ['what', 'measured', 'reference', 'target'];
console.log(columns.map((c) => c.padEnd(width(c))).join('  '));
for (const row of rows) console.log(columns.map((c) => row[c].padEnd(width(c))).join('  '));
process.exitCode = missed > 0 ? 1 : 0;
