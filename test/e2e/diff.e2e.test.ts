/**
 * `imgaudit diff` end to end: after known changes to a generated tree
 * (grow, add, remove, re-base) the diff holds exactly those changes, with
 * per-depth deltas equal to the difference of SPEC §3 figures from real
 * `qemu-img map` output before and after.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasQemu } from '../support/qemu.js';
import { DIFF, violations } from '../unit/report/contract.js';
import { buildReportTree, changeReportTree, scanTree, type ReportTree } from './report-tree.js';
import { type ExpectedImage, expectedImage, iec, layout, signedIec, time } from './report-support.js';
import { requireBuild, runCli } from './scan-support.js';

interface Depth { depth: number; data: number; zero: number; preallocated: number }
interface JsonImage { path: string; virtualSize: number; diskUsage: number; byDepth: Depth[]; chainLength: number; unallocated: number }
interface JsonDiff {
  from: { id: number; startedAt: string; imageCount: number }; to: { id: number; startedAt: string; imageCount: number };
  added: JsonImage[]; removed: JsonImage[];
  changed: { path: string; virtualSize: { from: number; to: number }; diskUsage: { from: number; to: number }; byDepth: Depth[];
    backingChanged: boolean }[];
  totals: { byDepth: Depth[]; diskUsage: number; virtualSize: number };
}

function depthDelta(after: ExpectedImage, before: ExpectedImage): Depth[] {
  const depths = new Set([...after.byDepth, ...before.byDepth].map((d) => d.depth));
  return [...depths].sort((a, b) => a - b).map((depth) => {
    const a = after.byDepth.find((d) => d.depth === depth);
    const b = before.byDepth.find((d) => d.depth === depth);
    return { depth, data: (a?.dataBytes ?? 0) - (b?.dataBytes ?? 0), zero: (a?.zeroBytes ?? 0) - (b?.zeroBytes ?? 0),
      preallocated: (a?.preallocatedBytes ?? 0) - (b?.preallocatedBytes ?? 0) };
  });
}

/** Greedy word wrap (what detail lines under a row do). */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const word of text.split(' ')) {
    const last = lines.length - 1;
    if (last >= 0 && lines[last]!.length + 1 + word.length <= width) lines[last] += ` ${word}`;
    else lines.push(word);
  }
  return lines;
}

const sum = (image: ExpectedImage, key: 'dataBytes' | 'zeroBytes' | 'preallocatedBytes'): number =>
  image.byDepth.reduce((s, d) => s + d[key], 0);

