/**
 * Load on the central store: 20 simulated hosts, each with its own name and
 * a small estate built with qemu-img (a template base copied to every host,
 * overlays with host-specific data), scan and push concurrently — twice,
 * with growth in between — through the scan config's push.afterScan. Then
 * nothing is lost or doubled, and the fleet view's totals are the sums of
 * the hosts' own reports, in JSON, CSV and Prometheus.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PG_AVAILABLE, type PgCluster, TEST_PASSWORD, startCluster } from '../support/pg-cluster.js';
import { TEST_ENV, create, hasQemu, io, op, runOk, settle } from '../support/qemu.js';
import { CLI, requireBuild } from './scan-support.js';
import { cli } from './central-support.js';

const HOSTS = 20;
const MiB = 1 << 20;
const hostName = (i: number) => `hv-${String(i).padStart(2, '0')}`;

function exited(child: ChildProcess): Promise<{ status: number | null; stderr: string }> {
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  child.stdout?.on('data', () => undefined);
  return new Promise((resolve) => child.on('exit', (status) => resolve({ status, stderr })));
}

interface JsonTotals {
  run: { imageCount: number };
  totals: { virtualSize: number; diskUsage: number; unallocated: number; byDepth: { data: number; zero: number; preallocated: number }[] };
}

describe.skipIf(!PG_AVAILABLE || !hasQemu)(`${HOSTS} hosts scanning and pushing at once (e2e)`, () => {
  let cluster: PgCluster;
  let dir: string;
  let database: string;
  let url: string;
  const hostDir = (i: number) => path.join(dir, hostName(i));

  async function scanAll(): Promise<void> {
    const children = Array.from({ length: HOSTS }, (_, i) => spawn(process.execPath,
      [CLI, 'scan', '--config', path.join(hostDir(i), 'imgaudit.json'), '--fail-on', 'never'],
      { cwd: hostDir(i), env: TEST_ENV, stdio: ['ignore', 'pipe', 'pipe'] }));
    const results = await Promise.all(children.map(exited));
    results.forEach((r, i) => {
      expect(r.status, `${hostName(i)}: ${r.stderr}`).toBe(0);
      expect(r.stderr, hostName(i)).not.toMatch(/warning: push failed/);
    });
  }

  beforeAll(async () => {
    requireBuild();
    cluster = startCluster();
    database = cluster.createDatabase();
    url = cluster.url(database, 'pusher', TEST_PASSWORD);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-fleet-'));
    // One template, copied (same content and allocation) to every host.
    const template = path.join(dir, 'template.qcow2');
    runOk(create('template.qcow2', 'qcow2', 64 * MiB), dir);
    runOk(io('template.qcow2', 'qcow2', [op.write(0, 2 * MiB, 0x5a), op.write(16 * MiB, MiB, 0x5b)]), dir);
    for (let i = 0; i < HOSTS; i++) {
      const root = path.join(hostDir(i), 'images');
      fs.mkdirSync(root, { recursive: true });
      fs.copyFileSync(template, path.join(root, 'template.qcow2'));
      for (let v = 0; v < 2 + (i % 3); v++) {
        runOk(create(`vm${v}.qcow2`, 'qcow2', 64 * MiB, {}, { file: 'template.qcow2', fmt: 'qcow2' }), root);
        runOk(io(`vm${v}.qcow2`, 'qcow2', [op.write((4 + v) * MiB, (i + 1) * 64 * 1024, 0x10 + v)]), root);
      }
      runOk(create('scratch.raw', 'raw', 8 * MiB), root);
      runOk(io('scratch.raw', 'raw', [op.write(0, (i % 4 + 1) * 256 * 1024, 0x77)]), root);
      settle(root);
      fs.writeFileSync(path.join(hostDir(i), 'imgaudit.json'), JSON.stringify({
        roots: ['images'], database: 'host.db', host: hostName(i), push: { database: url, afterScan: true },
      }));
    }
    await scanAll();
    for (let i = 1; i < HOSTS; i++) {
      const root = path.join(hostDir(i), 'images');
      runOk(io('vm0.qcow2', 'qcow2', [op.write(32 * MiB, (i + 1) * 128 * 1024, 0x42)]), root);
      settle(root);
    }
    // Host 0 drops its overlays: its old template is an orphaned base.
    const root0 = path.join(hostDir(0), 'images');
    for (const name of fs.readdirSync(root0).filter((n) => n.startsWith('vm'))) fs.rmSync(path.join(root0, name));
    const old = new Date(Date.now() - 30 * 86_400_000);
    fs.utimesSync(path.join(root0, 'template.qcow2'), old, old);
    await scanAll();
  }, 600_000);

  afterAll(() => {
    cluster?.destroy();
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('holds every run of every host once, and each map once', async () => {
    expect(cluster.psql("SELECT string_agg(DISTINCT host_name || ':' || n, ',') FROM (SELECT host_name, count(*) AS n FROM runs GROUP BY host_name) h", database).trim())
      .toBe(Array.from({ length: HOSTS }, (_, i) => `${hostName(i)}:2`).join(','));
    const hashes = new Set<string>();
    for (let i = 0; i < HOSTS; i++) {
      const db = new Database(path.join(hostDir(i), 'host.db'), { readonly: true });
      try {
        for (const hash of db.prepare('SELECT hash FROM maps').pluck().all() as string[]) hashes.add(hash);
      } finally {
        db.close();
      }
    }
    expect(cluster.psql('SELECT count(*) FROM maps', database).trim()).toBe(String(hashes.size));
    // The scans' config held the central URL with its password: stored redacted, locally and centrally.
    expect(cluster.psql("SELECT count(*) FROM runs WHERE config LIKE '%pusher:***@%'", database).trim()).toBe(String(2 * HOSTS));
    expect(cluster.psql(`SELECT count(*) FROM runs WHERE strpos(config, '${TEST_PASSWORD}') > 0`, database).trim()).toBe('0');
    const local = new Database(path.join(hostDir(0), 'host.db'), { readonly: true });
    try {
      expect(local.prepare('SELECT config FROM runs').pluck().all().join('\n')).not.toContain(TEST_PASSWORD);
    } finally {
      local.close();
    }
    expect(cluster.psql('SELECT count(*) - count(DISTINCT hash) FROM maps', database).trim()).toBe('0');
  });

  it('fleet totals are the sums of the hosts\' own reports', async () => {
    const fleet = await cli(['report', '--fleet', '--db', url, '--format', 'json', '--top', '100'], dir);
    expect(fleet.status, fleet.stderr).toBe(0);
    const model = JSON.parse(fleet.stdout) as { sections: { hosts: { host: string; isStale: unknown }[]; hostTotals: Record<string, number | string>[];
      sharedBases: { name: string; hostCount: number; fileCount: number }[]; topGrowth: { host: string; diskUsageGrowthBytes: number }[];
      orphans: unknown[] }; findings: unknown[] };
    expect(model.sections.hosts.map((h) => h.host)).toEqual(Array.from({ length: HOSTS }, (_, i) => hostName(i)));
    expect(model.findings).toEqual([]);
    const sum = { image_count: 0, disk_usage_bytes: 0, virtual_size_bytes: 0, data_bytes: 0, zero_bytes: 0, preallocated_bytes: 0, unallocated_bytes: 0 };
    for (let i = 0; i < HOSTS; i++) {
      const own = await cli(['report', '--format', 'json', '--db', path.join(hostDir(i), 'host.db')], dir);
      expect(own.status, own.stderr).toBe(0);
      const r = JSON.parse(own.stdout) as JsonTotals;
      const expected = {
        image_count: r.run.imageCount, disk_usage_bytes: r.totals.diskUsage, virtual_size_bytes: r.totals.virtualSize,
        data_bytes: r.totals.byDepth.reduce((s, d) => s + d.data, 0), zero_bytes: r.totals.byDepth.reduce((s, d) => s + d.zero, 0),
        preallocated_bytes: r.totals.byDepth.reduce((s, d) => s + d.preallocated, 0), unallocated_bytes: r.totals.unallocated,
      };
      const row = model.sections.hostTotals.find((t) => t.host === hostName(i))!;
      expect({
        image_count: row.imageCount, disk_usage_bytes: row.diskUsageBytes, virtual_size_bytes: row.virtualSizeBytes, data_bytes: row.dataBytes,
        zero_bytes: row.zeroBytes, preallocated_bytes: row.preallocatedBytes, unallocated_bytes: row.unallocatedBytes,
      }, hostName(i)).toEqual(expected);
      for (const key of Object.keys(sum) as (keyof typeof sum)[]) sum[key] += expected[key];
    }
    const fleetRow = model.sections.hostTotals.at(-1)!;
    expect(fleetRow.host).toBe('(fleet)');
    expect({
      image_count: fleetRow.imageCount, disk_usage_bytes: fleetRow.diskUsageBytes, virtual_size_bytes: fleetRow.virtualSizeBytes,
      data_bytes: fleetRow.dataBytes, zero_bytes: fleetRow.zeroBytes, preallocated_bytes: fleetRow.preallocatedBytes,
      unallocated_bytes: fleetRow.unallocatedBytes,
    }).toEqual(sum);
    // The template is one base shared by every host still reading it; every other host grew.
    expect(model.sections.sharedBases).toEqual([expect.objectContaining({ name: 'template.qcow2', hostCount: HOSTS - 1, fileCount: HOSTS - 1 })]);
    expect(model.sections.topGrowth).toHaveLength(HOSTS);
    for (const g of model.sections.topGrowth.filter((t) => t.host !== hostName(0))) expect(g.diskUsageGrowthBytes, g.host).toBeGreaterThan(0);
    // Host 0's orphaned template, as its own check finds it.
    const check = await cli(['check', '--format', 'json', '--fail-on', 'never', '--db', path.join(hostDir(0), 'host.db')], dir);
    const orphaned = (JSON.parse(check.stdout) as { findings: { code: string; path: string }[] }).findings.filter((f) => f.code === 'E_BASE_ORPHANED');
    expect(orphaned.map((f) => path.basename(f.path))).toEqual(['template.qcow2']);
    const own = JSON.parse((await cli(['report', '--format', 'json', '--db', path.join(hostDir(0), 'host.db')], dir)).stdout) as
      { images: { path: string; diskUsage: number }[] };
    const templateBytes = own.images.find((image) => image.path === orphaned[0]!.path)!.diskUsage;
    expect(model.sections.orphans).toEqual([{ host: hostName(0), orphanCount: 1, baseOrphanCount: 1, orphanedBytes: templateBytes }]);

    const csv = await cli(['report', '--fleet', '--db', url, '--format', 'csv'], dir);
    expect(csv.status, csv.stderr).toBe(0);
    const lines = csv.stdout.trimEnd().split('\r\n');
    expect(lines).toHaveLength(HOSTS + 2);
    expect(lines.at(-1)!.split(',').slice(0, 2)).toEqual(['(fleet)', String(sum.image_count)]);

    const prom = await cli(['report', '--fleet', '--db', url, '--format', 'prometheus'], dir);
    expect(prom.status, prom.stderr).toBe(0);
    expect(prom.stdout).toContain(`imgaudit_fleet_total_disk_usage_bytes ${sum.disk_usage_bytes}\n`);
    expect(prom.stdout).toContain(`imgaudit_fleet_hosts ${HOSTS}\n`);
    const perHost = [...prom.stdout.matchAll(/^imgaudit_fleet_disk_usage_bytes\{host="hv-\d\d"\} (\d+)$/gm)].map((m) => Number(m[1]));
    expect(perHost.reduce((s, n) => s + n, 0)).toBe(sum.disk_usage_bytes);
    for (const line of prom.stdout.split('\n').filter((l) => l !== '' && !l.startsWith('#'))) {
      expect(line).toMatch(/^[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? (-?\d+(\.\d+)?|\+Inf|NaN)$/);
    }
  });

  it('reports a stale host as a finding', async () => {
    const result = await cli(['report', '--fleet', '--db', url, '--stale-after', '1h', '--format', 'json'], dir);
    expect(result.status, result.stderr).toBe(0);
    expect((JSON.parse(result.stdout) as { findings: unknown[] }).findings).toHaveLength(0);
    cluster.psql("UPDATE runs SET finished_at = '2020-01-01T00:00:00.000Z' WHERE host_name = 'hv-03'", database);
    const stale = await cli(['report', '--fleet', '--db', url, '--stale-after', '36h', '--format', 'text'], dir);
    expect(stale.status, stale.stderr).toBe(0);
    expect(stale.stdout).toMatch(/warning E_HOST_STALE host hv-03: last complete run #2 finished \d+(\.\d)? h ago, longer than 36 h/);
  });
});
