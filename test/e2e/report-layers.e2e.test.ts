/**
 * The per-layer, base-sharing, file-system and estate figures end to end:
 * a tree built with qemu-img and qemu-io, scanned twice (with a libvirt
 * domain directory as reference source) by the real scan, then reported in
 * every format and checked. The figures themselves are cross-checked with
 * qemu-img by the scan's tests; here every output must agree with the JSON,
 * the JSON with the stored tables' own invariants (visible = the per-depth
 * bytes, shadowed = own − visible) and with stat/statfs, and each estate
 * finding must appear on the tree built to hold it.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_ENV, hasQemu, settle } from '../support/qemu.js';
import { REPORT, violations } from '../unit/report/contract.js';
import { requireBuild, runCli } from './scan-support.js';

type Bytes3 = { data: number; zero: number; preallocated: number };
interface Layer { depth: number; path: string; format: string; diskUsage: number; own: Bytes3 | null; trueOwn: Bytes3 | null;
  visible: Bytes3 | null; shadowed: Bytes3 | null }
interface Image { path: string; diskUsage: number; backing: string | null; chainLength: number;
  byDepth: ({ depth: number } & Bytes3)[]; error: unknown; chain: Layer[];
  reclaim: { deleteFrees: number; commitGrowth: number | null; commitFrees: number | null } | null; growthPerDay: number | null }
interface Json {
  run: { id: number };
  images: Image[];
  bases: { path: string; overlayCount: number; read: number; shared: number; unread: number; own: Bytes3 | null;
    overlays: { path: string; read: number; unique: number }[] }[];
  filesystems: { roots: string[]; dev: number; capacity: number; free: number; available: number; virtualSize: number;
    diskUsage: number; overcommitRatio: number | null; growthPerDay: number | null; fillsAt: string | null; daysToFull: number | null }[];
}
interface CheckJson { findings: { code: string; severity: string; path: string; message: string }[] }

const DAY = 86_400_000;

function sh(cwd: string, lines: readonly string[]): void {
  execFileSync('bash', ['-ec', lines.join('\n')], { cwd, env: TEST_ENV, stdio: ['ignore', 'ignore', 'pipe'] });
}

describe.skipIf(!hasQemu)('per-layer figures in report and check (e2e)', () => {
  let dir: string;
  let root: string;
  let config: string;
  let json: Json;
  let hasFigures: boolean;
  const cli = (...args: string[]) => runCli([...args, '--config', config], dir);
  const ok = (...args: string[]): string => {
    const result = cli(...args);
    expect(result.status, result.stderr).toBe(0);
    return result.stdout;
  };
  const checkJson = (...args: string[]): CheckJson => JSON.parse(cli('check', '--format', 'json', '--fail-on', 'never', ...args).stdout) as CheckJson;
  const at = (file: string) => path.join(root, file);
  const old = (days: number) => new Date(Date.now() - days * DAY).toISOString();

  beforeAll(() => {
    requireBuild();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-report-layers-e2e-'));
    root = path.join(dir, 'store');
    fs.mkdirSync(path.join(root, 'vms'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'libvirt'));
    sh(root, [
      'qemu-img create -q -f qcow2 base.qcow2 64M',
      "qemu-io -c 'write -P 1 0 4M' -c 'write -P 2 8M 2M' base.qcow2",
      'qemu-img create -q -f qcow2 -b ../base.qcow2 -F qcow2 vms/vm1.qcow2',
      "qemu-io -c 'write -P 3 0 1M' vms/vm1.qcow2",
      'qemu-img create -q -f qcow2 -b ../base.qcow2 -F qcow2 vms/vm2.qcow2',
      "qemu-io -c 'write -P 4 1M 2M' vms/vm2.qcow2",
      'qemu-img create -q -f qcow2 -b vm2.qcow2 -F qcow2 vms/vm2-top.qcow2',
      "qemu-io -c 'write -P 5 1M 1M' vms/vm2-top.qcow2",
      'qemu-img create -q -f qcow2 old-base.qcow2 32M',
      "qemu-io -c 'write -P 6 0 1M' old-base.qcow2",
      'qemu-img create -q -f qcow2 -b ../old-base.qcow2 -F qcow2 vms/gone.qcow2',
      'qemu-img create -q -f qcow2 -o preallocation=falloc vms/falloc.qcow2 8M',
      'qemu-img create -q -f qcow2 forgotten.qcow2 32M',
    ]);
    fs.writeFileSync(path.join(dir, 'libvirt/vms.xml'), `<domain type="kvm"><name>vms</name><devices>
      <disk type="file" device="disk"><source file="${at('vms/vm1.qcow2')}"/></disk>
      <disk type="file" device="disk"><source file="${at('vms/vm2-top.qcow2')}"/></disk>
      <disk type="file" device="disk"><source file="${at('vms/falloc.qcow2')}"/></disk>
      <disk type="file" device="disk"><source file="${at('vms/gone.qcow2')}"/></disk></devices></domain>`);
    config = path.join(dir, 'imgaudit.json');
    fs.writeFileSync(config, JSON.stringify({ roots: ['store'], database: 'audit.db', references: { libvirtDomainDirs: ['libvirt'] } }));
    settle(root);
    expect(cli('scan', '--fail-on', 'never').status).toBe(0);
    // Between the scans: vm1 grows, gone.qcow2 (old-base's only overlay) goes, and the old files age.
    sh(root, ["qemu-io -c 'write -P 7 16M 4M' vms/vm1.qcow2", 'rm vms/gone.qcow2']);
    for (const file of ['old-base.qcow2', 'forgotten.qcow2']) fs.utimesSync(at(file), new Date(old(40)), new Date(old(40)));
    fs.utimesSync(at('vms/vm2.qcow2'), new Date(old(60)), new Date(old(60)));
    settle(root);
    expect(cli('scan', '--fail-on', 'never').status).toBe(0);
    // The first scan ran a day earlier, as nightly scans do (growth needs runs at least a day apart).
    const db = new Database(path.join(dir, 'audit.db'));
    db.prepare('UPDATE runs SET started_at = ?, finished_at = ? WHERE id = 1').run(old(1.5), old(1.5));
    db.close();
    json = JSON.parse(ok('report', '--format', 'json')) as Json;
    hasFigures = json.images.some((image) => image.chain.some((layer) => layer.own !== null));
  }, 180_000);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('JSON keeps the SPEC §2.3 contract and adds chain, reclaim, growth, bases and file systems', () => {
    expect(violations(json, REPORT)).toEqual([]);
    for (const image of json.images) {
      expect(image.chain.map((layer) => layer.depth), image.path).toEqual([...Array(image.chainLength).keys()]);
      expect(image.chain[0]!.path).toBe(image.path);
      expect(image.chain[0]!.diskUsage).toBe(fs.statSync(image.path).blocks * 512);
      for (const layer of image.chain) {
        expect(layer.diskUsage).toBe(fs.statSync(layer.path).blocks * 512);
        const d = image.byDepth.find((x) => x.depth === layer.depth)!;
        expect(layer.visible, `${image.path} depth ${layer.depth}`).toEqual({ data: d.data, zero: d.zero, preallocated: d.preallocated });
      }
    }
    // Two complete runs: growth is a number for every image of both.
    expect(json.images.every((image) => Number.isInteger(image.growthPerDay))).toBe(true);
    expect(json.images.find((image) => image.path === at('vms/vm1.qcow2'))!.growthPerDay).toBeGreaterThan(0);
  });

  it('per-layer figures of the scan: shadowed = own − visible; reclaim from the top file', () => {
    expect(hasFigures).toBe(true);
    for (const image of json.images) {
      for (const layer of image.chain) {
        if (layer.own === null || layer.shadowed === null) continue;
        expect(layer.shadowed.data, `${image.path} depth ${layer.depth}`).toBe(layer.own.data - layer.visible!.data);
      }
      if (image.reclaim !== null) {
        expect(image.reclaim.deleteFrees).toBe(image.diskUsage);
        if (image.reclaim.commitGrowth !== null) expect(image.reclaim.commitFrees).toBe(image.reclaim.deleteFrees - image.reclaim.commitGrowth);
      }
    }
    // Images other chains read (base.qcow2, vm2.qcow2 under vm2-top) get no reclaim figures: deleting them breaks those chains.
    for (const backing of ['base.qcow2', 'vms/vm2.qcow2']) expect(json.images.find((image) => image.path === at(backing))!.reclaim).toBeNull();
    expect(json.images.find((image) => image.path === at('vms/vm2-top.qcow2'))!.reclaim).not.toBeNull();
    const top = json.images.find((image) => image.path === at('vms/vm2-top.qcow2'))!;
    // vm2-top rewrites 1M..2M of vm2's 1M..3M: 1 MiB of vm2 and (with vm2) 2 MiB of base are hidden from it.
    expect(top.chain.map((layer) => layer.shadowed?.data)).toEqual([0, 1 << 20, 2 << 20]);
    // qcow2 falloc: qemu-img map calls it data; the extent map tells it is unwritten (where the file system can tell).
    const falloc = json.images.find((image) => image.path === at('vms/falloc.qcow2'))!;
    expect(falloc.chain[0]!.own!.data).toBe(8 << 20);
    if (falloc.chain[0]!.trueOwn !== null) expect(falloc.chain[0]!.trueOwn).toEqual({ data: 0, zero: 0, preallocated: 8 << 20 });
    const base = json.bases.find((b) => b.path === at('base.qcow2'))!;
    expect(base.overlays.map((o) => o.path)).toEqual([at('vms/vm1.qcow2'), at('vms/vm2.qcow2')]);
    expect(base.overlayCount).toBe(2);
    expect(base.read + base.unread).toBe(base.own!.data + base.own!.zero + base.own!.preallocated);
  });

  it('file systems: the root\'s device and statfs figures, the images\' sizes on it', () => {
    expect(json.filesystems).toHaveLength(1);
    const [fsys] = json.filesystems;
    const stat = fs.statfsSync(root);
    expect(fsys).toMatchObject({ roots: [root], dev: fs.statSync(root).dev, capacity: stat.blocks * stat.bsize });
    expect(fsys!.virtualSize).toBe(json.images.reduce((s, i) => s + ((i as unknown as { virtualSize: number }).virtualSize ?? 0), 0));
    expect(fsys!.diskUsage).toBe(json.images.reduce((s, i) => s + i.diskUsage, 0));
    expect(fsys!.overcommitRatio).toBeCloseTo(fsys!.virtualSize / fsys!.capacity, 12);
    expect(fsys!.growthPerDay).toBeGreaterThan(0); // vm1 grew between the two scans
    expect(fsys!.daysToFull).toBeGreaterThanOrEqual(0);
  });

  it('check: orphans, an orphaned base, an old external snapshot; file-system findings by threshold', () => {
    const findings = checkJson().findings.map((f) => `${f.severity} ${f.code} ${path.relative(root, f.path)}`);
    expect(findings).toEqual(expect.arrayContaining([
      'warning E_IMAGE_ORPHAN forgotten.qcow2',
      'warning E_BASE_ORPHANED old-base.qcow2',
      'info E_SNAPSHOT_EXTERNAL_OLD vms/vm2.qcow2',
    ]));
    // Referenced, backing files, or too young: never orphans.
    expect(findings.filter((f) => /ORPHAN/.test(f) && !/forgotten|old-base/.test(f))).toEqual([]);
    expect(checkJson('--orphan-min-age', '52w').findings.filter((f) => f.code === 'E_IMAGE_ORPHAN')).toEqual([]);
    expect(checkJson('--snapshot-max-age', '1y').findings.filter((f) => f.code.startsWith('E_SNAPSHOT'))).toEqual([]);
    expect(checkJson('--overcommit-ratio', '0.000001').findings.map((f) => f.code)).toContain('E_FS_OVERCOMMIT');
    expect(checkJson().findings.map((f) => f.code)).not.toContain('E_FS_OVERCOMMIT');
    // vm1 grew by 4 MiB in seconds: at that rate the file system fills within days.
    expect(checkJson('--fill-warning-days', '100000').findings.map((f) => f.code)).toContain('E_FS_FILLING');
    const strict = cli('check', '--fail-on', 'warning', '--ignore', 'E_FS_FILLING');
    expect(strict.status).toBe(1);
    expect(cli('check', '--overcommit-ratio', 'lots').stderr).toMatch(/--overcommit-ratio: expected a number, got 'lots'/);
    expect(cli('check', '--snapshot-max-age', '3 days').status).toBe(2);
  });

  it('every human format and Prometheus carry the same figures', () => {
    const text = ok('report');
    for (const title of ['What overlays read of their bases', 'Layers hiding the most bytes', 'What committing or deleting an overlay would free']) {
      expect(text).toContain(`\n${title}\n`);
    }
    expect(text.split('\n').every((line) => line.length <= 100)).toBe(true);
    const csv = ok('report', '--by', 'layer', '--format', 'csv').split('\r\n').filter(Boolean);
    expect(csv.length - 1).toBe(json.images.reduce((n, image) => n + image.chain.length, 0));
    const vm2Top = csv.filter((line) => line.startsWith(`${at('vms/vm2-top.qcow2')},`));
    expect(vm2Top.map((line) => line.split(',')[1])).toEqual(['0', '1', '2']);
    const markdown = ok('report', '--report', 'base-overlays', '--format', 'markdown');
    expect(markdown).toContain('| base path | overlay path | read | unique |');
    const html = ok('report', '--format', 'html');
    for (const name of ['shared-bases', 'top-shadowed', 'reclaim']) expect(html).toContain(`<section id="s-${name}">`);
    const prom = ok('report', '--format', 'prometheus');
    const samples = new Map(prom.split('\n').filter((l) => l !== '' && !l.startsWith('#'))
      .map((line) => [line.slice(0, line.lastIndexOf(' ')), line.slice(line.lastIndexOf(' ') + 1)]));
    expect(Number(samples.get(`imgaudit_orphan_bytes{root="${root}"}`)))
      .toBe(fs.statSync(at('forgotten.qcow2')).blocks * 512 + fs.statSync(at('old-base.qcow2')).blocks * 512);
    expect(Number(samples.get(`imgaudit_root_growth_bytes_per_day{root="${root}"}`))).toBeGreaterThan(0);
    for (const fsys of json.filesystems) {
      const series = [...samples.keys()].find((key) => key.startsWith('imgaudit_filesystem_capacity_bytes{'))!;
      expect(Number(samples.get(series))).toBe(fsys.capacity);
    }
    expect([...samples.keys()].some((key) => key.includes('path='))).toBe(false);
    // Finding counts are check's (default thresholds): the estate findings too, not only those the scan recorded.
    const counted = new Map<string, number>();
    for (const finding of checkJson().findings) counted.set(`${finding.code} ${finding.severity}`, (counted.get(`${finding.code} ${finding.severity}`) ?? 0) + 1);
    expect(counted.get('E_IMAGE_ORPHAN warning')).toBeGreaterThan(0);
    for (const [key, count] of counted) {
      const [code, severity] = key.split(' ');
      expect(Number(samples.get(`imgaudit_findings{code="${code}",severity="${severity}"}`)), key).toBe(count);
    }
  });
});
