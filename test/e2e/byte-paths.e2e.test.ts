/**
 * Names that are not UTF-8, end to end through the built CLI (issue #12):
 * a chain whose overlay, its directory and its backing file are all named
 * with such bytes is scanned (not dropped), stored with its exact bytes,
 * re-scanned as unchanged, matched by `diff`, and reported escaped (\xNN)
 * in formats that stay valid (UTF-8 JSON, CSV, HTML, Prometheus labels).
 * Roots given as such bytes on the command line and in the config file are
 * crawled; `map` of such a path prints exactly what qemu-img prints (live).
 * Arguments are passed as bytes through python3's execv: Node's spawn
 * would encode them as UTF-8.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PG_AVAILABLE, TEST_PASSWORD, startCluster } from '../support/pg-cluster.js';
import { buildQcow2 } from '../support/qcow2-builder.js';
import { TEST_ENV, hasQemu } from '../support/qemu.js';
import { cli as cliAsync } from './central-support.js';
import { CLI, requireBuild, runCli } from './scan-support.js';

const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-byte-paths-')));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const bytes = (...parts: (string | number[])[]): Buffer =>
  Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part) : Buffer.from(part))));
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });
const hasPython = spawnSync('python3', ['--version']).status === 0;

/** Runs ARGV[0] with ARGV as exact bytes (python3 execv), in `cwd`. */
function execBytes(argv: readonly (string | Buffer)[], cwd: string): { status: number | null; stdout: Buffer; stderr: Buffer } {
  const script = 'import os,sys\nargs=[bytes.fromhex(a) for a in sys.argv[1:]]\nos.execv(args[0], args)';
  const hex = argv.map((arg) => (typeof arg === 'string' ? Buffer.from(arg) : arg).toString('hex'));
  const r = spawnSync('python3', ['-c', script, ...hex], { cwd, env: TEST_ENV });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
const imgaudit = (args: readonly (string | Buffer)[], cwd = dir) => execBytes([process.execPath, CLI, ...args], cwd);

/** The estate: ROOT/b<ff>.qcow2 (base, data at 0) and ROOT/d<e9>/o<fe>.qcow2 (overlay, data at 64 KiB, backing ../b<ff>.qcow2). */
function buildEstate(root: string): { base: Buffer; overlay: Buffer; directory: Buffer } {
  fs.mkdirSync(root, { recursive: true });
  const base = bytes(`${root}/b`, [0xff], '.qcow2');
  const directory = bytes(`${root}/d`, [0xe9]);
  const overlay = bytes(`${root}/d`, [0xe9], '/o', [0xfe], '.qcow2');
  buildQcow2(path.join(root, 'tmp-base'), { virtualSize: 1 << 20, clusters: [{ guest: 0, kind: 'data' }] });
  fs.renameSync(path.join(root, 'tmp-base'), base);
  fs.mkdirSync(directory);
  // The backing name is bytes in the header: latin1 text is one byte per character.
  buildQcow2(path.join(root, 'tmp-overlay'), {
    virtualSize: 1 << 20, backing: { name: '../b\xff.qcow2', format: 'qcow2' }, clusters: [{ guest: 65536, kind: 'data' }],
  });
  fs.renameSync(path.join(root, 'tmp-overlay'), overlay);
  return { base, overlay, directory };
}

function query<T>(db: string, sql: string, ...params: unknown[]): T[] {
  const d = new Database(db, { readonly: true });
  try {
    return d.prepare(sql).all(...params) as T[];
  } finally {
    d.close();
  }
}

describe.skipIf(!hasPython)('non-UTF-8 names (e2e)', () => {
  const root = path.join(dir, 'estate');
  const db = path.join(dir, 'estate.db');
  let estate: { base: Buffer; overlay: Buffer; directory: Buffer };

  beforeAll(() => {
    requireBuild();
    estate = buildEstate(root);
  });

  it('a name holding the characters \\xff and one holding the byte 0xff are two images, shown apart', () => {
    const twins = path.join(dir, 'twins');
    const twinsDb = path.join(dir, 'twins.db');
    fs.mkdirSync(twins);
    buildQcow2(path.join(twins, 'a\\xffb.qcow2'), { virtualSize: 1 << 20, clusters: [{ guest: 0, kind: 'data' }] });
    fs.copyFileSync(path.join(twins, 'a\\xffb.qcow2'), bytes(`${twins}/a`, [0xff], 'b.qcow2'));
    for (let run = 1; run <= 2; run++) {
      const scan = runCli(['scan', '--db', twinsDb, twins], dir);
      expect(scan.status, scan.stderr).toBe(0);
    }
    expect(query(twinsDb, 'SELECT path, path_bytes FROM images ORDER BY path')).toEqual([
      { path: `${twins}/a\\x5cxffb.qcow2`, path_bytes: Buffer.from(`${twins}/a\\xffb.qcow2`) },
      { path: `${twins}/a\\xffb.qcow2`, path_bytes: bytes(`${twins}/a`, [0xff], 'b.qcow2') },
    ]);
    // The second run found both unchanged, each as itself.
    expect(query(twinsDb, 'SELECT run_id, count(*) AS n FROM run_images GROUP BY run_id ORDER BY run_id'))
      .toEqual([{ run_id: 1, n: 2 }, { run_id: 2, n: 2 }]);
    expect(query(twinsDb, 'SELECT changed_count, read_count FROM runs WHERE id = 2')).toEqual([{ changed_count: 0, read_count: 0 }]);
  });

  it('a chain named with such bytes is scanned and stored with its exact bytes', () => {
    const scan = runCli(['scan', '--db', db, root], dir);
    expect(scan.status, scan.stderr).toBe(0);
    expect(query<{ status: string }>(db, 'SELECT status FROM runs')).toEqual([{ status: 'complete' }]);
    const files = query<{ path: string; path_bytes: Buffer | null; backing_name: string | null }>(db,
      'SELECT path, path_bytes, backing_name FROM files ORDER BY path');
    expect(files).toEqual([
      { path: `${root}/b\\xff.qcow2`, path_bytes: estate.base, backing_name: null },
      { path: `${root}/d\\xe9/o\\xfe.qcow2`, path_bytes: estate.overlay, backing_name: '../b\\xff.qcow2' },
    ]);
    // The overlay's chain has the base at depth 1, and both images have their rows.
    const layers = query<{ image: string; depth: number; file: string }>(db, `
      SELECT i.path AS image, cl.depth, f.path AS file FROM run_images ri JOIN images i ON i.id = ri.image_id
      JOIN chain_layers cl ON cl.chain_id = ri.chain_id JOIN files f ON f.id = cl.file_id ORDER BY image, depth`);
    expect(layers).toEqual([
      { image: `${root}/b\\xff.qcow2`, depth: 0, file: `${root}/b\\xff.qcow2` },
      { image: `${root}/d\\xe9/o\\xfe.qcow2`, depth: 0, file: `${root}/d\\xe9/o\\xfe.qcow2` },
      { image: `${root}/d\\xe9/o\\xfe.qcow2`, depth: 1, file: `${root}/b\\xff.qcow2` },
    ]);
    expect(query(db, 'SELECT path_bytes FROM images WHERE path_bytes IS NOT NULL ORDER BY path'))
      .toEqual([{ path_bytes: estate.base }, { path_bytes: estate.overlay }]);
    expect(query(db, 'SELECT code FROM run_findings')).toEqual([]);
  });

  it('an unchanged re-scan reuses both chains, and diff matches them', () => {
    const scan = runCli(['scan', '--db', db, root], dir);
    expect(scan.status, scan.stderr).toBe(0);
    expect(query(db, 'SELECT image_count, new_count, changed_count, read_count FROM runs WHERE id = 2'))
      .toEqual([{ image_count: 2, new_count: 0, changed_count: 0, read_count: 0 }]);
    const diff = runCli(['diff', '1', '2', '--db', db, '--format', 'json'], dir);
    expect(diff.status, diff.stderr).toBe(0);
    expect(JSON.parse(diff.stdout)).toMatchObject({ added: [], removed: [], changed: [] });
    expect(runCli(['diff', '1', '2', '--db', db], dir).stdout).toContain('images  0 added, 0 removed, 0 changed, 2 unchanged');
  });

  it('a change to the backing file is seen through its bytes', () => {
    // 64 KiB more on disk after the base's last cluster: its disk usage changes, its map does not.
    fs.appendFileSync(estate.base, Buffer.alloc(65536, 0x5a));
    const scan = runCli(['scan', '--db', db, root], dir);
    expect(scan.status, scan.stderr).toBe(0);
    expect(query(db, 'SELECT changed_count, read_count FROM runs WHERE id = 3')).toEqual([{ changed_count: 2, read_count: 2 }]);
  });

  it('reports show the names escaped, in valid UTF-8 JSON, CSV, HTML and Prometheus', () => {
    for (const format of ['text', 'json', 'csv', 'html', 'markdown']) {
      const report = imgaudit(['report', '--db', db, '--by', 'image', '--format', format]);
      expect(report.status, report.stderr.toString()).toBe(0);
      const text = STRICT_UTF8.decode(report.stdout);
      if (format === 'json') expect(JSON.stringify(JSON.parse(text))).toContain(JSON.stringify(`${root}/d\\xe9/o\\xfe.qcow2`));
      // HTML breaks paths after a slash, markdown escapes a backslash: both still show \xNN.
      else expect(text, format).toMatch(/d\\{1,2}xe9\/(<\/span><wbr><span>)?o\\{1,2}xfe\.qcow2/);
    }
    const diff = imgaudit(['diff', '1', '3', '--db', db, '--format', 'csv']);
    expect(diff.status).toBe(0);
    expect(STRICT_UTF8.decode(diff.stdout)).toContain(`changed,${root}/b\\xff.qcow2,`);
  });

  it('a database named with such bytes is refused by every command, and nothing is created', () => {
    const database = bytes(`${dir}/db-`, [0xff], '.db');
    for (const args of [['scan', '--quiet', '--db', database, root], ['runs', '--db', database], ['report', '--db', database],
      ['prune', '--keep', '1', '--db', database]]) {
      const r = imgaudit(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr.toString()).toContain(`database '${dir}/db-\\xff.db' is named with bytes that are not UTF-8`);
    }
    expect(fs.readdirSync(dir).filter((name) => name.startsWith('db-'))).toEqual([]);
  });

  it('--out names a file by its bytes', () => {
    const out = bytes(`${dir}/report-`, [0xff], '.json');
    const report = imgaudit(['report', '--db', db, '--format', 'json', '--out', out]);
    expect(report.status, report.stderr.toString()).toBe(0);
    expect(JSON.parse(fs.readFileSync(out, 'utf8')).run.status).toBe('complete');
    expect(fs.readdirSync(dir, { encoding: 'buffer' }).some((name) => name.equals(bytes('report-', [0xff], '.json')))).toBe(true);
    // Not the name Node's lossy decoding would give (U+FFFD written as UTF-8).
    expect(fs.readdirSync(dir, { encoding: 'buffer' }).some((name) => name.includes(Buffer.from('\uFFFD')))).toBe(false);
  });

  it('a root named with such bytes, on the command line and in the config file, is crawled and stored', () => {
    const rootBytes = bytes(`${dir}/r`, [0xfe]);
    fs.mkdirSync(rootBytes);
    fs.copyFileSync(estate.base, bytes(`${dir}/r`, [0xfe], '/b', [0xff], '.qcow2'));
    const fromArgs = path.join(dir, 'args.db');
    const scan = imgaudit(['scan', '--db', fromArgs, rootBytes]);
    expect(scan.status, scan.stderr.toString()).toBe(0);
    expect(query(fromArgs, 'SELECT path, path_bytes FROM roots')).toEqual([{ path: `${dir}/r\\xfe`, path_bytes: rootBytes }]);
    expect(query(fromArgs, 'SELECT count(*) AS n FROM run_images')).toEqual([{ n: 1 }]);
    const prometheus = STRICT_UTF8.decode(imgaudit(['report', '--db', fromArgs, '--format', 'prometheus']).stdout);
    // A label value escapes its backslash: the text is `r\xfe`.
    expect(prometheus).toContain(`imgaudit_root_virtual_size_bytes{root="${dir}/r\\\\xfe"} 1048576`);
    // In JSON, the byte 0xfe of a name is the escape \udcfe (raw bytes in the file would do too).
    const config = path.join(dir, 'bytes.json');
    fs.writeFileSync(config, JSON.stringify({ roots: ['./r\\udcfe'], database: 'config.db' }).replace('\\\\udcfe', '\\udcfe'));
    const configured = runCli(['scan', '-c', config], dir);
    expect(configured.status, configured.stderr).toBe(0);
    expect(query(path.join(dir, 'config.db'), 'SELECT path, path_bytes FROM roots')).toEqual([{ path: `${dir}/r\\xfe`, path_bytes: rootBytes }]);
  });

  it.skipIf(!PG_AVAILABLE)('push copies the exact bytes to the central store, and reports there show the same text', async () => {
    const cluster = startCluster();
    try {
      const database = cluster.createDatabase();
      const push = await cliAsync(['push', '--db', db, '--to', cluster.url(database, 'pusher', TEST_PASSWORD), '--host', 'hv-bytes'], dir);
      expect(push.status, push.stderr).toBe(0);
      const rows = (table: string) => cluster.psql(
        `SELECT DISTINCT path || '|' || coalesce(encode(path_bytes, 'hex'), '') AS row FROM ${table} ORDER BY row`, database).trim().split('\n');
      expect(rows('files')).toEqual([
        `${root}/b\\xff.qcow2|${estate.base.toString('hex')}`, `${root}/d\\xe9/o\\xfe.qcow2|${estate.overlay.toString('hex')}`,
      ]);
      expect(rows('images')).toEqual(rows('files'));
      expect(rows('roots')).toEqual([`${root}|`]);
      const local = runCli(['report', '--db', db, '--by', 'image', '--format', 'csv'], dir);
      const central = await cliAsync(['report', '--db', cluster.url(database, 'pusher', TEST_PASSWORD), '--host', 'hv-bytes',
        '--by', 'image', '--format', 'csv'], dir);
      expect(central.status, central.stderr).toBe(0);
      expect(central.stdout).toBe(local.stdout);
    } finally {
      cluster.destroy();
    }
  });

  it.skipIf(!hasQemu)('map of such a path prints exactly what qemu-img prints (live)', () => {
    for (const output of ['human', 'json']) {
      for (const [file, cwd] of [[estate.overlay, dir], [bytes('d', [0xe9], '/o', [0xfe], '.qcow2'), root]] as const) {
        const qemu = execBytes(['/usr/bin/env', 'qemu-img', 'map', `--output=${output}`, file], cwd);
        const ours = imgaudit(['map', `--output=${output}`, file], cwd);
        expect(qemu.status, qemu.stderr.toString()).toBe(0);
        expect(ours.status, ours.stderr.toString()).toBe(0);
        expect(ours.stdout.equals(qemu.stdout), `${output}:\n${ours.stdout.toString('latin1')}\n${qemu.stdout.toString('latin1')}`).toBe(true);
      }
    }
    // vmdk extents and qcow2 data files named with such bytes in the image: opened by those bytes.
    const extras = path.join(dir, 'extras');
    fs.mkdirSync(extras);
    const vmdk = bytes('v', [0xfe], '.vmdk');
    const qcow2 = bytes('q', [0xfc], '.qcow2');
    expect(execBytes(['/usr/bin/env', 'qemu-img', 'create', '-q', '-f', 'vmdk', '-o', 'subformat=monolithicFlat', vmdk, '1M'], extras).status).toBe(0);
    expect(execBytes(['/usr/bin/env', 'qemu-img', 'create', '-q', '-f', 'qcow2', '-o',
      bytes('data_file=d', [0xfd], '.raw'), qcow2, '1M'], extras).status).toBe(0);
    expect(execBytes(['/usr/bin/env', 'qemu-io', '-c', 'write 0 64k', qcow2], extras).status).toBe(0);
    for (const file of [vmdk, qcow2]) {
      for (const output of ['human', 'json']) {
        const qemu = execBytes(['/usr/bin/env', 'qemu-img', 'map', `--output=${output}`, file], extras);
        const ours = imgaudit(['map', `--output=${output}`, file], extras);
        expect(qemu.status, qemu.stderr.toString()).toBe(0);
        expect(ours.stdout.equals(qemu.stdout), `${file.toString('latin1')} ${output}:\n${ours.stderr.toString('latin1')}`).toBe(true);
      }
    }
    const extrasDb = path.join(dir, 'extras.db');
    const scan = runCli(['scan', '--db', extrasDb, extras], dir);
    expect(scan.status, scan.stderr).toBe(0);
    expect(query(extrasDb, `SELECT i.path, c.error_code FROM run_images ri JOIN images i ON i.id = ri.image_id
      JOIN chains c ON c.id = ri.chain_id WHERE i.path NOT LIKE '%.raw' ORDER BY i.path`)).toEqual([
      { path: `${extras}/q\\xfc.qcow2`, error_code: null }, { path: `${extras}/v\\xfe.vmdk`, error_code: null },
    ]);
    // The human map names the backing file by its bytes, as qemu-img does.
    expect(imgaudit(['map', estate.overlay]).stdout.includes(bytes(`${root}/d`, [0xe9], '/../b', [0xff], '.qcow2'))).toBe(true);
    // A missing file is named in the message by its bytes too.
    const missing = bytes(`${dir}/gone`, [0xfd]);
    const qemu = execBytes(['/usr/bin/env', 'qemu-img', 'map', missing], dir);
    const ours = imgaudit(['map', missing]);
    expect(ours.status).toBe(1);
    expect(ours.stderr.toString('latin1').replace(/^imgaudit:/, 'qemu-img:')).toBe(qemu.stderr.toString('latin1'));
  });
});
