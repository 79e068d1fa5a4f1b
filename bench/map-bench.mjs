#!/usr/bin/env node
/**
 * `imgaudit map` vs `qemu-img map` (SPEC §5), side by side in one run:
 *   (a) a 64 GiB qcow2 with 20,000 randomly placed 64 KiB clusters  — target ≤ 1.5×
 *   (b) the same clusters in a 2 TiB qcow2                          — target ≤ 0.1×
 *   (c) a 1 TiB preallocation=metadata qcow2                        — target ≤ 0.25×
 * Images are built once with qemu-img/qemu-io and cached in bench/work/
 * (gitignored; delete it to rebuild). Each tool maps each image with
 * `--output=json` to /dev/null; the best of N runs is compared, with peak
 * RSS from /usr/bin/time -f %M (or /proc polling). Outputs are checked to
 * be byte-identical before anything is timed.
 *
 * Usage: node bench/map-bench.mjs [--runs N] [--only a,b,c] [--profile]
 *   --profile  also runs imgaudit once per image under --cpu-prof and prints
 *              the functions with the most self time (profiles kept in
 *              bench/work/prof/).
 * Needs `npm run build` first (npm run bench does it).
 */
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const WORK = path.join(ROOT, 'bench', 'work');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const CLUSTER = 64 * 1024;
const CLUSTERS = 20_000;
const BATCH = 2000;
const SEED = 0x1ba9e5;

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(name);
  return at >= 0 && at + 1 < args.length ? args[at + 1] : fallback;
};
const RUNS = Math.max(1, Number(option('--runs', process.env.BENCH_RUNS ?? 5)));
const ONLY = option('--only', 'a,b,c').split(',');
const PROFILE = args.includes('--profile');

const IMAGES = [
  { key: 'a', file: 'scattered-64g.qcow2', size: '64G', clusters: CLUSTERS, target: 1.5, label: '64 GiB, 20,000 scattered 64 KiB clusters' },
  { key: 'b', file: 'scattered-2t.qcow2', size: '2T', clusters: CLUSTERS, target: 0.1, label: '2 TiB, 20,000 scattered 64 KiB clusters' },
  { key: 'c', file: 'prealloc-1t.qcow2', size: '1T', prealloc: true, target: 0.25, label: '1 TiB, preallocation=metadata' },
];

/** mulberry32: the same cluster positions on every machine. */
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

