/**
 * The probes of a hostile review, kept as regression tests (issue #12):
 * the scan lock (symlink aliases, a full disk), the roots boundary on real
 * paths (backing files through links, data files and extents), nothing
 * left out silently (unreadable roots and directories, non-UTF-8 names,
 * ignored roots), inputs that hung or crashed (FIFOs, devices, huge
 * durations, Object built-ins as config keys, --out onto odd targets), the
 * database (read-only readers, no migrations by readers, another
 * application's SQLite file, query limits), and a qcow2 snapshot table QEMU
 * refuses. Storage faults need a tmpfs (root with CAP_SYS_ADMIN), the
 * unreadable directory a second user (setpriv): skipped otherwise.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScanLock } from '../../src/store/scan-lock.js';
import { runCli } from '../support/imgaudit.js';
import { canMount, mountTmpfs } from '../support/mounts.js';
import { buildQcow2 } from '../support/qcow2-builder.js';
import { hasQemu } from '../support/qemu.js';
import { readDb, requireBuild } from './scan-support.js';

const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-hardening-')));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = (name: string): string => path.join(dir, `${n++}-${name}`);
const cli = (...args: string[]) => runCli(args, dir, 30_000);
const hash = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');
const mkfifo = (file: string) => expect(spawnSync('mkfifo', [file]).status).toBe(0);
/**
 * A private null device (mknod c 1 3; root only), so that a regression of
 * --out or --db onto a device replaces this node, never the system's /dev/null.
 */
function privateNull(): string | null {
  const node = fresh('null');
  return spawnSync('mknod', ['-m', '666', node, 'c', '1', '3']).status === 0 ? node : null;
}
/** Exit status 2 with exactly one line on stderr, which matches `message`. */
function failsWith(result: ReturnType<typeof runCli>, message: RegExp | string): void {
  expect(result.timedOut, 'hung').toBe(false);
  expect(result.code, result.stderr).toBe(2);
  expect(result.stderr.trimEnd().split('\n').filter((line) => !line.startsWith('Try '))).toHaveLength(1);
  if (typeof message === 'string') expect(result.stderr).toContain(message); else expect(result.stderr).toMatch(message);
  expect(result.stderr).not.toMatch(/internal error|    at /);
}

/** A directory with one small qcow2 image. */
function imageRoot(name: string): string {
  const root = fresh(name);
  fs.mkdirSync(root);
  buildQcow2(path.join(root, 'a.qcow2'), { virtualSize: 1 << 20, clusters: [{ guest: 0, kind: 'data' }] });
  return root;
}

function findings(db: string, run = 'latest'): { code: string; path: string; message: string }[] {
  const result = cli('check', '--db', db, '--run', run, '--format', 'json', '--fail-on', 'never');
  expect(result.code, result.stderr).toBe(0);
  return (JSON.parse(result.stdout) as { findings: { code: string; path: string; message: string }[] }).findings;
}

beforeAll(requireBuild);

