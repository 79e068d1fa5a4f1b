/**
 * The capacity-planning views of migration 0006 on a scanned estate (built
 * with qemu-img, scanned three times with its images growing in between, the
 * runs then dated ten and four days back): each view returns the rows the
 * estate calls for, computed here independently (st_blocks of the files at
 * each scan, a least-squares fit of this file's own, qemu-img map and a real
 * qemu-img commit on copies), and the same figures as `imgaudit report`
 * (JSON `filesystems`, Prometheus gauges with their `major:minor` label).
 * Every view of the database is documented in docs/sql.md and named by
 * `imgaudit query --help`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasQemu, runOk } from '../support/qemu.js';
import { REPO, readDb, requireBuild, runCli } from './scan-support.js';
import { refcountedClusters } from '../layers/reclaim-oracle.js';

const MiB = 1 << 20;
const DAY_MS = 86_400_000;

type Row = Record<string, unknown>;

/** Least squares of bytes over days (the test's own). */
function slope(points: readonly { days: number; bytes: number }[]): number {
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.days, 0) / n;
  const my = points.reduce((s, p) => s + p.bytes, 0) / n;
  const sxy = points.reduce((s, p) => s + (p.days - mx) * (p.bytes - my), 0);
  const sxx = points.reduce((s, p) => s + (p.days - mx) ** 2, 0);
  return sxy / sxx;
}

