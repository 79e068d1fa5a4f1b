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
import { requireBuild } from './scan-support.js';
import { cli } from './central-support.js';

describe.skipIf(!PG_AVAILABLE || !hasQemu)('central PostgreSQL store (e2e)', () => {
  let cluster: PgCluster;
  let dir: string;
  let tree: ReportTree;
  let dbFile: string;
  let central: string;
  let database: string;

  beforeAll(async () => {
    requireBuild();
    cluster = startCluster();
    database = cluster.createDatabase();
    central = cluster.url(database, 'pusher', TEST_PASSWORD);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-central-'));
    tree = buildReportTree(dir);
    dbFile = path.join(dir, 'host.db');
    scanTree(tree, dbFile);
    const first = await cli(['push', '--db', dbFile, '--to', central, '--host', 'hv-a'], dir);
    expect(first.status, first.stderr).toBe(0);
    changeReportTree(tree);
    scanTree(tree, dbFile);
  });

  afterAll(() => {
    cluster?.destroy();
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('pushes the runs it lacks, then nothing', async () => {
    const second = await cli(['push', '--db', dbFile, '--to', central, '--host', 'hv-a', '--format', 'json'], dir);
    expect(second.status, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ host: 'hv-a', pushedRunIds: [2], alreadyThere: 1 });
    const third = await cli(['push', '--db', dbFile, '--to', central, '--host', 'hv-a', '--format', 'json'], dir);
    expect(third.status, third.stderr).toBe(0);
    expect(JSON.parse(third.stdout)).toMatchObject({ pushedRunIds: [], alreadyThere: 2, rows: {} });
    expect(second.stdout + third.stdout).not.toContain(TEST_PASSWORD);
    expect(cluster.psql("SELECT count(*) FROM runs WHERE host_name = 'hv-a'", database).trim()).toBe('2');
  });

  it('refuses another database pushing under a name already used (no run taken for another)', async () => {
    const other = path.join(dir, 'other.db');
    const scan = await cli(['scan', '--db', other, '--fail-on', 'never', tree.roots[1]], dir);
    expect(scan.status, scan.stderr).toBe(0);
    const push = await cli(['push', '--db', other, '--to', central, '--host', 'hv-a'], dir);
    expect(push.status).toBe(2);
    expect(push.stderr).toMatch(/holds another run #1 for host 'hv-a' .*push it under another --host name/);
    expect(cluster.psql("SELECT count(*) FROM runs WHERE host_name = 'hv-a'", database).trim()).toBe('2');
  });

  it('stores no password and no duplicated content', async () => {
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

  it.each(readers())('prints through --host exactly what the host file prints: %s %s %s %s', async (...args: string[]) => {
    {
      const fromFile = await cli([...args, '--db', dbFile], dir);
      const fromCentral = await cli([...args, '--db', central, '--host', 'hv-a'], dir);
      expect(fromFile.status, `${args.join(' ')}: ${fromFile.stderr}`).toBe(0);
      expect(fromCentral.stderr, args.join(' ')).toBe(fromFile.stderr);
      expect(fromCentral.status, args.join(' ')).toBe(fromFile.status);
      const stripQueryIds = args[0] === 'query' && args[1]!.includes('map_id');
      if (!stripQueryIds) expect(fromCentral.stdout, args.join(' ')).toBe(fromFile.stdout);
      else expect(fromCentral.stdout.length, args.join(' ')).toBeGreaterThan(10);
    }
  });

  it('runs SQL over the whole store in read-only transactions', async () => {
    const result = await cli(['query', 'SELECT host_name, count(*) AS runs FROM runs GROUP BY host_name', '--db', central, '--format', 'csv'], dir);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toBe('host_name,runs\r\nhv-a,2\r\n');
    // Every documented view runs on the central store's data.
    for (const view of ['run_image_states', 'run_image_depths', 'latest_run', 'latest_image_states', 'run_root_depth_totals', 'image_growth',
      'run_base_usage', 'run_findings_all', 'map_entries_expanded', 'run_totals', 'run_depth_categories', 'run_image_files',
      'run_root_totals', 'run_format_totals', 'run_layer_figures', 'run_filesystem_overcommit', 'run_root_usage_history',
      'run_root_growth', 'run_filesystem_growth', 'run_flatten_candidates', 'run_images_in_use']) {
      const rows = await cli(['query', `SELECT count(*) AS n FROM ${view}`, '--db', central, '--format', 'csv'], dir);
      expect(rows.status, `${view}: ${rows.stderr}`).toBe(0);
    }
    const growth = await cli(['query', 'SELECT count(*) AS n FROM run_root_usage_history', '--db', central, '--format', 'csv'], dir);
    expect(growth.stdout).not.toBe('n\r\n0\r\n');
    const write = await cli(['query', 'DELETE FROM runs RETURNING id', '--db', central], dir);
    expect(write.status).toBe(2);
    expect(write.stderr).toMatch(/read-only transaction/);
    expect(cluster.psql('SELECT count(*) FROM runs', database).trim()).toBe('2');
  });

  it('bounds a query over the whole store, and over one host, in time and memory', async () => {
    const endless = "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT n, repeat('x', 200) AS pad FROM r";
    const memory = await cli(['query', endless, '--db', central, '--max-memory', '64', '--timeout', '60'], dir);
    expect(memory.status).toBe(2);
    expect(memory.stderr).toMatch(/^imgaudit: query: the result passed its memory limit after \d+ rows \(--max-memory/);
    const slow = await cli(['query', 'SELECT pg_sleep(30) AS slept', '--db', central, '--timeout', '1'], dir);
    expect(slow.status).toBe(2);
    expect(slow.stderr).toBe('imgaudit: query: stopped after 1 s, its time limit (--timeout, or query.timeoutSeconds in the config file)\n');
    const sqliteEndless = "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT n, printf('%.200c', 'x') AS pad FROM r";
    const host = await cli(['query', sqliteEndless, '--db', central, '--host', 'hv-a', '--max-memory', '64', '--timeout', '60'], dir);
    expect(host.status).toBe(2);
    expect(host.stderr).toMatch(/^imgaudit: query: (the result passed its memory limit|ran out of memory)/);
    // Within its limits a query still answers.
    const fine = await cli(['query', 'SELECT count(*) AS n FROM runs', '--db', central, '--timeout', '5', '--max-memory', '64', '--format', 'csv'], dir);
    expect(fine.stdout).toBe(`n\r\n${cluster.psql('SELECT count(*) FROM runs', database).trim()}\r\n`);
  });

  it('reads as a SELECT-only role', async () => {
    cluster.psql('GRANT USAGE ON SCHEMA public TO reader; GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader;', database);
    const reader = cluster.url(database, 'reader', TEST_PASSWORD);
    const fromFile = await cli(['runs', '--format', 'json', '--db', dbFile], dir);
    const fromCentral = await cli(['runs', '--format', 'json', '--db', reader], dir);
    expect(fromCentral.status, fromCentral.stderr).toBe(0);
    expect(fromCentral.stdout).toBe(fromFile.stdout);
  });

  it('pushes as a role with the documented INSERT grants only (docs/fleet.md)', async () => {
    cluster.psql(`CREATE ROLE hostpush LOGIN PASSWORD '${TEST_PASSWORD}'; GRANT CONNECT ON DATABASE ${database} TO hostpush;`);
    cluster.psql(`SET ROLE pusher;
      GRANT USAGE ON SCHEMA public TO hostpush;
      GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA public TO hostpush;
      GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO hostpush;`, database);
    const url = cluster.url(database, 'hostpush', TEST_PASSWORD);
    const push = await cli(['push', '--db', dbFile, '--to', url, '--host', 'hv-c', '--format', 'json'], dir);
    expect(push.status, push.stderr).toBe(0);
    expect(JSON.parse(push.stdout)).toMatchObject({ pushedRunIds: [1, 2] });
    const write = await cli(['prune', '--db', url, '--keep', '1'], dir);
    expect(write.status).toBe(2);
    expect(write.stderr).toMatch(/permission denied/);
    cluster.psql("DELETE FROM runs WHERE host_name = 'hv-c'", database);
  });

  it('needs --host when the store holds several hosts, and knows its hosts', async () => {
    const other = await cli(['push', '--db', dbFile, '--to', central, '--host', 'hv-b'], dir);
    expect(other.status, other.stderr).toBe(0);
    const ambiguous = await cli(['runs', '--db', central], dir);
    expect(ambiguous.status).toBe(2);
    expect(ambiguous.stderr).toMatch(/2 hosts: pick one with --host NAME \(hv-a, hv-b\)/);
    const unknown = await cli(['runs', '--db', central, '--host', 'nope'], dir);
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

  it('prunes per host, keeping content other hosts still use', async () => {
    const dry = await cli(['prune', '--db', central, '--host', 'hv-a', '--keep', '1', '--dry-run'], dir);
    expect(dry.status, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/^would remove 1 run \(hv-a #1\), 0 chain states, 0 maps, 0 files\nkept 1 run of 1 host\n$/);
    expect(cluster.psql('SELECT count(*) FROM runs', database).trim()).toBe('4');
    const one = await cli(['prune', '--db', central, '--host', 'hv-a', '--keep', '1'], dir);
    expect(one.status, one.stderr).toBe(0);
    expect(one.stdout).toMatch(/^removed 1 run \(hv-a #1\), 0 chain states, 0 maps, 0 files\n/);
    const all = await cli(['prune', '--db', central, '--keep', '1', '--format', 'json'], dir);
    expect(all.status, all.stderr).toBe(0);
    const result = JSON.parse(all.stdout) as { hosts: { host: string; removedRunIds: number[] }[]; counts: { runs: number; maps: number; chains: number } };
    expect(result.hosts).toEqual([{ host: 'hv-a', removedRunIds: [], keptRunIds: [2] }, { host: 'hv-b', removedRunIds: [1], keptRunIds: [2] }]);
    expect(result.counts.runs).toBe(1);
    expect(result.counts.chains).toBeGreaterThan(0);
    // What is left reads back as before: run 2 of each host.
    for (const host of ['hv-a', 'hv-b']) {
      const fromFile = await cli(['report', '--run', '2', '--by', 'layer', '--format', 'csv', '--db', dbFile], dir);
      const fromCentral = await cli(['report', '--run', '2', '--by', 'layer', '--format', 'csv', '--db', central, '--host', host], dir);
      expect(fromCentral.stdout, host).toBe(fromFile.stdout);
    }
    expect(cluster.psql('SELECT count(*) FROM maps m WHERE NOT EXISTS (SELECT 1 FROM chains c WHERE c.map_id = m.id) '
      + 'AND NOT EXISTS (SELECT 1 FROM file_allocations a WHERE a.map_id = m.id)', database).trim()).toBe('0');
  });

  it('refuses a central schema newer than this imgaudit (exit 2)', async () => {
    const newer = cluster.createDatabase();
    const url = cluster.url(newer, 'pusher', TEST_PASSWORD);
    expect((await cli(['push', '--db', dbFile, '--to', url, '--migrate-only'], dir)).status).toBe(0);
    cluster.psql("INSERT INTO _migrations VALUES ('9999_future_change.sql', 'x', 'now')", newer);
    const push = await cli(['push', '--db', dbFile, '--to', url], dir);
    expect(push.status).toBe(2);
    expect(push.stderr).toMatch(/migration '9999_future_change.sql', which this imgaudit does not know/);
    const read = await cli(['runs', '--db', url], dir);
    expect(read.status).toBe(2);
    expect(read.stderr).toMatch(/9999_future_change.sql/);
  });
});