describe('the scan lock', () => {
  it('a symbolic link to the database meets the lock taken through its real name', () => {
    const root = imageRoot('lock-root');
    const db = fresh('real.db');
    expect(cli('scan', '--db', db, root).code).toBe(0);
    const alias = fresh('alias.db');
    fs.symlinkSync(db, alias);
    const lock = ScanLock.acquire(db);
    try {
      failsWith(cli('scan', '--db', alias, root), `another scan (pid ${process.pid}) holds the database lock '${db}.lock'`);
    } finally {
      lock.release();
    }
    expect(cli('scan', '--db', alias, root).code).toBe(0);
  });

  it.skipIf(!canMount)('a full disk (no inode, no block): one clear line, exit 2, nothing left that blocks the next scan', () => {
    const root = imageRoot('full-root');
    const noInodes = mountTmpfs('size=4m,nr_inodes=2');
    try {
      fs.writeFileSync(path.join(noInodes.dir, 'filler'), '');
      failsWith(cli('scan', '--db', path.join(noInodes.dir, 'x.db'), root), /cannot create lock file '.*x\.db\.lock': ENOSPC/);
      fs.rmSync(path.join(noInodes.dir, 'filler'));
    } finally {
      noInodes.unmount();
    }
    const noBlocks = mountTmpfs('size=1m');
    try {
      const filler = path.join(noBlocks.dir, 'filler');
      spawnSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=4k', 'count=1024'], { stdio: 'ignore' });
      const db = path.join(noBlocks.dir, 'x.db');
      failsWith(cli('scan', '--db', db, root), /imgaudit: .*(full|ENOSPC)/i);
      expect(fs.existsSync(`${db}.lock`)).toBe(false);
      fs.rmSync(filler);
      // Whatever the failed scan left next to the database (its file, -wal, -shm) blocks nothing.
      const again = cli('scan', '--db', db, root);
      expect(again.code, again.stderr).toBe(0);
    } finally {
      noBlocks.unmount();
    }
  });
});

describe('the roots boundary, on real paths', () => {
  it('backing files through a link, data files and extents outside the roots are findings; FIFOs and devices are never opened', () => {
    const root = fresh('boundary');
    const outside = fresh('outside');
    fs.mkdirSync(path.join(root, 'deep/er'), { recursive: true });
    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(outside, 'base.raw'), Buffer.alloc(1 << 20));
    fs.writeFileSync(path.join(root, 'deep/base.raw'), Buffer.alloc(1 << 20));
    fs.symlinkSync(path.join(outside, 'base.raw'), path.join(root, 'link.raw'));
    fs.symlinkSync(path.join(outside), path.join(root, 'out-dir'));
    fs.symlinkSync(path.join(root, 'deep/er'), path.join(root, 'er-link'));
    mkfifo(path.join(root, 'fifo.raw'));
    const qcow2 = (name: string, spec: { backing?: string; dataFile?: string }) => buildQcow2(path.join(root, name), {
      virtualSize: 1 << 20, ...(spec.backing === undefined ? {} : { backing: { name: spec.backing, format: 'raw' } }),
      ...(spec.dataFile === undefined ? {} : { dataFile: spec.dataFile }),
    });
    qcow2('via-link.qcow2', { backing: 'link.raw' });
    qcow2('via-dir-link.qcow2', { backing: 'out-dir/base.raw' });
    qcow2('via-dotdot.qcow2', { backing: 'er-link/../base.raw' }); // deep/er/.. is deep: inside
    qcow2('fifo-backing.qcow2', { backing: 'fifo.raw' });
    qcow2('passwd-data.qcow2', { dataFile: '/etc/passwd' });
    qcow2('zero-data.qcow2', { dataFile: '/dev/zero' });
    fs.writeFileSync(path.join(root, 'shadow.vmdk'), [
      '# Disk DescriptorFile', 'version=1', 'CID=fffffffe', 'parentCID=ffffffff', 'createType="monolithicFlat"', '',
      'RW 2048 FLAT "../../../../../../../../etc/passwd" 0', '', 'ddb.virtualHWVersion = "4"', ''].join('\n'));
    fs.writeFileSync(path.join(root, 'device.vmdk'), [
      '# Disk DescriptorFile', 'version=1', 'CID=fffffffe', 'parentCID=ffffffff', 'createType="monolithicFlat"', '',
      'RW 2048 FLAT "/dev/zero" 0', '', 'ddb.virtualHWVersion = "4"', ''].join('\n'));
    const db = fresh('boundary.db');
    const scan = runCli(['scan', '--db', db, root], dir, 30_000);
    expect(scan.timedOut).toBe(false);
    expect(scan.code, scan.stderr).toBe(1);
    const byPath = new Map(findings(db).map((f) => [path.basename(f.path), f]));
    expect(byPath.get('via-link.qcow2')).toMatchObject({ code: 'E_BACKING_OUTSIDE_ROOTS' });
    expect(byPath.get('via-link.qcow2')!.message).toContain(`(really '${outside}/base.raw')`);
    expect(byPath.get('via-dir-link.qcow2')).toMatchObject({ code: 'E_BACKING_OUTSIDE_ROOTS' });
    expect(byPath.get('via-dotdot.qcow2')).toBeUndefined();
    expect(byPath.get('fifo-backing.qcow2')).toMatchObject({ code: 'E_NOT_REGULAR' });
    expect(byPath.get('passwd-data.qcow2')).toMatchObject({ code: 'E_FILE_OUTSIDE_ROOTS' });
    expect(byPath.get('zero-data.qcow2')).toMatchObject({ code: 'E_NOT_REGULAR' });
    expect(byPath.get('shadow.vmdk')).toMatchObject({ code: 'E_FILE_OUTSIDE_ROOTS' });
    expect(byPath.get('device.vmdk')).toMatchObject({ code: 'E_NOT_REGULAR' });
    // The backing layer recorded is the file opened: deep/base.raw, not the text er-link/../base.raw (which names nothing).
    const layers = readDb(db, (d) => d.prepare('SELECT DISTINCT f.path FROM files f').pluck().all() as string[]);
    expect(layers).toContain(path.join(root, 'deep/base.raw'));
    for (const file of layers) expect(fs.existsSync(file), file).toBe(true);
  });
});