function run(cmd, argv, options = {}) {
  const r = spawnSync(cmd, argv, { cwd: WORK, encoding: 'utf8', maxBuffer: 1 << 30, ...options });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${argv.slice(0, 6).join(' ')} … failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

const bytes = (size) => Number(size.slice(0, -1)) * { G: 2 ** 30, T: 2 ** 40 }[size.at(-1)];

/** Builds `image` unless bench/work holds it with the same recipe. */
function ensureImage(image) {
  const file = path.join(WORK, image.file);
  const recipe = JSON.stringify({ ...image, seed: SEED, cluster: CLUSTER, qemu: run('qemu-img', ['--version']).split('\n')[0] });
  const stamp = `${file}.recipe`;
  if (fs.existsSync(file) && fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === recipe) return file;
  fs.rmSync(file, { force: true });
  const started = Date.now();
  process.stderr.write(`building ${image.file} (${image.label}) … `);
  if (image.prealloc) {
    run('qemu-img', ['create', '-q', '-f', 'qcow2', '-o', 'preallocation=metadata', image.file, image.size]);
  } else {
    run('qemu-img', ['create', '-q', '-f', 'qcow2', image.file, image.size]);
    const random = rng(SEED);
    const total = bytes(image.size) / CLUSTER;
    const chosen = new Set();
    while (chosen.size < image.clusters) chosen.add(Math.floor(random() * total));
    const writes = [...chosen].map((index, i) => `write -P ${(i % 255) + 1} ${index * CLUSTER} 64k`);
    for (let i = 0; i < writes.length; i += BATCH) {
      run('qemu-io', ['-f', 'qcow2', ...writes.slice(i, i + BATCH).flatMap((w) => ['-c', w]), image.file]);
    }
  }
  fs.writeFileSync(stamp, recipe);
  process.stderr.write(`${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  return file;
}

const HAS_TIME = spawnSync('/usr/bin/time', ['-f', '%M', 'true'], { stdio: 'ignore' }).status === 0;

/**
 * Wall time of `cmd args` with stdout to /dev/null, and its peak RSS in KiB:
 * from GNU time's %M, else by polling VmHWM in /proc/PID/status.
 */
function measure(cmd, argv) {
  const devNull = fs.openSync('/dev/null', 'w');
  const argvFull = HAS_TIME ? ['-f', '%M', cmd, ...argv] : argv;
  const child = spawn(HAS_TIME ? '/usr/bin/time' : cmd, argvFull, { cwd: WORK, stdio: ['ignore', devNull, 'pipe'] });
  const started = process.hrtime.bigint();
  let stderr = '';
  let hwm;
  child.stderr.setEncoding('utf8').on('data', (chunk) => { stderr += chunk; });
  const poll = HAS_TIME ? undefined : setInterval(() => {
    try {
      const kib = Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1]);
      if (kib > (hwm ?? 0)) hwm = kib;
    } catch { /* exited */ }
  }, 2);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      clearInterval(poll);
      fs.closeSync(devNull);
      if (code !== 0) return reject(new Error(`${cmd} exited ${code}: ${stderr}`));
      const peakKiB = HAS_TIME ? Number(stderr.trim().split('\n').at(-1)) : hwm;
      resolve({ seconds, peakKiB });
    });
  });
}

/** Self time per function of a V8 .cpuprofile, as "percent name (file:line)" lines. */
function summariseProfile(file, top = 20) {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map();
  const deltas = profile.timeDeltas;
  profile.samples.forEach((id, i) => {
    const frame = byId.get(id).callFrame;
    const url = frame.url.startsWith('file:') ? path.relative(ROOT, fileURLToPath(frame.url)) : frame.url;
    const where = url ? `${url}:${frame.lineNumber + 1}` : '';
    const key = `${frame.functionName || '(anonymous)'} ${where}`.trim();
    self.set(key, (self.get(key) ?? 0) + (deltas[i] ?? 0));
  });
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  return [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)
    .map(([name, us]) => `  ${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(1).padStart(8)} ms  ${name}`).join('\n');
}

const digest = (text) => crypto.createHash('sha256').update(text).digest('hex');

function checkIdentical(file) {
  const qemu = run('qemu-img', ['map', '--output=json', file]);
  const ours = run(process.execPath, [CLI, 'map', '--output=json', file]);
  if (digest(qemu) !== digest(ours)) throw new Error(`outputs differ for ${file}: not timing a wrong answer`);
  return qemu.split('\n').length;
}

const fmt = (s) => (s < 1 ? `${(s * 1000).toFixed(0)} ms` : `${s.toFixed(2)} s`);
const mib = (kib) => (kib === undefined ? 'n/a' : `${(kib / 1024).toFixed(0)} MiB`);

async function main() {
  if (!fs.existsSync(CLI)) throw new Error('dist/cli.js is missing: run `npm run build` (npm run bench does)');
  fs.mkdirSync(WORK, { recursive: true });
  const results = [];
  for (const image of IMAGES.filter((i) => ONLY.includes(i.key))) {
    const file = ensureImage(image);
    const entries = checkIdentical(file);
    const qemu = [];
    const ours = [];
    for (let i = 0; i < RUNS; i++) {
      qemu.push(await measure('qemu-img', ['map', '--output=json', file]));
      ours.push(await measure(process.execPath, [CLI, 'map', '--output=json', file]));
    }
    const best = (runs) => runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
    const peak = (runs) => Math.max(...runs.map((r) => r.peakKiB ?? 0)) || undefined;
    const q = best(qemu);
    const o = best(ours);
    const ratio = o.seconds / q.seconds;
    results.push({ image: image.label, file: image.file, entries, runs: RUNS, qemuSeconds: q.seconds, oursSeconds: o.seconds,
      ratio, target: image.target, pass: ratio <= image.target, qemuPeakKiB: peak(qemu), oursPeakKiB: peak(ours) });
    if (PROFILE) {
      const dir = path.join(WORK, 'prof', image.key);
      fs.rmSync(dir, { recursive: true, force: true });
      run(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, CLI, 'map', '--output=json', file], { stdio: ['ignore', 'ignore', 'pipe'] });
      const profile = fs.readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
      console.log(`\nprofile of imgaudit on ${image.file} (${path.join(dir, profile)}):\n${summariseProfile(path.join(dir, profile))}`);
    }
  }
  const startup = [];
  for (let i = 0; i < RUNS; i++) startup.push((await measure(process.execPath, ['-e', ''])).seconds);
  console.log(`\nimgaudit map vs qemu-img map --output=json, best of ${RUNS} (SPEC §5)`);
  console.log(`(for scale: \`node -e ''\` alone takes ${fmt(Math.min(...startup))} here)\n`);
  const rows = [['image', 'entries', 'qemu-img', 'imgaudit', 'ratio', 'target', '', 'peak RSS qemu-img', 'peak RSS imgaudit']];
  for (const r of results) {
    rows.push([r.image, String(r.entries), fmt(r.qemuSeconds), fmt(r.oursSeconds), `${r.ratio.toFixed(3)}×`, `≤ ${r.target}×`,
      r.pass ? 'ok' : 'MISSED', mib(r.qemuPeakKiB), mib(r.oursPeakKiB)]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  for (const row of rows) console.log(row.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd());
  fs.writeFileSync(path.join(WORK, 'map-results.json'), `${JSON.stringify({ when: new Date().toISOString(), results }, null, 2)}\n`);
  return results.every((r) => r.pass) ? 0 : 1;
}

process.exitCode = await main();
