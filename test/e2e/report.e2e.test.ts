/**
 * `imgaudit report` end to end, every format, against a database built by
 * scanning a generated storage tree twice; every figure is cross-checked
 * with SPEC §3 applied to real `qemu-img map` output and with stat.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasQemu } from '../support/qemu.js';
import { REPORT, violations } from '../unit/report/contract.js';
import { buildReportTree, changeReportTree, scanTree, type ReportTree } from './report-tree.js';
import {
  CHROMIUM, type ExpectedImage, chromiumArgs, depthSums, expectedImage, iec, layout, pct, rel, time,
} from './report-support.js';
import { requireBuild, runCli } from './scan-support.js';

interface JsonReport {
  run: { id: number; startedAt: string; finishedAt: string; status: string; roots: string[]; imageCount: number; errorCount: number };
  totals: { virtualSize: number; diskUsage: number; unallocated: number; byDepth: { depth: number; data: number; zero: number; preallocated: number }[] };
  images: { path: string; format: string; virtualSize: number | null; diskUsage: number; backing: string | null; chainLength: number;
    byDepth: { depth: number; data: number; zero: number; preallocated: number }[]; unallocated: number | null;
    error: { code: string; message: string } | null }[];
  filesystems: unknown[];
}

describe.skipIf(!hasQemu)('imgaudit report (e2e)', () => {
  let dir: string;
  let tree: ReportTree;
  let dbFile: string;
  let expected: ExpectedImage[];
  let json: JsonReport;
  const report = (...args: string[]) => runCli(['report', '--db', dbFile, ...args], dir);
  const ok = (...args: string[]): string => {
    const result = report(...args);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
    return result.stdout;
  };

  beforeAll(() => {
    requireBuild();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-report-e2e-'));
    tree = buildReportTree(dir);
    dbFile = path.join(dir, 'audit.db');
    scanTree(tree, dbFile);
    changeReportTree(tree);
    scanTree(tree, dbFile);
    expected = tree.mapped.map(expectedImage).sort((a, b) => (a.path < b.path ? -1 : 1));
    json = JSON.parse(ok('--format', 'json')) as JsonReport;
  }, 180_000);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('JSON follows the SPEC §2.3 contract, figures equal qemu-img map under SPEC §3', () => {
    expect(violations(json, REPORT)).toEqual([]);
    expect(json.run).toMatchObject({ id: 2, status: 'complete', roots: tree.roots, imageCount: expected.length + 1, errorCount: 1 });
    const mapped = json.images.filter((image) => image.error === null);
    expect(mapped.map((image) => image.path)).toEqual(expected.map((e) => e.path));
    for (const [i, image] of mapped.entries()) {
      const e = expected[i]!;
      expect({ virtualSize: image.virtualSize, unallocated: image.unallocated, diskUsage: image.diskUsage, byDepth: image.byDepth }, e.path)
        .toEqual({ virtualSize: e.virtualSizeBytes, unallocated: e.unallocatedBytes, diskUsage: e.diskUsageBytes,
          byDepth: e.byDepth.map((d) => ({ depth: d.depth, data: d.dataBytes, zero: d.zeroBytes, preallocated: d.preallocatedBytes })) });
      const sum = image.byDepth.reduce((s, d) => s + d.data + d.zero + d.preallocated, image.unallocated!);
      expect(sum, e.path).toBe(image.virtualSize);
    }
    const [broken] = json.images.filter((image) => image.error !== null);
    expect(broken).toMatchObject({ path: tree.broken[0], format: 'qcow2', virtualSize: 16 << 20, byDepth: [], unallocated: null,
      backing: path.join(tree.roots[0], 'vms/missing.qcow2'), error: { code: 'E_BACKING_MISSING' } });
    expect(json.images.find((i) => i.path.endsWith('vms/rb.qcow2'))).toMatchObject({
      backing: path.join(tree.roots[0], 'bases/spare.qcow2'), chainLength: 2 });
    expect(json.images.find((i) => i.path.endsWith('deep/l3.qcow2'))!.chainLength).toBe(4);
  });

  it('JSON totals: per depth over all chains, disk usage of each file once', () => {
    const sums = depthSums(expected);
    expect(json.totals.byDepth).toEqual([...sums].map(([depth, s]) => ({ depth, data: s.data, zero: s.zero, preallocated: s.preallocated })));
    const files = [...expected.map((e) => e.path), ...tree.broken];
    expect(json.totals.diskUsage).toBe(files.reduce((sum, file) => sum + fs.statSync(file).blocks * 512, 0));
    expect(json.totals.virtualSize).toBe(expected.reduce((sum, e) => sum + e.virtualSizeBytes, 16 << 20));
    expect(json.totals.unallocated).toBe(expected.reduce((sum, e) => sum + e.unallocatedBytes, 0));
  });

  function header(): string[] {
    return [
      'imgaudit report: run #2',
      'run           #2 (complete)',
      `started       ${time(json.run.startedAt)}`,
      `finished      ${time(json.run.finishedAt)}`,
      `roots         ${tree.roots.join(', ')}`,
      `images        ${json.run.imageCount} (1 could not be mapped)`,
      'growth since  run #1',
      '',
    ];
  }

  function depthRows(format: (bytes: number) => string): string[][] {
    const sums = depthSums(expected);
    const mappedVirtual = expected.reduce((s, e) => s + e.virtualSizeBytes, 0);
    return [...sums].map(([depth, s]) => [String(depth), String(s.images), format(s.data), format(s.zero), format(s.preallocated),
      format(s.data + s.zero + s.preallocated), pct(s.data + s.zero + s.preallocated, mappedVirtual)]);
  }
  const DEPTH_HEADERS = ['depth', 'images', 'data', 'zero', 'preallocated', 'total', 'of virtual %'];

  it('text --by depth: exact, IEC sizes and percentages', () => {
    expect(ok('--by', 'depth')).toBe([...header(), 'Bytes per chain depth',
      ...layout(DEPTH_HEADERS, depthRows(iec), DEPTH_HEADERS.map(() => true)), ''].join('\n'));
  });

  it('text --by depth --bytes: exact integers', () => {
    expect(ok('--by', 'depth', '--bytes')).toBe([...header(), 'Bytes per chain depth',
      ...layout(DEPTH_HEADERS, depthRows(String), DEPTH_HEADERS.map(() => true)), ''].join('\n'));
  });

  it('text --by image: one row per image, paths relative to the roots\' directory, within 100 columns', () => {
    const headers = ['path', 'layers', 'virtual size', 'disk usage', 'data', 'zero', 'preallocated'];
    const all = [...json.images].sort((a, b) => (a.path < b.path ? -1 : 1));
    const lines: string[] = [];
    const rows = all.map((image) => {
      const e = expected.find((x) => x.path === image.path);
      const sum = (key: 'dataBytes' | 'zeroBytes' | 'preallocatedBytes') => (e === undefined ? '-' : iec(e.byDepth.reduce((s, d) => s + d[key], 0)));
      return [rel(dir, image.path), String(image.chainLength), iec(e?.virtualSizeBytes ?? 16 << 20),
        iec(fs.statSync(image.path).blocks * 512), sum('dataBytes'), sum('zeroBytes'), sum('preallocatedBytes')];
    });
    const table = layout(headers, rows, headers.map((_, i) => i > 0));
    lines.push(table[0]!);
    all.forEach((image, i) => {
      lines.push(table[i + 1]!);
      if (image.error !== null) lines.push(`    ${image.error.code}`);
    });
    const text = ok('--by', 'image');
    expect(text).toBe([...header(), 'Images', ...lines, ''].join('\n'));
    expect(text.split('\n').every((line) => line.length <= 100)).toBe(true);
  });

  it('the overview: totals, then every overview definition, within 100 columns', () => {
    const text = ok();
    const sections = text.split('\n\n').map((block) => block.split('\n')[0]);
    expect(sections).toEqual(['imgaudit report: run #2', 'Totals', ...(json.filesystems.length > 0 ? ['File systems'] : []),
      'Bytes per chain depth', 'Bytes per root', 'Bytes per format', 'Largest images', 'Largest growth since the previous complete run',
      'Shared base images', 'What overlays read of their bases', 'Layers hiding the most bytes',
      'What committing or deleting an overlay would free', 'History of complete runs', 'Findings the scan recorded, by code']);
    expect(text.split('\n').every((line) => line.length <= 100)).toBe(true);
    const mappedVirtual = expected.reduce((s, e) => s + e.virtualSizeBytes, 0);
    const data = expected.reduce((s, e) => s + e.byDepth.reduce((t, d) => t + d.dataBytes, 0), 0);
    expect(text).toContain(`\ndata${' '.repeat(2)}`);
    expect(text).toMatch(new RegExp(`\\ndata +${iec(data).replace('.', '\\.')}  +${pct(data, mappedVirtual).replace('.', '\\.')}\\n`));
    expect(text).toMatch(/\nLargest growth since the previous complete run\nPATH +FROM DISK USAGE +DISK USAGE +DISK USAGE GROWTH +DATA GROWTH\nstorage\/vms\/vm1\.qcow2 /);
    expect(text).toMatch(/\nerror +E_BACKING_MISSING +1 +1\n/);
  });

  it('markdown --by root: exact GitHub table', () => {
    const rows = tree.roots.map((root) => {
      const inRoot = json.images.filter((i) => i.path.startsWith(`${root}/`));
      const e = expected.filter((x) => x.path.startsWith(`${root}/`));
      const sum = (key: 'dataBytes' | 'zeroBytes' | 'preallocatedBytes') => iec(e.reduce((s, x) => s + x.byDepth.reduce((t, d) => t + d[key], 0), 0));
      const errors = inRoot.filter((i) => i.error !== null).length;
      return `| ${path.basename(root)} | ${inRoot.length} | ${errors} | ${iec(inRoot.reduce((s, i) => s + (i.virtualSize ?? 0), 0))} | `
        + `${iec(inRoot.reduce((s, i) => s + i.diskUsage, 0))} | ${sum('dataBytes')} | ${sum('zeroBytes')} | ${sum('preallocatedBytes')} |`;
    });
    expect(ok('--by', 'root', '--format', 'markdown')).toBe([
      '# imgaudit report: run #2', '',
      '- **run**: #2 (complete)', `- **started**: ${time(json.run.startedAt)}`, `- **finished**: ${time(json.run.finishedAt)}`,
      `- **roots**: ${tree.roots.join(', ')}`, `- **images**: ${json.run.imageCount} (1 could not be mapped)`,
      '- **growth since**: run #1', '',
      '## Bytes per root', '',
      'Per storage root: images, images that could not be mapped, virtual size, disk usage (each host file once) and bytes per '
        + 'category over the root\'s chains.', '',
      '| root | images | errors | virtual size | disk usage | data | zero | preallocated |',
      '|:---|---:|---:|---:|---:|---:|---:|---:|',
      ...rows, '',
    ].join('\n'));
  });

  it('CSV (the default --by image): RFC 4180, exact integers, absolute paths', () => {
    const lines = json.images.map((image) => {
      const e = expected.find((x) => x.path === image.path);
      const sum = (key: 'dataBytes' | 'zeroBytes' | 'preallocatedBytes') => (e === undefined ? '' : String(e.byDepth.reduce((s, d) => s + d[key], 0)));
      const backing = image.backing === null ? '' : path.relative(path.dirname(image.path), image.backing);
      return [image.path, image.format, image.chainLength, image.virtualSize, image.diskUsage, sum('dataBytes'), sum('zeroBytes'),
        sum('preallocatedBytes'), e?.unallocatedBytes ?? '', backing, image.error?.code ?? '', ''].join(',');
    });
    expect(ok('--format', 'csv')).toBe(['path,format,layers,virtual_size_bytes,disk_usage_bytes,data_bytes,zero_bytes,'
      + 'preallocated_bytes,unallocated_bytes,backing_name,error_code,in_use', ...lines, ''].join('\r\n'));
  });

  it('JSON of one definition (--report): columns typed, rows with camelCase keys', () => {
    const top = JSON.parse(ok('--report', 'top-images', '--top', '3', '--format', 'json')) as
      { report: string; rows: { path: string; diskUsageBytes: number }[] };
    expect(top.report).toBe('top-images');
    const largest = [...json.images].sort((a, b) => b.diskUsage - a.diskUsage || (a.path < b.path ? -1 : 1)).slice(0, 3);
    expect(top.rows.map((r) => [r.path, r.diskUsageBytes])).toEqual(largest.map((i) => [i.path, i.diskUsage]));
  });

  it('Prometheus: written atomically to --out, gauges equal the figures', () => {
    const out = path.join(dir, 'textfile');
    fs.mkdirSync(out);
    const file = path.join(out, 'imgaudit.prom');
    expect(ok('--format', 'prometheus', '--out', file)).toBe('');
    expect(fs.readdirSync(out)).toEqual(['imgaudit.prom']);
    const samples = new Map(fs.readFileSync(file, 'utf8').split('\n').filter((l) => l !== '' && !l.startsWith('#'))
      .map((line) => [line.slice(0, line.lastIndexOf(' ')), Number(line.slice(line.lastIndexOf(' ') + 1))]));
    for (const d of json.totals.byDepth) {
      expect(samples.get(`imgaudit_depth_bytes{depth="${d.depth}",category="data"}`)).toBe(d.data);
      expect(samples.get(`imgaudit_depth_bytes{depth="${d.depth}",category="zero"}`)).toBe(d.zero);
      expect(samples.get(`imgaudit_depth_bytes{depth="${d.depth}",category="preallocated"}`)).toBe(d.preallocated);
    }
    expect(samples.get('imgaudit_disk_usage_bytes')).toBe(json.totals.diskUsage);
    expect(samples.get(`imgaudit_root_images{root="${tree.roots[1]}"}`)).toBe(2);
    expect(samples.get('imgaudit_findings{code="E_BACKING_MISSING",severity="error"}')).toBe(1);
    expect(samples.get('imgaudit_last_success_timestamp_seconds')).toBe(Date.parse(json.run.finishedAt) / 1000);
    expect([...samples.keys()].some((key) => key.includes('path='))).toBe(false);
  });

  it('HTML: one self-contained page with charts; Chromium renders it', () => {
    const file = path.join(dir, 'report.html');
    expect(ok('--format', 'html', '--out', file)).toBe('');
    const page = fs.readFileSync(file, 'utf8');
    expect(page).not.toMatch(/\b(src|href)="(?!#)|https?:/);
    expect(page.match(/<svg class="chart"/g)!.length).toBeGreaterThanOrEqual(5);
    for (const name of ['by-depth', 'by-root', 'top-images', 'top-growth', 'run-history']) expect(page).toContain(`id="t-${name}"`);
  });

  it.skipIf(CHROMIUM === undefined)('HTML: headless Chromium takes a screenshot and runs the sort script', () => {
    const file = path.join(dir, 'report.html');
    if (!fs.existsSync(file)) ok('--format', 'html', '--out', file);
    const png = path.join(dir, 'report.png');
    const shot = spawnSync(CHROMIUM!, [...chromiumArgs(path.join(dir, 'chromium-1'), `--screenshot=${png}`, '--window-size=1280,2000'),
      `file://${file}`], { encoding: 'utf8', timeout: 60_000 });
    expect(shot.status, shot.stderr).toBe(0);
    const bytes = fs.readFileSync(png);
    expect(bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
    expect(bytes.length).toBeGreaterThan(50_000);
    const dom = spawnSync(CHROMIUM!, [...chromiumArgs(path.join(dir, 'chromium-2'), '--dump-dom'), `file://${file}#sort=top-images:0:asc`],
      { encoding: 'utf8', timeout: 60_000 });
    expect(dom.status, dom.stderr).toBe(0);
    expect(dom.stdout).toContain('data-sorted="top-images:0:asc"');
    const table = /<table class="sortable" id="t-top-images">[^]*?<\/table>/.exec(dom.stdout)![0];
    const paths = [...table.matchAll(/<tr><td class="path">(.*?)<\/td>/g)].map((m) => m[1]!.replace(/<[^>]*>/g, ''));
    expect(paths).toEqual([...paths].sort((a, b) => a.localeCompare(b)));
    expect(paths.length).toBe(10);
  });

  it('exit status 2 with one message: no such run, unknown definition, bad flags, no database', () => {
    const cases: [string[], RegExp][] = [
      [['--run', '9'], /^imgaudit: there is no run #9 in the database/],
      [['--run', 'first'], /^imgaudit: --run: expected a run id or 'latest', got 'first'/],
      [['--report', 'nope'], /^imgaudit: no report definition 'nope' \(known: base-overlays, base-usage, by-depth/],
      [['--format', 'prometheus', '--by', 'root'], /takes no --by or --report/],
      [['--format', 'xml'], /Invalid values:[\s\S]*format/],
      [['--top', '0'], /--top: expected an integer from 1 to 100000, got '0'/],
    ];
    for (const [args, message] of cases) {
      const result = report(...args);
      expect(result.status, args.join(' ')).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(message);
    }
    const missing = runCli(['report', '--db', path.join(dir, 'none.db')], dir);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/^imgaudit: database '.*none.db' does not exist \(imgaudit scan creates it\)\n$/);
    expect(fs.existsSync(path.join(dir, 'none.db'))).toBe(false);
  });

  it('--list names every definition', () => {
    const names = ok('--list').split('\n').filter(Boolean).map((line) => line.split(' ')[0]);
    expect(names).toEqual(['base-overlays', 'base-usage', 'by-depth', 'by-format', 'by-image', 'by-layer', 'by-root',
      'findings-by-code', 'reclaim', 'run-history', 'shared-bases', 'top-growth', 'top-images', 'top-shadowed']);
  });
});