describe('nothing is left out silently', () => {
  it('a missing root makes the run failed: reports, diff and the success timestamp skip it; what it read is kept', () => {
    const root = imageRoot('gap-root');
    const db = fresh('gaps.db');
    expect(cli('scan', '--db', db, root).code).toBe(0);
    expect(cli('scan', '--db', db, root).code).toBe(0);
    const before = cli('report', '--db', db, '--format', 'prometheus').stdout;
    const gap = cli('scan', '--db', db, root, path.join(dir, 'unmounted'));
    expect(gap.code).toBe(1);
    const runs = JSON.parse(cli('runs', '--db', db, '--format', 'json').stdout) as { runs: { id: number; status: string; imageCount: number }[] };
    expect(runs.runs.map((r) => [r.id, r.status, r.imageCount])).toEqual([[1, 'complete', 1], [2, 'complete', 1], [3, 'failed', 1]]);
    const lastSuccess = (text: string) => /^imgaudit_last_success_timestamp_seconds (\S+)$/m.exec(text)?.[1];
    expect(lastSuccess(cli('report', '--db', db, '--format', 'prometheus').stdout)).toBe(lastSuccess(before));
    const diff = JSON.parse(cli('diff', '--db', db, '--format', 'json').stdout) as { from: { id: number }; to: { id: number } };
    expect([diff.from.id, diff.to.id]).toEqual([1, 2]);
    expect(findings(db, '3')).toEqual([expect.objectContaining({ code: 'E_ROOT_MISSING', path: path.join(dir, 'unmounted') })]);
  });

  it('names that are not UTF-8 are audited; a root that is not an image, a nested root and a root after -- are findings or scanned', () => {
    const root = imageRoot('-dash-root');
    const badName = Buffer.concat([Buffer.from(`${root}/bad-`), Buffer.from([0xff, 0xfe]), Buffer.from('.qcow2')]);
    buildQcow2(path.join(root, 'tmp-bad'), { virtualSize: 1 << 20 });
    fs.renameSync(path.join(root, 'tmp-bad'), badName);
    fs.mkdirSync(Buffer.concat([Buffer.from(`${root}/dir-`), Buffer.from([0xe9])]));
    buildQcow2(path.join(root, 'tmp-in-dir'), { virtualSize: 1 << 20 });
    fs.renameSync(path.join(root, 'tmp-in-dir'), Buffer.concat([Buffer.from(`${root}/dir-`), Buffer.from([0xe9]), Buffer.from('/in.qcow2')]));
    const plain = fresh('plain.txt');
    fs.writeFileSync(plain, 'not an image');
    const db = fresh('names.db');
    const scan = runCli(['scan', '--db', db, '--', path.basename(root), plain, path.join(root, 'sub')], dir, 30_000);
    expect(scan.code, scan.stderr).toBe(0);
    const found = findings(db, '1').map((f) => [f.code, f.path]).sort();
    expect(found).toEqual([
      ['E_ROOT_IGNORED', `${root}/sub`],
      ['E_ROOT_NO_IMAGES', plain],
    ]);
    // Names are bytes: the file and the directory so named are walked and audited (once lost as E_NAME_NOT_UTF8).
    expect(readDb(db, (d) => d.prepare('SELECT status FROM runs').pluck().get())).toBe('complete');
    expect(readDb(db, (d) => d.prepare('SELECT i.path FROM run_images ri JOIN images i ON i.id = ri.image_id ORDER BY i.path').pluck().all()))
      .toEqual([`${root}/a.qcow2`, `${root}/bad-\\xff\\xfe.qcow2`, `${root}/dir-\\xe9/in.qcow2`]);
    const dashed = cli('scan', '--db', db, '-dash-root');
    expect(dashed.code).toBe(2); // read as options: never as an empty scan that succeeds
  });

  it.skipIf(process.getuid?.() !== 0 || spawnSync('setpriv', ['--version']).status !== 0)(
    'an unreadable directory is a finding with its path and errno, and the run is failed', () => {
      const base = fresh('unreadable');
      fs.mkdirSync(path.join(base, 'root/locked'), { recursive: true });
      fs.chmodSync(base, 0o777);
      fs.chmodSync(path.join(base, 'root'), 0o755);
      buildQcow2(path.join(base, 'root/locked/hidden.qcow2'), { virtualSize: 1 << 20 });
      fs.chmodSync(path.join(base, 'root/locked'), 0o700);
      fs.chmodSync(dir, 0o755);
      const db = path.join(base, 'nobody.db');
      const scan = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath,
        path.resolve('dist/cli.js'), 'scan', '--db', db, path.join(base, 'root')], { encoding: 'utf8', cwd: base });
      expect(scan.status, scan.stderr).toBe(1);
      expect(scan.stderr).toContain(`directory '${base}/root/locked' cannot be read: EACCES`);
      expect(readDb(db, (d) => d.prepare('SELECT status FROM runs').pluck().get())).toBe('failed');
      expect(findings(db, '1')).toEqual([expect.objectContaining({ code: 'E_DIR_UNREADABLE', path: `${base}/root/locked` })]);
    });
});