describe.skipIf(!hasQemu)('imgaudit diff (e2e)', () => {
  let dir: string;
  let tree: ReportTree;
  let dbFile: string;
  let before: Map<string, ExpectedImage>;
  let after: Map<string, ExpectedImage>;
  let usageBefore: number;
  let usageAfter: number;
  let json: JsonDiff;
  const diff = (...args: string[]) => runCli(['diff', '--db', dbFile, ...args], dir);
  const ok = (...args: string[]): string => {
    const result = diff(...args);
    expect(result.status, result.stderr).toBe(0);
    return result.stdout;
  };
  const a = (file: string) => path.join(tree.roots[0], file);
  const usage = () => [...tree.mapped, ...tree.broken].reduce((s, file) => s + fs.statSync(file).blocks * 512, 0);

  beforeAll(() => {
    requireBuild();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-diff-e2e-'));
    tree = buildReportTree(dir);
    dbFile = path.join(dir, 'audit.db');
    scanTree(tree, dbFile);
    before = new Map(tree.mapped.map((file) => [file, expectedImage(file)]));
    usageBefore = usage();
    changeReportTree(tree);
    scanTree(tree, dbFile);
    after = new Map(tree.mapped.map((file) => [file, expectedImage(file)]));
    usageAfter = usage();
    json = JSON.parse(ok('--format', 'json')) as JsonDiff;
  }, 180_000);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('JSON follows the SPEC §2.4 contract: the last two complete runs by default', () => {
    expect(violations(json, DIFF)).toEqual([]);
    expect([json.from.id, json.to.id]).toEqual([1, 2]);
  });

  it('holds exactly the known changes: grow, add, remove, re-base', () => {
    expect(json.added.map((i) => i.path)).toEqual([a('vms/vm3.qcow2')]);
    expect(json.removed.map((i) => i.path)).toEqual([a('vms/vm2.qcow2')]);
    expect(json.changed.map((c) => [c.path, c.backingChanged])).toEqual([[a('vms/rb.qcow2'), true], [a('vms/vm1.qcow2'), false]]);
  });

  it('added and removed images carry their figures; changed ones the deltas of qemu-img map', () => {
    const vm3 = after.get(a('vms/vm3.qcow2'))!;
    expect(json.added[0]).toMatchObject({ virtualSize: vm3.virtualSizeBytes, diskUsage: vm3.diskUsageBytes, chainLength: 2,
      unallocated: vm3.unallocatedBytes });
    const vm2 = before.get(a('vms/vm2.qcow2'))!;
    expect(json.removed[0]).toMatchObject({ virtualSize: vm2.virtualSizeBytes, diskUsage: vm2.diskUsageBytes });
    for (const change of json.changed) {
      const [x, y] = [before.get(change.path)!, after.get(change.path)!];
      expect(change, change.path).toMatchObject({
        virtualSize: { from: x.virtualSizeBytes, to: y.virtualSizeBytes }, diskUsage: { from: x.diskUsageBytes, to: y.diskUsageBytes },
        byDepth: depthDelta(y, x),
      });
    }
    const vm1 = json.changed.find((c) => c.path.endsWith('vm1.qcow2'))!;
    expect(vm1.byDepth[0]!.data).toBe(2 << 20);
  });

  it('totals: per-depth deltas over all chains, disk usage of each file once', () => {
    const totals = new Map<number, Depth>();
    const add = (image: ExpectedImage, sign: number) => {
      for (const d of image.byDepth) {
        const t = totals.get(d.depth) ?? { depth: d.depth, data: 0, zero: 0, preallocated: 0 };
        t.data += sign * d.dataBytes;
        t.zero += sign * d.zeroBytes;
        t.preallocated += sign * d.preallocatedBytes;
        totals.set(d.depth, t);
      }
    };
    for (const image of after.values()) add(image, 1);
    for (const image of before.values()) add(image, -1);
    expect(json.totals.byDepth).toEqual([...totals.values()].sort((x, y) => x.depth - y.depth));
    expect(json.totals.diskUsage).toBe(usageAfter - usageBefore);
    expect(json.totals.virtualSize).toBe((64 << 20) /* vm3 */ - (32 << 20) /* vm2 */);
  });

  it('text: exact, within 100 columns', () => {
    const rel = (file: string) => path.relative(dir, file);
    const imageRows = (images: ExpectedImage[], layers: number) => images.map((e) => [rel(e.path), 'qcow2', String(layers),
      iec(e.virtualSizeBytes), iec(e.diskUsageBytes), iec(sum(e, 'dataBytes'))]);
    const changed = json.changed.map((c) => {
      const [x, y] = [before.get(c.path)!, after.get(c.path)!];
      return [rel(c.path), signedIec(y.diskUsageBytes - x.diskUsageBytes), signedIec(y.virtualSizeBytes - x.virtualSizeBytes),
        signedIec(sum(y, 'dataBytes') - sum(x, 'dataBytes')), signedIec(sum(y, 'zeroBytes') - sum(x, 'zeroBytes')),
        c.backingChanged ? 'yes' : 'no'];
    });
    const changedTable = layout(['path', '+/- disk usage', '+/- virtual', '+/- data', '+/- zero', 'backing'], changed,
      [false, true, true, true, true, false]);
    const imageHeaders = ['path', 'format', 'layers', 'virtual size', 'disk usage', 'data'];
    const right = [false, false, true, true, true, true];
    const expected = [
      'imgaudit diff: run #1 to run #2',
      `from    #1 (complete), started ${time(json.from.startedAt)}, ${json.from.imageCount} images`,
      `to      #2 (complete), started ${time(json.to.startedAt)}, ${json.to.imageCount} images`,
      'images  1 added, 1 removed, 2 changed, 12 unchanged',
      '',
      'Sizes, TO - FROM',
      ...layout(['figure', 'change'], [['disk usage (each file once)', signedIec(usageAfter - usageBefore)],
        ['virtual size', signedIec(32 << 20)]], [false, true]),
      '',
      'Bytes per depth, TO - FROM',
      ...layout(['depth', '+/- data', '+/- zero', '+/- prealloc'],
        json.totals.byDepth.map((d) => [String(d.depth), signedIec(d.data), signedIec(d.zero), signedIec(d.preallocated)]),
        [true, true, true, true]),
      '',
      'Added images (1)',
      ...layout(imageHeaders, imageRows([after.get(a('vms/vm3.qcow2'))!], 2), right),
      '',
      'Removed images (1)',
      ...layout(imageHeaders, imageRows([before.get(a('vms/vm2.qcow2'))!], 2), right),
      '',
      'Changed images (2)',
      changedTable[0], changedTable[1],
      ...wrap(`backing: ${a('bases/base.qcow2')} -> ${a('bases/spare.qcow2')}`, 96).map((line) => `    ${line}`),
      changedTable[2],
      '',
    ].join('\n');
    const text = ok();
    expect(text).toBe(expected);
    expect(text.split('\n').every((line) => line.length <= 100)).toBe(true);
  });

  it('CSV: one row per change, exact integers', () => {
    const [vm3, vm2] = [after.get(a('vms/vm3.qcow2'))!, before.get(a('vms/vm2.qcow2'))!];
    const changedRow = (file: string, backingChanged: boolean) => {
      const [x, y] = [before.get(file)!, after.get(file)!];
      return ['changed', file, x.virtualSizeBytes, y.virtualSizeBytes, x.diskUsageBytes, y.diskUsageBytes,
        sum(y, 'dataBytes') - sum(x, 'dataBytes'), sum(y, 'zeroBytes') - sum(x, 'zeroBytes'),
        sum(y, 'preallocatedBytes') - sum(x, 'preallocatedBytes'), backingChanged].join(',');
    };
    expect(ok('--format', 'csv')).toBe([
      'change,path,virtual_size_from_bytes,virtual_size_to_bytes,disk_usage_from_bytes,disk_usage_to_bytes,data_delta_bytes,'
        + 'zero_delta_bytes,preallocated_delta_bytes,is_backing_changed',
      ['added', vm3.path, '', vm3.virtualSizeBytes, '', vm3.diskUsageBytes, sum(vm3, 'dataBytes'), sum(vm3, 'zeroBytes'),
        sum(vm3, 'preallocatedBytes'), ''].join(','),
      ['removed', vm2.path, vm2.virtualSizeBytes, '', vm2.diskUsageBytes, '', -sum(vm2, 'dataBytes'), -sum(vm2, 'zeroBytes'),
        -sum(vm2, 'preallocatedBytes'), ''].join(','),
      changedRow(a('vms/rb.qcow2'), true),
      changedRow(a('vms/vm1.qcow2'), false),
      '',
    ].join('\r\n'));
  });

  it('markdown and HTML hold the same changes', () => {
    const markdown = ok('--format', 'markdown');
    expect(markdown).toContain('## Changed images (2)\n\n| path | +/- disk usage | +/- virtual | +/- data | +/- zero | backing | note |\n');
    expect(markdown).toContain(`| storage/vms/rb.qcow2 | 0 B | 0 B |`);
    expect(markdown).toMatch(/\| yes \| backing: .*base\.qcow2 -> .*spare\.qcow2 \|/);
    const html = ok('--format', 'html');
    expect(html).toContain('<table class="sortable" id="t-changed">');
    expect(html.match(/<svg class="chart"/g)).toHaveLength(2);
    expect(html).not.toMatch(/https?:/);
  });

  it('an unchanged pair of runs is an empty diff; run choice and errors', () => {
    const same = JSON.parse(ok('2', '2', '--format', 'json')) as JsonDiff;
    expect([same.added, same.removed, same.changed]).toEqual([[], [], []]);
    expect(same.totals).toEqual({ byDepth: json.totals.byDepth.map((d) => ({ ...d, data: 0, zero: 0, preallocated: 0 })),
      diskUsage: 0, virtualSize: 0 });
    const reverse = JSON.parse(ok('latest', '1', '--format', 'json')) as JsonDiff;
    expect(reverse.added.map((i) => i.path)).toEqual([a('vms/vm2.qcow2')]);
    for (const [args, message] of [
      [['1', '7'], /^imgaudit: there is no run #7 in the database/],
      [['--since', '1h'], /^imgaudit: no complete run started 1h ago/],
      [['--since', 'soon'], /--since: expected a duration such as "36h"/], [['--since', '999999y'], /--since: expected a duration .*\(at most 1000y\), got .999999y.$/m],
      [['1', '--since', '1d'], /give FROM or --since, not both/],
    ] as [string[], RegExp][]) {
      const result = diff(...args);
      expect(result.status, args.join(' ')).toBe(2);
      expect(result.stderr).toMatch(message);
    }
  });
});
