/**
 * `imgaudit query "SQL"` end to end: table, JSON and CSV over the documented
 * views, parameters, and proof that nothing can write through it.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasQemu } from '../support/qemu.js';
import { buildReportTree, scanTree, type ReportTree } from './report-tree.js';
import { iec, layout } from './report-support.js';
import { requireBuild, runCli } from './scan-support.js';

describe.skipIf(!hasQemu)('imgaudit query (e2e)', () => {
  let dir: string;
  let tree: ReportTree;
  let dbFile: string;
  const query = (...args: string[]) => runCli(['query', '--db', dbFile, ...args], dir);
  const hash = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  const SQL = 'SELECT path, format, disk_usage_bytes FROM latest_image_states WHERE root = $root ORDER BY path';

  beforeAll(() => {
    requireBuild();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-query-e2e-'));
    tree = buildReportTree(dir);
    dbFile = path.join(dir, 'audit.db');
    scanTree(tree, dbFile);
  }, 120_000);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const files = () => fs.readdirSync(tree.roots[1]).sort().map((name) => path.join(tree.roots[1], name));
  const usage = (file: string) => fs.statSync(file).blocks * 512;

  it('table: aligned, *_bytes columns as IEC sizes (--bytes: exact)', () => {
    const result = query('-p', `root=${tree.roots[1]}`, SQL);
    expect(result.status, result.stderr).toBe(0);
    const rows = files().map((file) => [file, path.extname(file) === '.img' ? 'raw' : 'qcow2', iec(usage(file))]);
    expect(result.stdout).toBe(`${layout(['path', 'format', 'disk usage'], rows, [false, false, true]).join('\n')}\n`);
    const exact = query('-p', `root=${tree.roots[1]}`, '--bytes', SQL);
    expect(exact.stdout).toContain(` ${usage(files()[0]!)}\n`);
  });

  it('JSON: an array of rows keyed by column name; CSV: RFC 4180 with a header row', () => {
    const json = JSON.parse(query('-p', `root=${tree.roots[1]}`, '--format', 'json', SQL).stdout) as unknown;
    expect(json).toEqual(files().map((file) => ({ path: file, format: path.extname(file) === '.img' ? 'raw' : 'qcow2',
      disk_usage_bytes: usage(file) })));
    const csv = query('-p', `root=${tree.roots[1]}`, '--format', 'csv', SQL).stdout;
    expect(csv).toBe(['path,format,disk_usage_bytes', ...files().map((file) =>
      `${file},${path.extname(file) === '.img' ? 'raw' : 'qcow2'},${usage(file)}`), ''].join('\r\n'));
  });

  it('is read-only: no statement can change the database', () => {
    const before = hash(dbFile);
    const attempts: [string, RegExp][] = [
      ['DELETE FROM runs', /only queries are allowed/],
      ['DELETE FROM runs RETURNING id', /readonly database|query_only/],
      ['UPDATE runs SET status = \'failed\' RETURNING id', /readonly database|query_only/],
      ['PRAGMA query_only = 0', /only queries are allowed/],
      ['SELECT 1; DELETE FROM runs', /more than one statement/],
      [`ATTACH '${path.join(dir, 'x.db')}' AS x`, /only queries are allowed/],
      ['CREATE TEMP TABLE t AS SELECT 1', /only queries are allowed/],
    ];
    for (const [sql, message] of attempts) {
      const result = query(sql);
      expect(result.status, sql).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr, sql).toMatch(message);
    }
    expect(hash(dbFile)).toBe(before);
    expect(fs.existsSync(path.join(dir, 'x.db'))).toBe(false);
    expect(query('SELECT count(*) AS n FROM runs WHERE status = \'complete\'').stdout).toBe('N\n1\n');
  });

  it('exit status 2 with SQLite\'s message for bad SQL and bad parameters', () => {
    expect(query('SELECT * FROM nowhere').stderr).toBe('imgaudit: SQL error: no such table: nowhere\n');
    expect(query('SELECT $x').stderr).toMatch(/^imgaudit: SQL error: Missing named parameter "x"/);
    expect(query('-p', 'x', 'SELECT 1').stderr).toBe("imgaudit: --param: expected NAME=VALUE, got 'x'\n");
    expect(query('   ').status).toBe(2);
  });

  it('does not migrate: a database an older imgaudit wrote is read as it is', () => {
    const copy = path.join(dir, 'old.db');
    fs.copyFileSync(dbFile, copy);
    const db = new Database(copy);
    db.exec("DELETE FROM _migrations WHERE name >= '0003'; DROP VIEW run_root_totals;");
    db.close();
    const before = hash(copy);
    const result = runCli(['query', '--db', copy, 'SELECT count(*) AS n FROM run_image_states'], dir);
    expect(result.stdout).toBe(` N\n${tree.mapped.length + tree.broken.length}\n`);
    expect(hash(copy)).toBe(before);
  });
});