describe.skipIf(!hasQemu)('capacity-planning views (e2e)', () => {
  let dir: string;
  let vms: string;
  let templates: string;
  let dbFile: string;
  /** Disk usage of each root's image files at each scan (st_blocks × 512). */
  const usage: { root: string; bytes: number }[][] = [];
  /** Start of each run, as set below. */
  const startedAt: string[] = [];

  const at = (root: string, file: string) => path.join(root, file);
  const qemu = (cwd: string, ...args: string[]) => runOk(args, cwd);
  const cli = (...args: string[]) => {
    const result = runCli([...args, '--db', dbFile], dir);
    expect(result.status, result.stderr).toBe(0);
    return result.stdout;
  };
  const query = (sql: string): Row[] => JSON.parse(cli('query', '--format', 'json', sql)) as Row[];

  function measure(): void {
    usage.push([vms, templates].map((root) => ({
      root,
      bytes: fs.readdirSync(root).reduce((sum, name) => sum + fs.statSync(path.join(root, name)).blocks * 512, 0),
    })));
  }

  beforeAll(() => {
    requireBuild();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-capacity-'));
    vms = path.join(dir, 'vms');
    templates = path.join(dir, 'templates');
    fs.mkdirSync(vms);
    fs.mkdirSync(templates);
    dbFile = path.join(dir, 'audit.db');
    // A template with one clone (a flatten candidate), a template with two (not one), an
    // external snapshot chain base <- snap1 <- snap2 (two candidates: base's overlay snap1
    // is itself read by snap2), and a referenced base with one overlay.
    qemu(templates, 'qemu-img', 'create', '-q', '-f', 'qcow2', 'single.qcow2', '256M');
    qemu(templates, 'qemu-io', '-c', 'write -P 1 0 8M', '-c', 'write -P 2 64M 4M', 'single.qcow2');
    qemu(templates, 'qemu-img', 'create', '-q', '-f', 'qcow2', 'shared.qcow2', '256M');
    qemu(templates, 'qemu-io', '-c', 'write -P 3 0 6M', 'shared.qcow2');
    qemu(templates, 'qemu-img', 'create', '-q', '-f', 'qcow2', 'used.qcow2', '128M');
    qemu(templates, 'qemu-io', '-c', 'write -P 4 0 2M', 'used.qcow2');
    const overlay = (name: string, backing: string, ...ops: string[]) => {
      qemu(vms, 'qemu-img', 'create', '-q', '-f', 'qcow2', '-b', backing, '-F', 'qcow2', name);
      if (ops.length > 0) qemu(vms, 'qemu-io', ...ops.flatMap((op) => ['-c', op]), name);
    };
    overlay('clone.qcow2', '../templates/single.qcow2', 'write -P 5 4M 8M', 'write -P 6 100M 1M');
    overlay('web1.qcow2', '../templates/shared.qcow2', 'write -P 7 0 1M');
    overlay('web2.qcow2', '../templates/shared.qcow2', 'write -P 8 1M 1M');
    overlay('usedov.qcow2', '../templates/used.qcow2', 'write -P 9 0 1M');
    qemu(vms, 'qemu-img', 'create', '-q', '-f', 'qcow2', 'base.qcow2', '64M');
    qemu(vms, 'qemu-io', '-c', 'write -P 10 0 4M', 'base.qcow2');
    overlay('snap1.qcow2', 'base.qcow2', 'write -P 11 2M 4M');
    overlay('snap2.qcow2', 'snap1.qcow2', 'write -P 12 5M 1M');
    const pathList = path.join(dir, 'in-use.txt');
    fs.writeFileSync(pathList, `${at(templates, 'used.qcow2')}\n`);
    const config = path.join(dir, 'imgaudit.json');
    fs.writeFileSync(config, JSON.stringify({ roots: [vms, templates], references: { pathLists: [pathList] } }));
    const scan = () => {
      runOk(['sync'], dir);
      measure();
      const result = runCli(['scan', '-c', config, '--db', dbFile, '--fail-on', 'never'], dir);
      expect(result.status, result.stderr).toBe(0);
    };
    // Three nightly scans; the VMs write between them (vms grows, templates does not).
    scan();
    qemu(vms, 'qemu-io', '-c', 'write -P 13 20M 16M', 'web1.qcow2');
    scan();
    qemu(vms, 'qemu-io', '-c', 'write -P 14 40M 24M', 'clone.qcow2');
    qemu(vms, 'qemu-io', '-c', 'write -P 15 40M 8M', 'web2.qcow2');
    scan();
    // Dated ten and four days back, as nightly runs would be.
    const db = new Database(dbFile);
    const now = Date.parse(db.prepare('SELECT started_at FROM runs WHERE id = 3').pluck().get() as string);
    for (const [id, daysAgo] of [[1, 10], [2, 4], [3, 0]] as const) {
      const iso = new Date(now - daysAgo * DAY_MS).toISOString();
      db.prepare('UPDATE runs SET started_at = ?, finished_at = ? WHERE id = ?').run(iso, iso, id);
      startedAt.push(iso);
    }
    db.close();
  }, 180_000);
  afterAll(() => {
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('run_filesystem_overcommit: the file system of both roots, as the report and Prometheus give it', () => {
    const rows = query('SELECT * FROM run_filesystem_overcommit WHERE run_id = 3');
    expect(rows).toHaveLength(1);
    const row = rows[0]!;
    const json = JSON.parse(cli('report', '--format', 'json')) as { filesystems: Row[] };
    const fsJson = json.filesystems[0]!;
    expect(row).toMatchObject({
      roots: [templates, vms].sort().join(','), dev: fsJson.dev, capacity_bytes: fsJson.capacity, free_bytes: fsJson.free,
      available_bytes: fsJson.available, image_count: 10, virtual_size_bytes: fsJson.virtualSize, disk_usage_bytes: fsJson.diskUsage,
    });
    expect(row.overcommit_ratio).toBeCloseTo(fsJson.overcommitRatio as number, 12);
    // Disk usage: every image file once, as measured before the last scan.
    expect(row.disk_usage_bytes).toBe(usage[2]!.reduce((sum, u) => sum + u.bytes, 0));
    const virtual = [...fs.readdirSync(vms).map((f) => at(vms, f)), ...fs.readdirSync(templates).map((f) => at(templates, f))]
      .reduce((sum, file) => sum + (JSON.parse(runOk(['qemu-img', 'info', '-U', '--output=json', file], dir)) as { 'virtual-size': number })['virtual-size'], 0);
    expect(row.virtual_size_bytes).toBe(virtual);
    // `major:minor` as the Prometheus label has it, and as the kernel numbers the device.
    const prometheus = cli('report', '--format', 'prometheus');
    const label = /imgaudit_filesystem_capacity_bytes\{filesystem="([^"]+)"/.exec(prometheus)![1];
    expect(row.filesystem).toBe(label);
    const dev = BigInt(fs.statSync(vms).dev);
    expect(row.filesystem).toBe(`${(dev >> 8n) & 0xfffn}:${(dev & 0xffn) | ((dev >> 12n) & ~0xffn)}`);
    // One row per run and file system.
    expect(query('SELECT run_id FROM run_filesystem_overcommit ORDER BY run_id').map((r) => r.run_id)).toEqual([1, 2, 3]);
  });

  it('run_root_usage_history: each root\'s disk usage in every complete run up to the one asked about', () => {
    const rows = query('SELECT * FROM run_root_usage_history WHERE run_id = 3 ORDER BY root, history_run_id');
    const expected = [templates, vms].sort().flatMap((root) => [0, 1, 2].map((i) => ({
      run_id: 3, root, history_run_id: i + 1, history_started_at: startedAt[i],
      disk_usage_bytes: usage[i]!.find((u) => u.root === root)!.bytes,
    })));
    expect(rows.map(({ history_days: _, ...rest }) => rest)).toEqual(expected);
    expect(rows.map((r) => Math.round((r.history_days as number) * 1e6) / 1e6)).toEqual([-10, -4, 0, -10, -4, 0]);
    // Asked about run 2: runs 1 and 2 only.
    expect(query('SELECT DISTINCT history_run_id FROM run_root_usage_history WHERE run_id = 2 ORDER BY 1').map((r) => r.history_run_id))
      .toEqual([1, 2]);
  });

  it('run_root_growth and run_filesystem_growth: the least-squares growth, days to full and the date, as the report has them', () => {
    const points = (root?: string) => usage.map((u, i) => ({
      days: [-10, -4, 0][i]!, bytes: u.filter((x) => root === undefined || x.root === root).reduce((s, x) => s + x.bytes, 0),
    }));
    const roots = query('SELECT * FROM run_root_growth WHERE run_id = 3 ORDER BY root');
    expect(roots.map((r) => r.root)).toEqual([templates, vms].sort());
    const vmsRow = roots.find((r) => r.root === vms)!;
    const templatesRow = roots.find((r) => r.root === templates)!;
    expect(vmsRow.daily_growth_bytes as number).toBeCloseTo(slope(points(vms)), 3);
    expect(vmsRow.daily_growth_bytes as number).toBeGreaterThan(MiB);
    expect(templatesRow.daily_growth_bytes).toBe(0);
    expect(templatesRow).toMatchObject({ days_to_full: null, full_on: null, run_count: 3 });
    expect(templatesRow.span_days as number).toBeCloseTo(10, 6);
    const available = vmsRow.available_bytes as number;
    const days = available / (vmsRow.daily_growth_bytes as number);
    expect(vmsRow.days_to_full).toBe(Math.floor(days * 10) / 10);
    expect(vmsRow.full_on).toBe(new Date(Date.parse(startedAt[2]!) + days * DAY_MS).toISOString().slice(0, 10));
    const prometheus = cli('report', '--format', 'prometheus');
    for (const row of roots) {
      const gauge = new RegExp(`imgaudit_root_growth_bytes_per_day\\{root="${row.root as string}"\\} (\\S+)`).exec(prometheus)![1]!;
      expect(Math.abs(Number(gauge) - (row.daily_growth_bytes as number))).toBeLessThanOrEqual(1);
    }

    const [fsRow] = query('SELECT * FROM run_filesystem_growth WHERE run_id = 3');
    expect(fsRow!.daily_growth_bytes as number).toBeCloseTo(slope(points()), 3);
    const fsJson = (JSON.parse(cli('report', '--format', 'json')) as { filesystems: Row[] }).filesystems[0]!;
    expect(Math.abs((fsRow!.daily_growth_bytes as number) - (fsJson.growthPerDay as number))).toBeLessThanOrEqual(1);
    expect(fsRow).toMatchObject({
      roots: [templates, vms].sort().join(','), available_bytes: fsJson.available, run_count: 3,
      days_to_full: fsJson.daysToFull, full_on: fsJson.fillsAt,
    });
    // Run 1 alone: no growth yet.
    expect(query('SELECT daily_growth_bytes, days_to_full FROM run_filesystem_growth WHERE run_id = 1'))
      .toEqual([{ daily_growth_bytes: null, days_to_full: null }]);
  });

  it('run_flatten_candidates: bases read by exactly one overlay, with commit growth matching a real qemu-img commit', () => {
    const rows = query('SELECT * FROM run_flatten_candidates WHERE run_id = 3 ORDER BY base_path');
    expect(rows.map((r) => [r.base_path, r.overlay_path, r.overlay_is_backing, r.base_is_referenced])).toEqual([
      [at(templates, 'single.qcow2'), at(vms, 'clone.qcow2'), 0, 0],
      [at(templates, 'used.qcow2'), at(vms, 'usedov.qcow2'), 0, 1],
      [at(vms, 'base.qcow2'), at(vms, 'snap1.qcow2'), 1, 0],
      [at(vms, 'snap1.qcow2'), at(vms, 'snap2.qcow2'), 0, 0],
    ].sort((a, b) => (a[0]! < b[0]! ? -1 : 1)));
    const clone = rows.find((r) => r.overlay_path === at(vms, 'clone.qcow2'))!;
    // What flattening copies: the data the overlay reads from its backing file.
    const entries = JSON.parse(runOk(['qemu-img', 'map', '-U', '--output=json', 'clone.qcow2'], vms)) as
      { length: number; depth: number; data: boolean; zero: boolean }[];
    expect(clone.backing_data_bytes).toBe(entries.filter((e) => e.depth >= 1 && e.data && !e.zero).reduce((s, e) => s + e.length, 0));
    // What committing adds to the base: a real commit on copies.
    const copies = fs.mkdtempSync(path.join(dir, 'commit-'));
    fs.mkdirSync(path.join(copies, 'vms'));
    fs.mkdirSync(path.join(copies, 'templates'));
    fs.copyFileSync(at(templates, 'single.qcow2'), path.join(copies, 'templates/single.qcow2'));
    fs.copyFileSync(at(vms, 'clone.qcow2'), path.join(copies, 'vms/clone.qcow2'));
    // The growth of the base's host clusters in use, data and metadata (its refcounts; 64 KiB clusters). The file
    // system's st_blocks can differ by blocks of metadata clusters written piecemeal (docs/commit-dry-run.md).
    const inUse = () => refcountedClusters(path.join(copies, 'templates'), 'single.qcow2') * 65536;
    const before = inUse();
    runOk(['qemu-img', 'commit', '-q', 'clone.qcow2'], path.join(copies, 'vms'));
    expect(clone.commit_growth_bytes).toBe(inUse() - before);
    expect(clone.commit_frees_bytes).toBe((clone.overlay_disk_usage_bytes as number) - (clone.commit_growth_bytes as number));
    // snap1 is read by snap2: committing it is possible, deleting it is not.
    expect(rows.find((r) => r.overlay_path === at(vms, 'snap1.qcow2'))!.commit_frees_bytes).toBeNull();
  });

  it('every view is documented in docs/sql.md and named by `imgaudit query --help`', () => {
    const views = readDb(dbFile, (db) => db.prepare("SELECT name FROM sqlite_master WHERE type = 'view' ORDER BY name").pluck().all() as string[]);
    expect(views).toEqual(expect.arrayContaining(['run_filesystem_overcommit', 'run_root_usage_history', 'run_root_growth',
      'run_filesystem_growth', 'run_flatten_candidates', 'run_layer_figures']));
    const docs = fs.readFileSync(path.join(REPO, 'docs/sql.md'), 'utf8');
    expect(views.filter((view) => !docs.includes(`| \`${view}\` |`))).toEqual([]);
    const help = runCli(['query', '--help'], dir).stdout.replace(/\s+/g, ' ');
    expect(views.filter((view) => !new RegExp(`\\b${view}\\b`).test(help))).toEqual([]);
  });
});
