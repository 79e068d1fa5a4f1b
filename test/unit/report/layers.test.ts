/**
 * Per-layer figures, shared bases, file systems, growth and the estate
 * findings, over a database written by the scan's own store with the 0004
 * tables filled as the post-scan pass fills them (layer-estate.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCheck } from '../../../src/report/build-check.js';
import { buildReport } from '../../../src/report/build-report.js';
import { loadDefinitions, overviewDefinitions } from '../../../src/report/definitions.js';
import { fillProjection, growthPerDay } from '../../../src/report/growth.js';
import { REPORT_RENDERERS, DEFAULT_RENDER_OPTIONS } from '../../../src/report/index.js';
import type { ReportModel } from '../../../src/report/model.js';
import { reportJson } from '../../../src/report/render/json.js';
import { deviceName } from '../../../src/report/units.js';
import type { Db } from '../../../src/store/db.js';
import { openForReading } from '../../../src/store/report-db.js';
import { ScanStore } from '../../../src/store/scan-store.js';
import { REPORT, violations } from './contract.js';
import { type ImageSpec, MiB, writeRun } from './estate.js';
import {
  addFilesystem, addReference, addSharing, addSnapshot, setChainFigures, setFinishedAt, setMtime, setOwn, setShadowed,
} from './layer-estate.js';

const A = '/srv/images';
const B = '/srv/growth';
const DAY = 86_400_000;

/** Root A: a base whose overlay vanishes, a forgotten image, an external snapshot, a shared base; root B: growth. */
function estate(run: 1 | 2 | 3): ImageSpec[] {
  const base = { path: `${A}/base.qcow2`, ino: 10, dataBytes: 4 * MiB, allocatedBytes: 6 * MiB };
  const snap = { path: `${A}/snap.qcow2`, ino: 30, dataBytes: 3 * MiB };
  const shared = { path: `${A}/shared.qcow2`, ino: 40, dataBytes: 3 * MiB };
  const images: ImageSpec[] = [
    { layers: [base] },
    { layers: [{ path: `${A}/c.qcow2`, ino: 22, dataBytes: MiB }] },
    { layers: [snap] },
    { layers: [{ path: `${A}/top.qcow2`, ino: 31, dataBytes: MiB, backingName: 'snap.qcow2' }, { ...snap, dataBytes: 2 * MiB, zeroBytes: MiB }] },
    { layers: [shared] },
    { layers: [{ path: `${A}/o1.qcow2`, ino: 41, dataBytes: MiB, backingName: 'shared.qcow2' }, { ...shared, dataBytes: 2 * MiB }] },
    { layers: [{ path: `${A}/o2.qcow2`, ino: 42, dataBytes: MiB, backingName: 'shared.qcow2' }, { ...shared, dataBytes: 2 * MiB }] },
    { root: B, layers: [{ path: `${B}/a.qcow2`, ino: 50, dataBytes: MiB, allocatedBytes: [1, 2, 4][run - 1]! * MiB }] },
    { root: B, layers: [{ path: `${B}/b.raw`, ino: 51, format: 'raw', dataBytes: 8 * MiB, allocatedBytes: 8 * MiB }] },
  ];
  if (run < 3) images.push({ layers: [{ path: `${A}/vm1.qcow2`, ino: 11, dataBytes: MiB, backingName: 'base.qcow2', allocatedBytes: 2 * MiB }, base] });
  return images;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-report-layers-'));
const dbFile = path.join(dir, 'estate.db');
let db: Db;
let runs: number[];
const START = ['2026-11-01T00:00:00.000Z', '2026-11-02T00:00:00.000Z', '2026-11-04T00:00:00.000Z'];

beforeAll(() => {
  const store = ScanStore.open(dbFile);
  runs = ([1, 2, 3] as const).map((n) => writeRun(store, estate(n), { startedAt: new Date(START[n - 1]!), roots: [A, B] }));
  store.close();
  const raw = new Database(dbFile);
  runs.forEach((runId, i) => {
    setFinishedAt(raw, runId, START[i]!.replace('T00:00', 'T00:10'));
    addFilesystem(raw, runId, A, { dev: 2049, capacity: 1024 * MiB, free: 600 * MiB, available: 500 * MiB });
    addFilesystem(raw, runId, B, { dev: 2050, capacity: 100 * MiB, free: 12 * MiB, available: 10 * MiB });
  });
  const last = runs[2]!;
  setOwn(raw, `${A}/snap.qcow2`, { data: 3 * MiB, zero: MiB, preallocated: 0 }, { data: 2 * MiB, zero: MiB, preallocated: MiB }, MiB);
  setOwn(raw, `${A}/top.qcow2`, { data: MiB, zero: 0, preallocated: 0 });
  setOwn(raw, `${A}/shared.qcow2`, { data: 3 * MiB, zero: MiB, preallocated: 0 });
  setShadowed(raw, last, `${A}/top.qcow2`, 0, { data: 0, zero: 0, preallocated: 0 });
  setShadowed(raw, last, `${A}/top.qcow2`, 1, { data: MiB, zero: 0, preallocated: 0 });
  setShadowed(raw, last, `${A}/o1.qcow2`, 1, { data: MiB, zero: MiB, preallocated: 0 });
  setChainFigures(raw, last, `${A}/top.qcow2`, 512 * 1024);
  setChainFigures(raw, last, `${A}/snap.qcow2`, null);
  addSharing(raw, last, `${A}/shared.qcow2`, { read: 3 * MiB, shared: MiB, unread: MiB },
    [{ path: `${A}/o2.qcow2`, read: 2 * MiB, unique: MiB }, { path: `${A}/o1.qcow2`, read: 2 * MiB, unique: MiB }]);
  addReference(raw, last, `${A}/top.qcow2`);
  addReference(raw, last, `${A}/o1.qcow2`);
  addReference(raw, last, `${A}/o2.qcow2`);
  addReference(raw, last, `${B}/a.qcow2`);
  addReference(raw, last, `${B}/b.raw`);
  // c.qcow2 (unreferenced, no backing) last changed 40 days before the last run; base.qcow2 20 days; snap.qcow2 60 days.
  setMtime(raw, `${A}/c.qcow2`, new Date(Date.parse(START[2]!) - 40 * DAY).toISOString());
  setMtime(raw, `${A}/base.qcow2`, new Date(Date.parse(START[2]!) - 20 * DAY).toISOString());
  setMtime(raw, `${A}/snap.qcow2`, new Date(Date.parse(START[2]!) - 60 * DAY).toISOString());
  for (const file of ['top', 'shared', 'o1', 'o2']) setMtime(raw, `${A}/${file}.qcow2`, START[2]!);
  addSnapshot(raw, `${A}/shared.qcow2`, { seq: 0, id: '1', name: 'before-upgrade', createdAt: '2026-09-01T12:00:00Z' });
  addSnapshot(raw, `${A}/shared.qcow2`, { seq: 1, id: '2', name: 'recent', createdAt: '2026-11-03T12:00:00Z' });
  raw.close();
  db = openForReading(dbFile);
});
afterAll(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const report = (run: number | 'latest' = 'latest', sections: string[] = []): ReportModel => {
  const definitions = loadDefinitions();
  return buildReport(db, { run, sections: sections.map((name) => definitions.get(name)!), limit: 10 });
};

describe('growth: least squares and projection', () => {
  it('fits the slope exactly on constructed points, and is null without two distinct times', () => {
    expect(growthPerDay([{ days: 0, bytes: 9 }, { days: 1, bytes: 10 }, { days: 3, bytes: 12 }])).toBe(1);
    // y = 100 - 4x with noise that cancels: (0, 100), (1, 98), (2, 90), (3, 88): slope -4.
    expect(growthPerDay([{ days: 0, bytes: 100 }, { days: 1, bytes: 98 }, { days: 2, bytes: 90 }, { days: 3, bytes: 88 }])).toBe(-4.4);
    expect(growthPerDay([{ days: 20_000, bytes: 2 ** 50 }, { days: 20_002, bytes: 2 ** 50 + 2 ** 31 }])).toBe(2 ** 30);
    expect(growthPerDay([{ days: 5, bytes: 1 }])).toBeNull();
    expect(growthPerDay([])).toBeNull();
    expect(growthPerDay([{ days: 5, bytes: 1 }, { days: 5, bytes: 7 }])).toBeNull();
  });

  it('gives no rate for runs less than a day apart (minutes-apart scans would project a full disk in hours)', () => {
    const hour = 1 / 24;
    expect(growthPerDay([{ days: 0, bytes: 0 }, { days: hour, bytes: 10 * MiB }, { days: 23 * hour, bytes: 20 * MiB }])).toBeNull();
    expect(growthPerDay([{ days: 0, bytes: 0 }, { days: hour, bytes: 10 * MiB }, { days: 1, bytes: 20 * MiB }])).not.toBeNull();
  });

  it('projects the day available space runs out; none when not growing', () => {
    expect(fillProjection(10 * MiB, MiB, '2026-11-04T00:10:00.000Z')).toEqual({ daysToFull: 10, fillsAt: '2026-11-14' });
    expect(fillProjection(10, 3, '2026-11-04T00:00:00.000Z')).toEqual({ daysToFull: 3.3, fillsAt: '2026-11-07' });
    expect(fillProjection(0, 3, '2026-11-04T00:00:00.000Z')).toEqual({ daysToFull: 0, fillsAt: '2026-11-04' });
    expect(fillProjection(10, 0, '2026-11-04T00:00:00.000Z')).toEqual({ daysToFull: null, fillsAt: null });
    expect(fillProjection(10, -5, '2026-11-04T00:00:00.000Z')).toEqual({ daysToFull: null, fillsAt: null });
    expect(fillProjection(10, null, '2026-11-04T00:00:00.000Z')).toEqual({ daysToFull: null, fillsAt: null });
  });

  it('file systems: roots grouped by device, overcommit, growth over the kept complete runs, fill date', () => {
    const model = report();
    expect(model.filesystems).toEqual([
      { roots: [B], dev: 2050, capacityBytes: 100 * MiB, freeBytes: 12 * MiB, availableBytes: 10 * MiB,
        virtualSizeBytes: 128 * MiB, diskUsageBytes: 12 * MiB, overcommitRatio: 1.28,
        // disk usage 9, 10, 12 MiB on days 0, 1, 3: exactly 1 MiB a day; 10 MiB available at the end of run 3.
        growthPerDayBytes: MiB, fillsAt: '2026-11-14', daysToFull: 10 },
      { roots: [A], dev: 2049, capacityBytes: 1024 * MiB, freeBytes: 600 * MiB, availableBytes: 500 * MiB,
        virtualSizeBytes: 7 * 64 * MiB, diskUsageBytes: 6 * MiB + 6 * MiB,
        overcommitRatio: 7 * 64 / 1024, growthPerDayBytes: expect.any(Number), fillsAt: null, daysToFull: null },
    ].sort((x, y) => (x.roots[0]! < y.roots[0]! ? -1 : 1)));
    // Root A lost vm1 (2 MiB) between day 1 and day 3: it shrinks.
    expect(model.filesystems.find((f) => f.roots[0] === A)!.growthPerDayBytes).toBeLessThan(0);
    expect(model.images.find((i) => i.path === `${B}/a.qcow2`)!.growthPerDayBytes).toBe(MiB);
    expect(model.images.find((i) => i.path === `${B}/b.raw`)!.growthPerDayBytes).toBe(0);
    expect(model.rootFigures.find((r) => r.root === B)!.growthPerDayBytes).toBe(MiB);
  });

  it('growth is null with fewer than 2 complete runs', () => {
    const first = report(runs[0]!);
    expect(first.filesystems.map((f) => f.growthPerDayBytes)).toEqual([null, null]);
    expect(first.images.every((image) => image.growthPerDayBytes === null)).toBe(true);
    expect(first.rootFigures.map((r) => r.growthPerDayBytes)).toEqual([null, null]);
  });
});

describe('per-layer figures, reclaim and bases', () => {
  it('each image carries its layers: own, true own, visible and shadowed; unknown figures stay null', () => {
    const top = report().images.find((i) => i.path === `${A}/top.qcow2`)!;
    expect(top.chain).toEqual([
      { depth: 0, path: `${A}/top.qcow2`, format: 'qcow2', diskUsageBytes: MiB,
        own: { dataBytes: MiB, zeroBytes: 0, preallocatedBytes: 0 }, trueOwn: null,
        visible: { dataBytes: MiB, zeroBytes: 0, preallocatedBytes: 0 }, shadowed: { dataBytes: 0, zeroBytes: 0, preallocatedBytes: 0 } },
      { depth: 1, path: `${A}/snap.qcow2`, format: 'qcow2', diskUsageBytes: MiB,
        own: { dataBytes: 3 * MiB, zeroBytes: MiB, preallocatedBytes: 0 },
        trueOwn: { dataBytes: 2 * MiB, zeroBytes: MiB, preallocatedBytes: MiB },
        visible: { dataBytes: 2 * MiB, zeroBytes: MiB, preallocatedBytes: 0 },
        shadowed: { dataBytes: MiB, zeroBytes: 0, preallocatedBytes: 0 } },
    ]);
    expect(top.reclaim).toEqual({ deleteFreesBytes: MiB, commitGrowthBytes: 512 * 1024, commitFreesBytes: 512 * 1024,
      commitGrowthMinBytes: 512 * 1024, commitGrowthMaxBytes: 512 * 1024, commitDataGrowthBytes: 512 * 1024,
      commitEndGrowthMinBytes: null, commitEndGrowthMaxBytes: null });
    const c = report().images.find((i) => i.path === `${A}/c.qcow2`)!;
    expect(c.chain[0]).toMatchObject({ own: null, trueOwn: null, shadowed: null, visible: { dataBytes: MiB } });
    expect(c.reclaim).toBeNull();
    // snap.qcow2 is top.qcow2's backing file: deleting or committing it would break top.qcow2.
    expect(report().images.find((i) => i.path === `${A}/snap.qcow2`)!.reclaim).toBeNull();
  });

  it('shared bases with what each overlay reads alone', () => {
    expect(report().bases).toEqual([{
      path: `${A}/shared.qcow2`, format: 'qcow2', diskUsageBytes: MiB, own: { dataBytes: 3 * MiB, zeroBytes: MiB, preallocatedBytes: 0 },
      overlayCount: 2, readBytes: 3 * MiB, sharedBytes: MiB, unreadBytes: MiB,
      overlays: [{ path: `${A}/o1.qcow2`, readBytes: 2 * MiB, uniqueBytes: MiB }, { path: `${A}/o2.qcow2`, readBytes: 2 * MiB, uniqueBytes: MiB }],
    }]);
    expect(report(runs[0]!).bases).toEqual([]);
  });

  it('JSON: every SPEC §2.3 key kept, the new keys exact', () => {
    const value = JSON.parse(reportJson(report())) as {
      images: { path: string; chain: unknown[]; reclaim: unknown; growthPerDay: unknown }[]; bases: unknown[]; filesystems: unknown[];
    };
    expect(violations(value, REPORT)).toEqual([]);
    const top = value.images.find((i) => i.path === `${A}/top.qcow2`)!;
    expect(top.chain[1]).toEqual({ depth: 1, path: `${A}/snap.qcow2`, format: 'qcow2', diskUsage: MiB,
      own: { data: 3 * MiB, zero: MiB, preallocated: 0 }, trueOwn: { data: 2 * MiB, zero: MiB, preallocated: MiB },
      visible: { data: 2 * MiB, zero: MiB, preallocated: 0 }, shadowed: { data: MiB, zero: 0, preallocated: 0 } });
    expect(top.reclaim).toEqual({ deleteFrees: MiB, commitGrowth: 524288, commitFrees: 524288, commitGrowthMin: 524288,
      commitGrowthMax: 524288, commitDataGrowth: 524288, commitEndGrowthMin: null, commitEndGrowthMax: null });
    expect(value.bases[0]).toEqual({ path: `${A}/shared.qcow2`, format: 'qcow2', diskUsage: MiB, own: { data: 3 * MiB, zero: MiB, preallocated: 0 },
      overlayCount: 2, read: 3 * MiB, shared: MiB, unread: MiB,
      overlays: [{ path: `${A}/o1.qcow2`, read: 2 * MiB, unique: MiB }, { path: `${A}/o2.qcow2`, read: 2 * MiB, unique: MiB }] });
    expect(value.filesystems[0]).toEqual({ roots: [B], dev: 2050, capacity: 100 * MiB, free: 12 * MiB, available: 10 * MiB,
      virtualSize: 128 * MiB, diskUsage: 12 * MiB, overcommitRatio: 1.28, growthPerDay: MiB, fillsAt: '2026-11-14', daysToFull: 10 });
  });

  it('report definitions: every layer (long form), top shadowed, reclaim, bases, base overlays', () => {
    const model = report('latest', ['by-layer', 'top-shadowed', 'reclaim', 'shared-bases', 'base-overlays']);
    const [layers, shadowed, reclaim, bases, overlays] = model.sections;
    expect(layers!.rows).toHaveLength(model.images.reduce((n, i) => n + i.chain.length, 0));
    expect(layers!.rows.find((r) => r[0] === `${A}/top.qcow2` && r[1] === 1)).toEqual([`${A}/top.qcow2`, 1, `${A}/snap.qcow2`, 'qcow2', MiB,
      3 * MiB, MiB, 0, 2 * MiB, MiB, MiB, 2 * MiB, MiB, 0, MiB, 0, 0]);
    expect(shadowed!.rows.map((r) => [r[0], r[1], r.at(-1)])).toEqual([[`${A}/o1.qcow2`, 1, 2 * MiB], [`${A}/top.qcow2`, 1, MiB]]);
    expect(reclaim!.rows).toEqual([[`${A}/top.qcow2`, 'snap.qcow2', MiB, 512 * 1024, 512 * 1024, 512 * 1024]]);
    expect(bases!.rows).toEqual([[`${A}/shared.qcow2`, 'qcow2', 2, MiB, 3 * MiB, MiB, 0, 3 * MiB, MiB, 2 * MiB, MiB]]);
    expect(overlays!.rows).toEqual([[`${A}/shared.qcow2`, `${A}/o1.qcow2`, 2 * MiB, MiB], [`${A}/shared.qcow2`, `${A}/o2.qcow2`, 2 * MiB, MiB]]);
  });
});

describe('estate findings (check)', () => {
  const check = (over: Partial<Parameters<typeof buildCheck>[1]> = {}) =>
    buildCheck(db, { run: 'latest', failOn: 'warning', deepChainLayers: 8, basePatterns: [], ignore: [], ...over });
  const codes = (model: ReturnType<typeof check>, ...wanted: string[]) =>
    model.findings.filter((f) => wanted.includes(f.code)).map((f) => [f.code, f.severity, f.path]);

  it('E_IMAGE_ORPHAN: unreferenced, no backing, old enough; only with reference sources', () => {
    expect(codes(check(), 'E_IMAGE_ORPHAN')).toEqual([['E_IMAGE_ORPHAN', 'warning', `${A}/c.qcow2`]]);
    expect(check().findings.find((f) => f.code === 'E_IMAGE_ORPHAN')!.message).toBe(`${A}/c.qcow2: no reference names this image and no `
      + 'image of the run reads it as a backing file; unchanged for 40 days, 1.0 MiB on disk; forgotten?');
    expect(codes(check({ orphanMinAgeMs: 41 * DAY }), 'E_IMAGE_ORPHAN')).toEqual([]);
    // Run 2 recorded no references, and its configuration names no reference source.
    expect(codes(check({ run: runs[1]! }), 'E_IMAGE_ORPHAN')).toEqual([]);
  });

  it('E_IMAGE_ORPHAN also when only the run\'s configuration names reference sources', () => {
    const raw = new Database(dbFile);
    raw.prepare('UPDATE runs SET config = ? WHERE id = ?').run(JSON.stringify({ references: { libvirtDomainDirs: ['/etc/libvirt/qemu'], pathLists: [] } }), runs[1]);
    raw.close();
    try {
      // In run 2 nothing is referenced: every old image no image reads as a backing file is an orphan (the estate's
      // files date from 2023; top, o1, o2 and shared changed recently; base, snap and shared are read as backing files).
      expect(codes(check({ run: runs[1]!, orphanMinAgeMs: 30 * DAY }), 'E_IMAGE_ORPHAN')).toEqual(
        [`${B}/a.qcow2`, `${B}/b.raw`, `${A}/c.qcow2`, `${A}/vm1.qcow2`].map((file) => ['E_IMAGE_ORPHAN', 'warning', file]));
    } finally {
      const undo = new Database(dbFile);
      undo.prepare("UPDATE runs SET config = '{}' WHERE id = ?").run(runs[1]);
      undo.close();
    }
  });

  it('E_BASE_ORPHANED: a base whose overlays all vanished; younger ones stay E_BASE_UNUSED (info)', () => {
    expect(codes(check(), 'E_BASE_ORPHANED', 'E_BASE_UNUSED')).toEqual([['E_BASE_ORPHANED', 'warning', `${A}/base.qcow2`]]);
    expect(check().findings.find((f) => f.code === 'E_BASE_ORPHANED')!.message).toBe(`${A}/base.qcow2: base image whose overlays all `
      + `vanished (chains last read it in run #${runs[1]}); unchanged for 20 days, 6.0 MiB on disk; a candidate for removal`);
    expect(codes(check({ orphanMinAgeMs: 30 * DAY }), 'E_BASE_ORPHANED', 'E_BASE_UNUSED')).toEqual([['E_BASE_UNUSED', 'info', `${A}/base.qcow2`]]);
    expect(codes(check({ run: runs[1]! }), 'E_BASE_ORPHANED', 'E_BASE_UNUSED')).toEqual([]);
  });

  it('E_FS_FILLING within --fill-warning-days, E_FS_OVERCOMMIT above --overcommit-ratio', () => {
    const model = check();
    expect(codes(model, 'E_FS_FILLING', 'E_FS_OVERCOMMIT')).toEqual([['E_FS_FILLING', 'warning', B]]);
    expect(model.findings.find((f) => f.code === 'E_FS_FILLING')!.message).toBe(`${B} (file system 8:2): 10.0 MiB available, image disk `
      + 'usage growing by +1.0 MiB a day: full in 10 days (around 2026-11-14), within 30');
    expect(codes(check({ fillWarningDays: 9 }), 'E_FS_FILLING')).toEqual([]);
    expect(codes(check({ overcommitRatio: 1.25 }), 'E_FS_OVERCOMMIT')).toEqual([['E_FS_OVERCOMMIT', 'warning', B]]);
    expect(check({ overcommitRatio: 1.25 }).findings.find((f) => f.code === 'E_FS_OVERCOMMIT')!.message).toBe(`${B} (file system 8:2): `
      + 'the images\' virtual sizes (128.0 MiB) are 1.28 times the capacity (100.0 MiB), more than 1.25; guests writing their disks full would fill it');
    expect(codes(check({ run: runs[0]! }), 'E_FS_FILLING')).toEqual([]);
  });

  it('E_SNAPSHOT_OLD (qcow2 internal) and E_SNAPSHOT_EXTERNAL_OLD (a backing file one overlay reads) past --snapshot-max-age', () => {
    const model = check();
    expect(codes(model, 'E_SNAPSHOT_OLD', 'E_SNAPSHOT_EXTERNAL_OLD')).toEqual([
      ['E_SNAPSHOT_OLD', 'warning', `${A}/shared.qcow2`], ['E_SNAPSHOT_EXTERNAL_OLD', 'info', `${A}/snap.qcow2`]]);
    expect(model.findings.find((f) => f.code === 'E_SNAPSHOT_OLD')!.message).toBe(`${A}/shared.qcow2: 1 qcow2 internal snapshot older than `
      + '30 days, the oldest \'before-upgrade\' (id 1) from 2026-09-01; snapshots keep the clusters they hold allocated (qemu-img snapshot -l / -d)');
    expect(model.findings.find((f) => f.code === 'E_SNAPSHOT_EXTERNAL_OLD')!.message).toBe(`${A}/snap.qcow2: backing file read by one `
      + `overlay only (${A}/top.qcow2), unchanged for 60 days: an external snapshot never committed, or a base with a single clone `
      + '(qemu-img commit merges the overlay into it)');
    expect(codes(check({ snapshotMaxAgeMs: 90 * DAY }), 'E_SNAPSHOT_OLD', 'E_SNAPSHOT_EXTERNAL_OLD')).toEqual([]);
    expect(codes(check({ snapshotMaxAgeMs: DAY }), 'E_SNAPSHOT_OLD').length).toBe(1);
  });

  it('the new warnings reach --fail-on warning; --ignore silences them', () => {
    const model = check();
    expect(model.failingCount).toBe(model.counts.error + model.counts.warning);
    expect(model.counts.warning).toBe(4); // E_IMAGE_ORPHAN, E_BASE_ORPHANED, E_FS_FILLING, E_SNAPSHOT_OLD
    const quiet = check({ ignore: ['E_IMAGE_ORPHAN', 'E_BASE_ORPHANED', 'E_FS_FILLING', 'E_SNAPSHOT_OLD'].map((code) => ({ code, glob: null })) });
    expect(quiet.failingCount).toBe(0);
    expect(check({ failOn: 'error' }).failingCount).toBe(0);
  });
});

describe('renderers', () => {
  let view: { model: ReportModel; isOverview: boolean };
  beforeAll(() => {
    view = { model: report('latest', overviewDefinitions(loadDefinitions()).map((d) => d.name)), isOverview: true };
  });

  it('text: a file systems table after the totals, and the layer, reclaim and base sections, within 100 columns', () => {
    const text = REPORT_RENDERERS.text(view, DEFAULT_RENDER_OPTIONS);
    const titles = text.split('\n\n').map((block) => block.split('\n')[0]);
    expect(titles.slice(0, 3)).toEqual(['imgaudit report: run #3', 'Totals', 'File systems']);
    expect(titles).toEqual(expect.arrayContaining(['What overlays read of their bases', 'Layers hiding the most bytes',
      'What committing or deleting an overlay would free']));
    expect(text).toContain(['File systems',
      'ROOTS    CAPACITY  AVAILABLE  OVERCOMMIT  GROWTH/DAY  DAYS LEFT  FULL ON',
      'growth  100.0 MiB   10.0 MiB       1.28x    +1.0 MiB         10  2026-11-14',
      'images    1.0 GiB  500.0 MiB       0.44x  -731.4 KiB          -  -', ''].join('\n'));
    expect(text.split('\n').every((line) => line.length <= 100)).toBe(true);
  });

  it('markdown and HTML carry the same sections; HTML draws them', () => {
    const markdown = REPORT_RENDERERS.markdown(view, DEFAULT_RENDER_OPTIONS);
    expect(markdown).toContain('## File systems');
    expect(markdown).toContain('| growth | 100.0 MiB | 10.0 MiB | 1.28x | +1.0 MiB | 10 | 2026-11-14 |');
    const page = REPORT_RENDERERS.html(view, DEFAULT_RENDER_OPTIONS);
    for (const name of ['filesystems', 'shared-bases', 'top-shadowed', 'reclaim']) {
      expect(page).toContain(`<section id="s-${name}">`);
      expect(page).toContain(`id="t-${name}"`);
    }
    expect(page).toContain('<td class="num" data-v="1.28">1.28x</td>');
    expect(page).not.toMatch(/\b(src|href)="(?!#)/);
  });

  it('CSV --by layer: long form, one row per image and layer, exact integers', () => {
    const model = report('latest', ['by-layer']);
    const csv = REPORT_RENDERERS.csv({ model, isOverview: false }, DEFAULT_RENDER_OPTIONS).split('\r\n');
    expect(csv[0]).toBe('path,depth,layer_path,layer_format,layer_disk_usage_bytes,own_data_bytes,own_zero_bytes,own_preallocated_bytes,'
      + 'true_data_bytes,true_zero_bytes,true_preallocated_bytes,visible_data_bytes,visible_zero_bytes,visible_preallocated_bytes,'
      + 'shadowed_data_bytes,shadowed_zero_bytes,shadowed_preallocated_bytes');
    expect(csv).toContain(`${A}/top.qcow2,1,${A}/snap.qcow2,qcow2,${MiB},${3 * MiB},${MiB},0,${2 * MiB},${MiB},${MiB},${2 * MiB},${MiB},0,${MiB},0,0`);
    expect(csv.length - 2).toBe(model.images.reduce((n, i) => n + i.chain.length, 0));
  });

  it('Prometheus: file system, growth, shadowed, true preallocation and orphan gauges with bounded labels', () => {
    const text = REPORT_RENDERERS.prometheus(view);
    const samples = new Map(text.split('\n').filter((l) => l !== '' && !l.startsWith('#'))
      .map((line) => [line.slice(0, line.lastIndexOf(' ')), line.slice(line.lastIndexOf(' ') + 1)]));
    const fsB = `filesystem="${deviceName(2050)}",roots="${B}"`;
    expect(samples.get(`imgaudit_filesystem_capacity_bytes{${fsB}}`)).toBe(String(100 * MiB));
    expect(samples.get(`imgaudit_filesystem_available_bytes{${fsB}}`)).toBe(String(10 * MiB));
    expect(samples.get(`imgaudit_filesystem_virtual_bytes{${fsB}}`)).toBe(String(128 * MiB));
    expect(samples.get(`imgaudit_filesystem_overcommit_ratio{${fsB}}`)).toBe('1.28');
    expect(samples.get(`imgaudit_filesystem_growth_bytes_per_day{${fsB}}`)).toBe(String(MiB));
    expect(samples.get(`imgaudit_filesystem_time_to_full_seconds{${fsB}}`)).toBe(String(10 * 86_400));
    expect(samples.get(`imgaudit_filesystem_time_to_full_seconds{filesystem="8:1",roots="${A}"}`)).toBe('+Inf');
    // The 0.2 name only on request (--deprecated-metrics), with the same value in days.
    expect([...samples.keys()].some((key) => key.startsWith('imgaudit_filesystem_days_to_full'))).toBe(false);
    const old = REPORT_RENDERERS.prometheus({ ...view, isDeprecatedMetrics: true });
    expect(old).toContain(`imgaudit_filesystem_days_to_full{${fsB}} 10\n`);
    expect(old).toMatch(/^# HELP imgaudit_filesystem_days_to_full DEPRECATED/m);
    expect(samples.get(`imgaudit_root_growth_bytes_per_day{root="${B}"}`)).toBe(String(MiB));
    expect(samples.get(`imgaudit_shadowed_bytes{root="${A}",category="data"}`)).toBe(String(2 * MiB));
    expect(samples.get(`imgaudit_shadowed_bytes{root="${A}",category="zero"}`)).toBe(String(MiB));
    expect(samples.get(`imgaudit_true_preallocated_bytes{root="${A}"}`)).toBe(String(MiB));
    expect(samples.get(`imgaudit_orphan_bytes{root="${A}"}`)).toBe(String(MiB + 6 * MiB)); // c.qcow2, base.qcow2
    expect(samples.get(`imgaudit_orphan_bytes{root="${B}"}`)).toBe('0');
    expect(samples.get(`imgaudit_root_shared_bases{root="${A}"}`)).toBe('1');
    expect(samples.get(`imgaudit_root_shared_base_bytes{root="${A}",category="shared"}`)).toBe(String(MiB));
    expect(samples.get(`imgaudit_root_shared_base_bytes{root="${A}",category="read_by_one"}`)).toBe(String(2 * MiB));
    expect(samples.get(`imgaudit_root_shared_base_bytes{root="${A}",category="unread"}`)).toBe(String(MiB));
    // Validity: every sample's metric has HELP and TYPE gauge; names and labels well formed; no path label; values numbers.
    for (const [series, value] of samples) {
      expect(series).toMatch(/^[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})?$/);
      expect(value).toMatch(/^(-?\d+(\.\d+)?(e[+-]?\d+)?|\+Inf|-Inf|NaN)$/);
      const name = series.split('{')[0]!;
      expect(text).toContain(`# HELP ${name} `);
      expect(text).toContain(`# TYPE ${name} gauge\n`);
      expect(series).not.toContain('path=');
    }
  });
});
