/** The report, diff and check models over estates written by the scan's own store. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCheck } from '../../../src/report/build-check.js';
import { buildDiff, compareImage } from '../../../src/report/build-diff.js';
import { buildReport } from '../../../src/report/build-report.js';
import { loadDefinitions, overviewDefinitions } from '../../../src/report/definitions.js';
import { RunSelectionError } from '../../../src/report/select-run.js';
import type { Db } from '../../../src/store/db.js';
import { openForReading } from '../../../src/store/report-db.js';
import { listRuns } from '../../../src/store/report-runs.js';
import { ScanStore } from '../../../src/store/scan-store.js';
import { MiB, baseEstate, writeRun } from './estate.js';
import { image } from './fixtures.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-report-models-'));
const dbFile = path.join(dir, 'estate.db');
let db: Db;
let runs: number[];

beforeAll(() => {
  const store = ScanStore.open(dbFile);
  const first = baseEstate();
  const second = baseEstate({ vm1DataBytes: 5 * MiB })
    .filter((spec) => spec.layers[0]!.path !== '/srv/images/vm2.qcow2')
    .concat([{ layers: [{ path: '/srv/images/vm3.qcow2', ino: 15, dataBytes: MiB, backingName: 'base.qcow2' },
      { path: '/srv/images/base.qcow2', ino: 10, dataBytes: MiB, allocatedBytes: 6 * MiB }] }]);
  runs = [
    writeRun(store, first, { startedAt: new Date('2026-11-01T02:00:00Z') }),
    writeRun(store, second, { startedAt: new Date('2026-11-02T02:00:00Z') }),
    writeRun(store, second.slice(0, 2), { status: 'interrupted', startedAt: new Date('2026-11-03T02:00:00Z') }),
  ];
  store.close();
  db = openForReading(dbFile);
});
afterAll(() => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('report model', () => {
  it('reports the newest complete run by default, with totals and images sorted by path', () => {
    const model = buildReport(db, { run: 'latest', sections: [], limit: 10 });
    expect(model.run).toMatchObject({ id: runs[1], status: 'complete', imageCount: 5, errorCount: 1, roots: ['/srv/images'] });
    expect(model.previousRunId).toBe(runs[0]);
    expect(model.images.map((i) => path.basename(i.path))).toEqual(['base.qcow2', 'broken.qcow2', 'disk.raw', 'vm1.qcow2', 'vm3.qcow2']);
    expect(model.totals.byDepth).toEqual([
      { depth: 0, dataBytes: (4 + 8 + 5 + 1) * MiB, zeroBytes: (1 + 56) * MiB, preallocatedBytes: 0 },
      { depth: 1, dataBytes: (3 + 1) * MiB, zeroBytes: MiB, preallocatedBytes: 0 },
    ]);
    // Disk usage counts each file once: base, vm1, disk.raw, broken, vm3 (1 MiB default).
    expect(model.totals.diskUsageBytes).toBe(6 * MiB + 2 * MiB + 8 * MiB + 196 * 1024 + MiB);
    expect(model.totals.virtualSizeBytes).toBe(4 * 64 * MiB + 16 * MiB);
    const vm1 = model.images.find((i) => i.path.endsWith('vm1.qcow2'))!;
    expect(vm1).toMatchObject({ backing: '/srv/images/base.qcow2', chainLength: 2, diskUsageBytes: 2 * MiB,
      unallocatedBytes: 64 * MiB - 5 * MiB - 4 * MiB, error: null });
    const broken = model.images.find((i) => i.path.endsWith('broken.qcow2'))!;
    expect(broken).toMatchObject({ byDepth: [], unallocatedBytes: null, backing: '/srv/images/gone.qcow2',
      error: { code: 'E_BACKING_MISSING', message: 'no such file' } });
    expect(model.findingCounts).toEqual([{ code: 'E_BACKING_MISSING', severity: 'error', count: 1 }]);
    expect(model.newestRun).toEqual({ id: runs[2], status: 'interrupted' });
  });

  it('every mapped image: bytes over depths plus unallocated equal the virtual size', () => {
    for (const image of buildReport(db, { run: 'latest', sections: [], limit: 10 }).images) {
      if (image.error !== null) continue;
      const sum = image.byDepth.reduce((s, d) => s + d.dataBytes + d.zeroBytes + d.preallocatedBytes, image.unallocatedBytes!);
      expect(sum, image.path).toBe(image.virtualSizeBytes);
    }
  });

  it('reports an interrupted run when asked by id, and refuses unknown runs', () => {
    expect(buildReport(db, { run: runs[2]!, sections: [], limit: 10 }).run.status).toBe('interrupted');
    expect(() => buildReport(db, { run: 99, sections: [], limit: 10 })).toThrow(RunSelectionError);
    expect(() => buildReport(db, { run: 99, sections: [], limit: 10 })).toThrow('there is no run #99 in the database');
  });

  it('runs every report definition of reports/ without error', () => {
    const definitions = loadDefinitions();
    const model = buildReport(db, { run: 'latest', sections: [...definitions.values()], limit: 3 });
    const byName = new Map(model.sections.map((t) => [t.name, t]));
    expect(byName.get('by-depth')!.rows.map((r) => r.slice(0, 3))).toEqual([[0, 4, 18 * MiB], [1, 2, 4 * MiB]]);
    expect(byName.get('top-images')!.rows).toHaveLength(3);
    expect(byName.get('top-growth')!.rows.map((r) => [path.basename(String(r[0])), r[3], r[4]])).toEqual([['vm1.qcow2', 0, 4 * MiB]]);
    expect(byName.get('base-usage')!.rows.map((r) => [r[0], r[2]])).toEqual([['/srv/images/base.qcow2', 2]]);
    expect(byName.get('by-root')!.rows).toEqual([['/srv/images', 5, 1, 4 * 64 * MiB + 16 * MiB,
      model.totals.diskUsageBytes, 22 * MiB, 58 * MiB, 0, expect.any(Number)]]);
    expect(overviewDefinitions(definitions).map((d) => d.name)).toEqual(
      ['by-depth', 'by-root', 'by-format', 'top-images', 'top-growth', 'base-usage', 'shared-bases', 'top-shadowed', 'reclaim',
        'run-history', 'findings-by-code']);
  });
});

describe('diff model', () => {
  it('finds exactly the added, removed and changed images', () => {
    const diff = buildDiff(db, { from: undefined, to: undefined });
    expect([diff.from.id, diff.to.id]).toEqual([runs[0], runs[1]]);
    expect(diff.added.map((i) => path.basename(i.path))).toEqual(['vm3.qcow2']);
    expect(diff.removed.map((i) => path.basename(i.path))).toEqual(['vm2.qcow2']);
    expect(diff.changed.map((c) => [path.basename(c.path), c.byDepth, c.backingChanged])).toEqual([
      ['vm1.qcow2', [{ depth: 0, dataBytes: 4 * MiB, zeroBytes: 0, preallocatedBytes: 0 },
        { depth: 1, dataBytes: 0, zeroBytes: 0, preallocatedBytes: 0 }], false],
    ]);
    expect(diff.unchangedCount).toBe(3);
    expect(diff.totals.byDepth).toEqual([
      { depth: 0, dataBytes: (5 - 1 + 1 - 2) * MiB, zeroBytes: 0, preallocatedBytes: 0 },
      { depth: 1, dataBytes: (1 - 2) * MiB, zeroBytes: 0, preallocatedBytes: 0 },
    ]);
    expect(diff.totals.diskUsageBytes).toBe(MiB - 3 * MiB);
  });

  it('compares any two runs, either way, and refuses when there is nothing before', () => {
    const reverse = buildDiff(db, { from: runs[1], to: runs[0] });
    expect(reverse.added.map((i) => path.basename(i.path))).toEqual(['vm2.qcow2']);
    expect(() => buildDiff(db, { from: undefined, to: runs[0] })).toThrow(/no complete run before run #1/);
    const since = buildDiff(db, { from: undefined, to: undefined, since: { isoTime: '2026-11-01T12:00:00Z', text: '1d ago' } });
    expect(since.from.id).toBe(runs[0]);
  });

  it('tells a changed backing chain from changed figures', () => {
    const a = image('/srv/images/vm.qcow2', { backing: '/srv/images/base.qcow2', backingChain: ['/srv/images/base.qcow2 1:2'] });
    expect(compareImage(a, { ...a })).toBeNull();
    expect(compareImage(a, { ...a, backing: '/srv/images/other.qcow2', backingChain: ['/srv/images/other.qcow2 1:3'] }))
      .toMatchObject({ backingChanged: true, byDepth: [{ depth: 0, dataBytes: 0, zeroBytes: 0, preallocatedBytes: 0 }] });
    expect(compareImage(a, { ...a, backingChain: ['/srv/images/base.qcow2 1:9'] })).toMatchObject({ backingChanged: true });
    expect(compareImage(a, { ...a, diskUsageBytes: a.diskUsageBytes + 4096 }))
      .toMatchObject({ backingChanged: false, diskUsage: { from: 2 * MiB, to: 2 * MiB + 4096 } });
    expect(compareImage(a, { ...a, error: { code: 'E_CORRUPT', message: 'x' }, byDepth: [], unallocatedBytes: null }))
      .toMatchObject({ byDepth: [{ depth: 0, dataBytes: -2 * MiB, zeroBytes: 0, preallocatedBytes: 0 }] });
  });
});

describe('check model', () => {
  it('lists stored findings and derives deep chains and unused bases', () => {
    const model = buildCheck(db, { run: 'latest', failOn: 'error', deepChainLayers: 1, basePatterns: [], ignore: [] });
    expect(model.findings.map((f) => [f.severity, f.code, path.basename(f.path)])).toEqual([
      ['error', 'E_BACKING_MISSING', 'broken.qcow2'],
      ['warning', 'E_CHAIN_DEEP', 'vm1.qcow2'],
      ['warning', 'E_CHAIN_DEEP', 'vm3.qcow2'],
    ]);
    expect(model.counts).toEqual({ error: 1, warning: 2, info: 0 });
    expect(model.failingCount).toBe(1);
  });

  it('applies the threshold and ignore rules', () => {
    const request = { run: 'latest' as const, failOn: 'warning' as const, deepChainLayers: 1, basePatterns: [],
      ignore: [{ code: 'E_BACKING_MISSING', glob: null }, { code: 'E_CHAIN_DEEP', glob: 'vm3.*' }] };
    const model = buildCheck(db, request);
    expect(model.findings.map((f) => path.basename(f.path))).toEqual(['vm1.qcow2']);
    expect(model.failingCount).toBe(1);
    expect(buildCheck(db, { ...request, failOn: 'never' }).failingCount).toBe(0);
  });

  it('reports a base no image reads any more, and files matching a base pattern', () => {
    const store = ScanStore.open(dbFile);
    const lonely = writeRun(store, baseEstate().filter((s) => !/vm[12]/.test(s.layers[0]!.path)));
    store.close();
    const model = buildCheck(db, { run: lonely, failOn: 'error', deepChainLayers: 8, basePatterns: ['disk.*'], ignore: [] });
    // base.qcow2 last changed in 2023 (the estate's mtime): past check.orphanMinAge, it is an orphaned base.
    expect(model.findings.filter((f) => f.code === 'E_BASE_UNUSED' || f.code === 'E_BASE_ORPHANED')
      .map((f) => [f.severity, f.code, path.basename(f.path), f.message.replace(/unchanged for \d+ days/, 'unchanged for N days')])).toEqual([
      ['warning', 'E_BASE_ORPHANED', 'base.qcow2', `/srv/images/base.qcow2: base image whose overlays all vanished (chains last read it in run #${runs[2]}); unchanged for N days, 6.0 MiB on disk; a candidate for removal`],
      ['info', 'E_BASE_UNUSED', 'disk.raw', '/srv/images/disk.raw: base image that no scanned image reads (it matches a base pattern); a candidate for removal'],
    ]);
    const young = buildCheck(db, { run: lonely, failOn: 'error', deepChainLayers: 8, basePatterns: [], ignore: [], orphanMinAgeMs: 10 * 365 * 86_400_000 });
    expect(young.findings.filter((f) => f.code.startsWith('E_BASE')).map((f) => [f.severity, f.code, f.message])).toEqual([
      ['info', 'E_BASE_UNUSED', `/srv/images/base.qcow2: base image that no scanned image reads (chains last read it in run #${runs[2]}); a candidate for removal`],
    ]);
  });
});

describe('runs', () => {
  it('lists every run with its totals and finding counts', () => {
    const all = listRuns(db);
    expect(all.slice(0, 3).map((r) => [r.id, r.status, r.imageCount, r.findings.error])).toEqual([
      [runs[0], 'complete', 5, 1], [runs[1], 'complete', 5, 1], [runs[2], 'interrupted', 2, 0],
    ]);
    expect(all[1]).toMatchObject({ dataBytes: 22 * MiB, zeroBytes: 58 * MiB, preallocatedBytes: 0 });
  });
});