describe('inputs that hung or crashed', () => {
  const root = imageRoot('inputs-root');
  let db: string;
  beforeAll(() => {
    db = fresh('inputs.db');
    expect(cli('scan', '--db', db, root).code).toBe(0);
  });

  it('a FIFO or device as the config file or the database: exit 2 at once', () => {
    const fifo = fresh('config.fifo');
    mkfifo(fifo);
    failsWith(cli('scan', '-c', fifo, root, '--db', fresh('x.db')), `cannot read config file '${fifo}': it is a FIFO, not a regular file`);
    failsWith(cli('report', '-c', fifo, '--db', db), 'it is a FIFO');
    failsWith(cli('scan', '-c', '/dev/zero', root, '--db', fresh('x.db')), "cannot read config file '/dev/zero': it is a device");
    failsWith(cli('runs', '--db', fifo), `database '${fifo}' is a FIFO, not a regular file`);
    const device = privateNull();
    if (device !== null) failsWith(cli('scan', '--db', device, root), `database '${device}' is a device, not a regular file`);
  });

  it('config keys that are Object built-ins, numbers as strings, 1e400: exit 2 naming the key, nothing written', () => {
    const cases: [string, RegExp][] = [
      ['{"constructor": {}}', /'constructor': unknown key/],
      ['{"toString": 1}', /'toString': unknown key/],
      ['{"__proto__": {"concurrency": 2}}', /'__proto__': unknown key/],
      ['{"concurrency": "4"}', /'concurrency': expected an integer from 1 to 256, got "4"/],
      ['{"concurrency": 1e400}', /'concurrency': expected an integer from 1 to 256, got a number too large to represent/],
    ];
    for (const [text, message] of cases) {
      const config = fresh('bad.json');
      fs.writeFileSync(config, text);
      const target = fresh('never.db');
      failsWith(cli('scan', '-c', config, '--db', target, root), message);
      expect(fs.existsSync(target), text).toBe(false);
    }
  });

  it('huge durations and unknown finding codes: one line, exit 2', () => {
    failsWith(cli('diff', '--db', db, '--since', '999999y'), /--since: expected a duration .*\(at most 1000y\), got '999999y'/);
    failsWith(cli('prune', '--db', db, '--older-than', '999999y'), /--older-than: expected a duration .*\(at most 1000y\)/);
    failsWith(cli('check', '--db', db, '--ignore', 'E_NOPE'), "--ignore: unknown finding code 'E_NOPE'");
  });

  it('--out: devices and FIFOs written in place, links followed, the database never replaced', () => {
    const device = privateNull();
    if (device !== null) {
      const out = cli('runs', '--db', db, '--out', device);
      expect(out.code, out.stderr).toBe(0);
      expect(fs.statSync(device).isCharacterDevice()).toBe(true);
    }
    const fifo = fresh('out.fifo');
    mkfifo(fifo);
    failsWith(cli('runs', '--db', db, '--out', fifo), `cannot write '${fifo}': it is a FIFO no process reads`);
    expect(fs.statSync(fifo).isFIFO()).toBe(true);
    const target = fresh('target.txt');
    fs.writeFileSync(target, 'old');
    const link = fresh('link.txt');
    fs.symlinkSync(target, link);
    expect(cli('runs', '--db', db, '--out', link).code).toBe(0);
    expect(fs.lstatSync(link).isSymbolicLink()).toBe(true);
    expect(fs.readFileSync(target, 'utf8')).toMatch(/^ID +STARTED AT/);
    const before = hash(db);
    failsWith(cli('report', '--db', db, '--out', db), 'it is the database');
    const alias = fresh('db-alias');
    fs.symlinkSync(db, alias);
    failsWith(cli('runs', '--db', db, '--out', alias), 'it is the database');
    failsWith(cli('runs', '--db', db, '--out', `${db}-wal`), 'it is the database');
    expect(hash(db)).toBe(before);
  });
});

