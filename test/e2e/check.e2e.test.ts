/**
 * `imgaudit check` end to end on a tree built to hold one of each problem:
 * missing backing file, loop, deep chain, backing outside the roots,
 * unsupported and corrupt images, a dirty qcow2, a format/extension
 * mismatch, a base no image reads any more; and an image that changed
 * during the scan (a run finding). Exit status follows --fail-on.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasQemu, io, op, runOk, settle } from '../support/qemu.js';
import { CHECK, violations } from '../unit/report/contract.js';
import { layout } from './report-support.js';
import { requireBuild, runCli } from './scan-support.js';

const MiB = 1 << 20;

interface JsonCheck {
  failOn: string; counts: Record<string, number>; failing: number;
  findings: { code: string; severity: string; path: string; depth: number | null; message: string }[];
}

function buildCheckTree(dir: string): string {
  const root = path.join(dir, 'root');
  const q = (args: string[]) => runOk(['qemu-img', 'create', '-q', '-f', 'qcow2', ...args], root);
  fs.mkdirSync(path.join(root, 'bases'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'elsewhere'));
  q(['bases/base.qcow2', String(16 * MiB)]);
  runOk(io('bases/base.qcow2', 'qcow2', [op.write(0, MiB, 1)]), root);
  q(['bases/golden.qcow2', String(16 * MiB)]);
  q(['-b', 'bases/golden.qcow2', '-F', 'qcow2', 'temp.qcow2']);
  q(['-b', 'bases/base.qcow2', '-F', 'qcow2', 'l1.qcow2']);
  q(['-b', 'l1.qcow2', '-F', 'qcow2', 'l2.qcow2']);
  q(['-b', 'l2.qcow2', '-F', 'qcow2', 'l3.qcow2']);
  q(['-u', '-b', 'missing.qcow2', '-F', 'qcow2', 'broken.qcow2', String(16 * MiB)]);
  q(['-u', '-b', 'loop-b.qcow2', '-F', 'qcow2', 'loop-a.qcow2', String(16 * MiB)]);
  q(['-u', '-b', 'loop-a.qcow2', '-F', 'qcow2', 'loop-b.qcow2', String(16 * MiB)]);
  runOk(['qemu-img', 'create', '-q', '-f', 'qcow2', path.join(dir, 'elsewhere/out.qcow2'), String(16 * MiB)], root);
  q(['-b', '../elsewhere/out.qcow2', '-F', 'qcow2', 'outside.qcow2']);
  q(['future.qcow2', String(16 * MiB)]);
  const future = fs.openSync(path.join(root, 'future.qcow2'), 'r+');
  fs.writeSync(future, Buffer.from([1]), 0, 1, 74); // an incompatible feature bit no QEMU knows (bit 40)
  fs.closeSync(future);
  q(['corrupt.qcow2', String(16 * MiB)]);
  const fd = fs.openSync(path.join(root, 'corrupt.qcow2'), 'r+');
  fs.writeSync(fd, Buffer.from([0, 0, 0, 0, 0, 1, 0x23, 0x45]), 0, 8, 40); // l1_table_offset: unaligned
  fs.closeSync(fd);
  q(['-o', 'lazy_refcounts=on', 'dirty.qcow2', String(16 * MiB)]);
  spawnSync('qemu-io', ['-c', 'write 0 64k', '-c', 'abort', 'dirty.qcow2'], { cwd: root, stdio: 'ignore' });
  q(['misnamed.raw', String(16 * MiB)]);
  return root;
}

describe.skipIf(!hasQemu)('imgaudit check (e2e)', () => {
  let dir: string;
  let root: string;
  let dbFile: string;
  const check = (...args: string[]) => runCli(['check', '--db', dbFile, ...args], dir);
  const findings = (...args: string[]): JsonCheck => JSON.parse(check('--format', 'json', ...args).stdout) as JsonCheck;
  const summary = (result: JsonCheck) => result.findings.map((f) => `${f.severity} ${f.code} ${path.relative(root, f.path)}`);

  beforeAll(() => {
    requireBuild();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-check-e2e-'));
    root = buildCheckTree(dir);
    dbFile = path.join(dir, 'audit.db');
    settle(root);
    expect(runCli(['scan', '--db', dbFile, '--fail-on', 'never', root], dir).status).toBe(0);
    fs.rmSync(path.join(root, 'temp.qcow2'));
    expect(runCli(['scan', '--db', dbFile, '--fail-on', 'never', root], dir).status).toBe(0);
  }, 120_000);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('lists every problem with its stable code and severity, most severe first; exit 1 on errors', () => {
    const result = check('--format', 'json');
    expect(result.status).toBe(1);
    const json = JSON.parse(result.stdout) as JsonCheck;
    expect(violations(json, CHECK)).toEqual([]);
    expect(summary(json)).toEqual([
      'error E_BACKING_MISSING broken.qcow2',
      'error E_BACKING_OUTSIDE_ROOTS outside.qcow2',
      'error E_CHAIN_LOOP loop-a.qcow2',
      'error E_CHAIN_LOOP loop-b.qcow2',
      'error E_CORRUPT_HEADER corrupt.qcow2',
      'error E_UNSUPPORTED_FEATURE future.qcow2',
      'warning E_IMAGE_DIRTY dirty.qcow2',
      'info E_BASE_UNUSED bases/golden.qcow2',
      'info E_FORMAT_MISMATCH misnamed.raw',
    ]);
    expect(json).toMatchObject({ failOn: 'error', counts: { error: 6, warning: 1, info: 2 }, failing: 6 });
    expect(json.findings.find((f) => f.code === 'E_BASE_UNUSED')!.message).toContain('chains last read it in run #1');
  });

  it('--deep-chain-layers flags longer chains; --base-pattern names bases nothing reads', () => {
    const json = findings('--deep-chain-layers', '3', '--base-pattern', 'bases/*', '--fail-on', 'never');
    expect(summary(json).filter((line) => /E_CHAIN_DEEP|E_BASE_UNUSED/.test(line))).toEqual([
      'warning E_CHAIN_DEEP l3.qcow2',
      'info E_BASE_UNUSED bases/golden.qcow2',
    ]);
    expect(json.findings.find((f) => f.code === 'E_CHAIN_DEEP')).toMatchObject({ depth: 3,
      message: `${path.join(root, 'l3.qcow2')}: the backing chain has 4 layers, more than 3 (reads walk every layer; consider qemu-img commit or stream)` });
  });

  it('exit status follows --fail-on; --ignore silences codes (by path glob too)', () => {
    const errors = ['E_BACKING_MISSING', 'E_BACKING_OUTSIDE_ROOTS', 'E_CHAIN_LOOP', 'E_CORRUPT_HEADER', 'E_UNSUPPORTED_FEATURE'];
    const ignoreErrors = errors.flatMap((code) => ['--ignore', code]);
    expect(check('--fail-on', 'never').status).toBe(0);
    expect(check(...ignoreErrors).status).toBe(0);
    expect(check(...ignoreErrors, '--fail-on', 'warning').status).toBe(1);
    expect(check(...ignoreErrors, '--fail-on', 'warning', '--ignore', 'E_IMAGE_DIRTY:dirty.*').status).toBe(0);
    expect(check(...ignoreErrors, '--fail-on', 'info', '--ignore', 'E_IMAGE_DIRTY:dirty.*').status).toBe(1);
    const left = findings(...ignoreErrors, '--ignore', 'E_IMAGE_DIRTY:other/**', '--ignore', 'E_FORMAT_MISMATCH');
    expect(summary(left)).toEqual(['warning E_IMAGE_DIRTY dirty.qcow2', 'info E_BASE_UNUSED bases/golden.qcow2']);
    const config = path.join(dir, 'strict.json');
    fs.writeFileSync(config, JSON.stringify({ database: dbFile, check: { failOn: 'info', deepChainLayers: 3 } }));
    const strict = runCli(['check', '--config', config, ...ignoreErrors, '--format', 'json'], dir);
    expect(strict.status).toBe(1);
    expect(JSON.parse(strict.stdout)).toMatchObject({ failOn: 'info', failing: 4 });
  });

  it('lists a run finding: an image that changed during the scan', () => {
    const copy = path.join(dir, 'changed.db');
    fs.copyFileSync(dbFile, copy);
    const db = new Database(copy);
    db.prepare("INSERT INTO run_findings (run_id, path, code, severity, message) VALUES (2, ?, 'E_IMAGE_CHANGED', 'warning', 'changed')")
      .run(path.join(root, 'l1.qcow2'));
    db.close();
    const json = JSON.parse(runCli(['check', '--db', copy, '--format', 'json'], dir).stdout) as JsonCheck;
    expect(summary(json)).toContain('warning E_IMAGE_CHANGED l1.qcow2');
  });

  it('text: findings with their messages below, a verdict line, within 100 columns', () => {
    const json = findings();
    const result = check();
    expect(result.status).toBe(1);
    const table = layout(['severity', 'code', 'path'], json.findings.map((f) => [f.severity, f.code, path.relative(root, f.path)]),
      [false, false, false]);
    const lines = result.stdout.split('\n');
    const start = lines.indexOf('Findings (9)');
    expect(lines.slice(0, start)).toEqual(expect.arrayContaining(['imgaudit check: run #2', 'findings  6 errors, 1 warning, 2 info']));
    expect(lines[start + 1]).toBe(table[0]);
    json.findings.forEach((f, i) => {
      const at = lines.indexOf(table[i + 1]!);
      expect(at, f.code).toBeGreaterThan(start);
      expect(lines[at + 1]!.startsWith('    ')).toBe(true);
    });
    expect(lines.slice(-3)).toEqual(['', '6 findings at or above --fail-on error', '']);
    expect(lines.every((line) => line.length <= 100)).toBe(true);
  });

  it('CSV and markdown hold every finding', () => {
    const json = findings();
    const csv = check('--format', 'csv').stdout.split('\r\n');
    expect(csv[0]).toBe('severity,code,path,depth,message');
    expect(csv).toHaveLength(json.findings.length + 2);
    const field = (text: string) => (/[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text);
    json.findings.forEach((f, i) => {
      expect(csv[i + 1]).toBe([f.severity, f.code, f.path, f.depth ?? '', field(f.message)].join(','));
    });
    const markdown = check('--format', 'markdown').stdout;
    expect(markdown).toContain('| severity | code | path | message |\n|:---|:---|:---|:---|\n| error | E\\_BACKING\\_MISSING | broken.qcow2 |');
  });

  it('exit status 2: bad flags, no such run', () => {
    expect(check('--fail-on', 'fatal').status).toBe(2);
    const ignore = check('--ignore', 'dirty');
    expect([ignore.status, ignore.stderr]).toEqual([2, "imgaudit: --ignore: expected CODE or CODE:GLOB (e.g. E_IMAGE_DIRTY:'vms/**'), got 'dirty'\n"]);
    const nope = check('--ignore', 'E_NOPE:vms/**');
    expect([nope.status, nope.stderr.split(' (known: ')[0]]).toEqual([2, "imgaudit: --ignore: unknown finding code 'E_NOPE'"]);
    expect(nope.stderr).toContain('E_IMAGE_DIRTY');
    const deep = check('--deep-chain-layers', '0');
    expect(deep.status).toBe(2);
    expect(deep.stderr).toMatch(/--deep-chain-layers: expected an integer from 1 to 1024, got 0/);
    expect(check('--run', '3').stderr).toBe("imgaudit: there is no run #3 in the database (imgaudit runs lists them)\n");
  });
});
