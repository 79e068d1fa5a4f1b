/**
 * The central schema against the SQLite one, on a real PostgreSQL server:
 * every table and view of the SQLite migrations exists centrally with the
 * same columns (the central store adds only its fleet columns), and every
 * report definition of reports/ runs unchanged on PostgreSQL (portable SQL).
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PG_AVAILABLE, type PgCluster, TEST_PASSWORD, startCluster } from '../support/pg-cluster.js';
import { REPO, requireBuild } from './scan-support.js';
import { cli } from './central-support.js';

const RUN_FLEET_COLUMNS = ['host_name', 'local_id', 'pushed_at'];
const FLEET_COLUMNS: Record<string, string[]> = { runs: RUN_FLEET_COLUMNS, latest_run: RUN_FLEET_COLUMNS, image_growth: ['host_name'] };

describe.skipIf(!PG_AVAILABLE)('central schema (e2e)', () => {
  let cluster: PgCluster;
  let database: string;
  let sqlite: Map<string, string[]>;

  beforeAll(async () => {
    requireBuild();
    cluster = startCluster();
    database = cluster.createDatabase();
    const result = await cli(['push', '--to', cluster.url(database, 'pusher', TEST_PASSWORD), '--migrate-only'], REPO);
    expect(result.status, result.stderr).toBe(0);
    const db = new Database(':memory:');
    for (const file of fs.readdirSync(path.join(REPO, 'migrations')).filter((f) => f.endsWith('.sql')).sort()) {
      db.exec(fs.readFileSync(path.join(REPO, 'migrations', file), 'utf8'));
    }
    sqlite = new Map();
    for (const name of db.prepare("SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%'").pluck().all() as string[]) {
      sqlite.set(name, (db.prepare(`SELECT name FROM pragma_table_info(?)`).pluck().all(name) as string[]));
    }
    db.close();
  });
  afterAll(() => cluster?.destroy());

  it('has every SQLite table and view, with the same columns', async () => {
    const rows = cluster.psql(`SELECT table_name, string_agg(column_name, ',' ORDER BY ordinal_position)
      FROM information_schema.columns WHERE table_schema = 'public' GROUP BY table_name`, database).trim().split('\n');
    const central = new Map(rows.map((row) => {
      const [name, columns] = row.split('|');
      return [name!, columns!.split(',')];
    }));
    for (const [name, columns] of sqlite) {
      expect(central.has(name), `${name} missing centrally`).toBe(true);
      const extra = FLEET_COLUMNS[name] ?? [];
      expect(central.get(name)!.filter((c) => !extra.includes(c)).sort(), name).toEqual([...columns].sort());
    }
  });

  it('runs every report definition of reports/ unchanged', async () => {
    const dir = path.join(REPO, 'reports');
    const failures: string[] = [];
    for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.sql'))) {
      const sql = fs.readFileSync(path.join(dir, file), 'utf8').replace(/\$run_id/g, '1').replace(/\$previous_run_id/g, 'NULL')
        .replace(/\$limit/g, '10');
      try {
        cluster.psql(`${sql.trim().replace(/;\s*$/, '')};`, database);
      } catch (error) {
        failures.push(`${file}: ${/ERROR:.*/.exec(String((error as { stderr?: string }).stderr))?.[0]}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('every foreign key leads an index, so that deleting a parent row (prune) searches its children; the roots\' excepted', async () => {
    const unindexed = cluster.psql(`SELECT c.confrelid::regclass || ' <- ' || c.conrelid::regclass || '.' || a.attname
      FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
      WHERE c.contype = 'f' AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.conrelid AND i.indkey[0] = c.conkey[1])
      ORDER BY 1`, database).trim().split('\n').filter((line) => line !== '');
    // A root goes only when no run of any host lists it: one scan of these tables per root dropped.
    expect(unindexed.filter((line) => !line.startsWith('roots <- '))).toEqual([]);
  });
});