describe('the database', () => {
  it('readers need read access only: a read-only mount', () => {
    if (!canMount) return;
    const root = imageRoot('ro-root');
    const mount = mountTmpfs('size=16m');
    try {
      const db = path.join(mount.dir, 'audit.db');
      expect(cli('scan', '--db', db, root).code).toBe(0);
      mount.remount('ro');
      for (const args of [['runs'], ['report', '--format', 'json'], ['check'], ['query', 'SELECT count(*) AS n FROM runs']]) {
        const result = cli(...args, '--db', db);
        expect(result.code, `${args[0]}: ${result.stderr}`).toBe(0);
      }
    } finally {
      mount.unmount();
    }
  });

  it.skipIf(process.getuid?.() !== 0 || spawnSync('setpriv', ['--version']).status !== 0)(
    'readers need read access only: a directory the reader cannot write', () => {
      const base = fresh('ro-dir');
      fs.mkdirSync(base);
      const db = path.join(base, 'audit.db');
      expect(cli('scan', '--db', db, imageRoot('ro-dir-root')).code).toBe(0);
      fs.chmodSync(base, 0o755);
      fs.chmodSync(db, 0o644);
      fs.chmodSync(dir, 0o755);
      const runs = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath,
        path.resolve('dist/cli.js'), 'runs', '--db', db, '--format', 'json'], { encoding: 'utf8', cwd: '/' });
      expect(runs.status, runs.stderr).toBe(0);
      expect(JSON.parse(runs.stdout)).toMatchObject({ runs: [{ id: 1, status: 'complete' }] });
    });

  it('readers never migrate: a database behind says so (exit 2) and is left as it is; query still reads it', () => {
    const db = fresh('behind.db');
    expect(cli('scan', '--db', db, imageRoot('behind-root')).code).toBe(0);
    const rw = new Database(db);
    const last = rw.prepare('SELECT name FROM _migrations ORDER BY name DESC LIMIT 1').pluck().get() as string;
    rw.prepare('DELETE FROM _migrations WHERE name = ?').run(last);
    rw.pragma('wal_checkpoint(TRUNCATE)');
    rw.close();
    const before = hash(db);
    failsWith(cli('report', '--db', db), `lacks migration ${last}, which readers never apply`);
    expect(hash(db)).toBe(before);
    expect(cli('query', '--db', db, 'SELECT count(*) FROM runs').code).toBe(0);
  });

  it('scan and prune refuse another application\'s SQLite file, leaving it as it was', () => {
    const db = fresh('other-app.sqlite');
    const other = new Database(db);
    other.exec('CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO accounts (name) VALUES (\'x\')');
    other.close();
    const before = hash(db);
    failsWith(cli('scan', '--db', db, imageRoot('other-root')), `'${db}' is not an imgaudit database (it holds 1 schema object and no _migrations table)`);
    failsWith(cli('prune', '--db', db, '--keep', '1'), 'is not an imgaudit database');
    expect(hash(db)).toBe(before);
    expect(fs.existsSync(`${db}.lock`)).toBe(false);
  });

  it('query is bounded in time and memory', () => {
    const db = fresh('query.db');
    expect(cli('scan', '--db', db, imageRoot('query-root')).code).toBe(0);
    const endless = 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) ';
    failsWith(cli('query', '--db', db, '--timeout', '1', `${endless}SELECT count(*) FROM c`),
      'query: stopped after 1 s, its time limit (--timeout, or query.timeoutSeconds in the config file)');
    failsWith(cli('query', '--db', db, '--max-memory', '64', `${endless}SELECT printf('%.1000c', 'x') FROM c`),
      /query: the result passed its memory limit after \d+ rows/);
    failsWith(cli('query', '--db', db, '--timeout', '0', 'SELECT 1'), '--timeout: expected an integer from 1 to 86400, got 0');
  });
});

