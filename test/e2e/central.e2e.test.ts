/**
 * The central store end to end on a real PostgreSQL server (a throwaway
 * cluster): a host scans a qemu-img-built tree twice and pushes; every
 * reading command, in every format, prints through `--db postgres://...
 * --host NAME` exactly what it prints from the host's SQLite file (byte for
 * byte). A second push sends nothing; the central schema is the SQLite
 * schema (same tables, same columns); a newer central schema is refused.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PG_AVAILABLE, type PgCluster, TEST_PASSWORD, startCluster } from '../support/pg-cluster.js';
import { hasQemu } from '../support/qemu.js';
import { buildReportTree, changeReportTree, scanTree, type ReportTree } from './report-tree.js';
import { requireBuild, runCli } from './scan-support.js';

describe.skipIf(!PG_AVAILABLE || !hasQemu)('central PostgreSQL store (e2e)', () => {
  let cluster: PgCluster;
  let dir: string;
  let tree: ReportTree;
  let dbFile: string;
  let central: string;
  let database: string;

  beforeAll(() => {
    requireBuild();
    cluster = startCluster();
    database = cluster.createDatabase();
    central = cluster.url(database, 'pusher', TEST_PASSWORD);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-central-'));
    tree = buildReportTree(dir);
    dbFile = path.join(dir, 'host.db');
    scanTree(tree, dbFile);
    const first = runCli(['push', '--db', dbFile, '--to', central, '--host', 'hv-a'], dir);
    expect(first.status, first.stderr).toBe(0);
    changeReportTree(tree);
    scanTree(tree, dbFile);
  });

  afterAll(() => {
    cluster?.destroy();
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('pushes the runs it lacks, then nothing', () => {
    const second = runCli(['push', '--db', dbFile, '--to', central, '--host', 'hv-a', '--format', 'json'], dir);
    expect(second.status, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ host: 'hv-a', pushedRunIds: [2], alreadyThere: 1 });
    const third = runCli(['push', '--db', dbFile, '--to', central, '--host', 'hv-a', '--format', 'json'], dir);
    expect(third.status, third.stderr).toBe(0);
    expect(JSON.parse(third.stdout)).toMatchObject({ pushedRunIds: [], alreadyThere: 2, rows: {} });
    expect(second.stdout + third.stdout).not.toContain(TEST_PASSWORD);
    expect(cluster.psql("SELECT count(*) FROM runs WHERE host_name = 'hv-a'", database).trim()).toBe('2');
  });

  it('stores no password and no duplicated content', () => {
    expect(cluster.psql('SELECT count(*) FROM runs WHERE config LIKE \'%s3cret%\'', database).trim()).toBe('0');
    const local = new Database(dbFile, { readonly: true });
    try {
      for (const table of ['maps', 'map_entries', 'chain_layers', 'files', 'images', 'roots', 'run_images', 'run_depth_totals']) {
        const n = local.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
        expect(cluster.psql(`SELECT count(*) FROM ${table}`, database).trim(), table).toBe(String(n));
      }
    } finally {
      local.close();
    }
  });

  const readers = (): string[][] => {
    const formats = (list: string[], base: string[]) => list.map((format) => [...base, '--format', format]);
    return [
      ...formats(['text', 'markdown', 'json', 'csv', 'html', 'prometheus'], ['report']),
      ...formats(['text', 'json', 'csv'], ['report', '--run', '1']),
      ...['image', 'layer', 'depth', 'root', 'format'].map((by) => ['report', '--by', by, '--format', 'csv']),
      ...['shared-bases', 'reclaim', 'run-history', 'top-growth'].map((name) => ['report', '--report', name, '--format', 'json']),
      ...formats(['text', 'markdown', 'json', 'csv', 'html'], ['diff']),
      ...formats(['text', 'json', 'csv'], ['runs']),
      ...formats(['text', 'markdown', 'json', 'csv'], ['check', '--fail-on', 'never']),
      ['query', 'SELECT path, data_bytes, chain_length FROM run_image_states WHERE run_id = 2 ORDER BY path', '--format', 'csv'],
      ['query', 'SELECT map_id, start_bytes, length_bytes, depth FROM map_entries_expanded ORDER BY 1, 2 LIMIT 50', '--format', 'json'],
    ];
  };

  it.each(readers())('prints through --host exactly what the host file prints: %s %s %s %s', (...args: string[]) => {
    {
      const fromFile = runCli([...args, '--db', dbFile], dir);
      const fromCentral = runCli([...args, '--db', central, '--host', 'hv-a'], dir);
      expect(fromFile.status, `${args.join(' ')}: ${fromFile.stderr}`).toBe(0);
      expect(fromCentral.stderr, args.join(' ')).toBe(fromFile.stderr);
      expect(fromCentral.status, args.join(' ')).toBe(fromFile.status);
      const stripQueryIds = args[0] === 'query' && args[1]!.includes('map_id');
      if (!stripQueryIds) expect(fromCentral.stdout, args.join(' ')).toBe(fromFile.stdout);
      else expect(fromCentral.stdout.length, args.join(' ')).toBeGreaterThan(10);
    }
  });

  it('runs SQL over the whole store in read-only transactions', () => {
    const result = runCli(['query', 'SELECT host_name, count(*) AS runs FROM runs GROUP BY host_name', '--db', central, '--format', 'csv'], dir);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toBe('host_name,runs\r\nhv-a,2\r\n');
    const write = runCli(['query', 'DELETE FROM runs RETURNING id', '--db', central], dir);
    expect(write.status).toBe(2);
    expect(write.stderr).toMatch(/read-only transaction/);
    expect(cluster.psql('SELECT count(*) FROM runs', database).trim()).toBe('2');
  });

  it('reads as a SELECT-only role', () => {
    cluster.psql('GRANT USAGE ON SCHEMA public TO reader; GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader;', database);
    const reader = cluster.url(database, 'reader', TEST_PASSWORD);
    const fromFile = runCli(['runs', '--format', 'json', '--db', dbFile], dir);
    const fromCentral = runCli(['runs', '--format', 'json', '--db', reader], dir);
    expect(fromCentral.status, fromCentral.stderr).toBe(0);
    expect(fromCentral.stdout).toBe(fromFile.stdout);
  });

  it('needs --host when the store holds several hosts, and knows its hosts', () => {
    const other = runCli(['push', '--db', dbFile, '--to', central, '--host', 'hv-b'], dir);
    expect(other.status, other.stderr).toBe(0);
    const ambiguous = runCli(['runs', '--db', central], dir);
    expect(ambiguous.status).toBe(2);
    expect(ambiguous.stderr).toMatch(/2 hosts: pick one with --host NAME \(hv-a, hv-b\)/);
    const unknown = runCli(['runs', '--db', central, '--host', 'nope'], dir);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/host 'nope' has no runs/);
    // The second host shares every map and chain state with the first.
    expect(cluster.psql('SELECT count(*) FROM runs', database).trim()).toBe('4');
    const local = new Database(dbFile, { readonly: true });
    try {
      const maps = local.prepare('SELECT count(*) FROM maps').pluck().get() as number;
      expect(cluster.psql('SELECT count(*) FROM maps', database).trim()).toBe(String(maps));
    } finally {
      local.close();
    }
  });

  it('refuses a central schema newer than this imgaudit (exit 2)', () => {
    const newer = cluster.createDatabase();
    const url = cluster.url(newer, 'pusher', TEST_PASSWORD);
    expect(runCli(['push', '--db', dbFile, '--to', url, '--migrate-only'], dir).status).toBe(0);
    cluster.psql("INSERT INTO _migrations VALUES ('9999_future_change.sql', 'x', 'now')", newer);
    const push = runCli(['push', '--db', dbFile, '--to', url], dir);
    expect(push.status).toBe(2);
    expect(push.stderr).toMatch(/migration '9999_future_change.sql', which this imgaudit does not know/);
    const read = runCli(['runs', '--db', url], dir);
    expect(read.status).toBe(2);
    expect(read.stderr).toMatch(/9999_future_change.sql/);
  });
});