describe.skipIf(!hasQemu)('a qcow2 snapshot table qemu-img refuses', () => {
  it('is mapped, and is an E_SNAPSHOT_TABLE finding of the scan', () => {
    const root = fresh('snapshots');
    fs.mkdirSync(root);
    const image = path.join(root, 'snap.qcow2');
    expect(spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', image, '1M']).status).toBe(0);
    expect(spawnSync('qemu-img', ['snapshot', '-c', 's1', image]).status).toBe(0);
    const fd = fs.openSync(image, 'r+');
    try {
      const header = Buffer.alloc(72);
      fs.readSync(fd, header, 0, 72, 0);
      const table = Number(header.readBigUInt64BE(64));
      const extra = Buffer.alloc(4);
      extra.writeUInt32BE(2048);
      fs.writeSync(fd, extra, 0, 4, table + 36);
    } finally {
      fs.closeSync(fd);
    }
    const qemu = spawnSync('qemu-img', ['map', '--output=json', image], { encoding: 'utf8' });
    expect(qemu.stderr).toContain('Too much extra metadata in snapshot table entry 0');
    const db = fresh('snapshots.db');
    expect(cli('scan', '--db', db, root).code).toBe(1);
    expect(findings(db)).toEqual([expect.objectContaining({ code: 'E_SNAPSHOT_TABLE', path: image })]);
  });
});
