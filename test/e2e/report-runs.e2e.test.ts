/** `imgaudit runs` end to end: every format, counters and totals as the reports give them. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasQemu } from '../support/qemu.js';
import { RUNS, violations } from '../unit/report/contract.js';
import { buildReportTree, changeReportTree, scanTree, type ReportTree } from './report-tree.js';
import { iec, layout, time } from './report-support.js';
import { requireBuild, runCli } from './scan-support.js';

interface JsonRun {
  id: number; startedAt: string; finishedAt: string | null; status: string; imageCount: number; errorCount: number;
  newCount: number; changedCount: number; virtualSize: number; diskUsage: number; data: number; zero: number;
  preallocated: number; unallocated: number; findings: { error: number; warning: number; info: number };
}

describe.skipIf(!hasQemu)('imgaudit runs (e2e)', () => {
  let dir: string;
  let tree: ReportTree;
  let dbFile: string;
  let runs: JsonRun[];
  const cli = (...args: string[]) => runCli(['runs', '--db', dbFile, ...args], dir);

  beforeAll(() => {
    requireBuild();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-runs-e2e-'));
    tree = buildReportTree(dir);
    dbFile = path.join(dir, 'audit.db');
    scanTree(tree, dbFile);
    changeReportTree(tree);
    scanTree(tree, dbFile);
    // A run a crash left behind, as the next scan would have marked it.
    const db = new Database(dbFile);
    db.prepare(`INSERT INTO runs (started_at, status, pid, host, tool_version, roots, config, fingerprint, is_full)
      VALUES ('2026-01-01T00:00:00.000Z', 'interrupted', 1, 'h', 't', '[]', '{}', 'f', 0)`).run();
    db.close();
    runs = (JSON.parse(cli('--format', 'json').stdout) as { runs: JsonRun[] }).runs;
  }, 180_000);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('JSON: every run, oldest first, with counters, totals and findings; agrees with report', () => {
    expect(violations({ runs }, RUNS)).toEqual([]);
    expect(runs.map((r) => [r.id, r.status, r.imageCount, r.errorCount, r.newCount, r.changedCount])).toEqual([
      [1, 'complete', 15, 1, 15, 0], [2, 'complete', 15, 1, 1, 2], [3, 'interrupted', 0, 0, 0, 0],
    ]);
    expect(runs[1]!.findings).toEqual({ error: 1, warning: 0, info: 0 });
    const report = JSON.parse(runCli(['report', '--db', dbFile, '--format', 'json'], dir).stdout) as
      { totals: { virtualSize: number; diskUsage: number; unallocated: number; byDepth: { data: number; zero: number; preallocated: number }[] } };
    const sum = (key: 'data' | 'zero' | 'preallocated') => report.totals.byDepth.reduce((s, d) => s + d[key], 0);
    expect(runs[1]).toMatchObject({ virtualSize: report.totals.virtualSize, diskUsage: report.totals.diskUsage,
      unallocated: report.totals.unallocated, data: sum('data'), zero: sum('zero'), preallocated: sum('preallocated') });
  });

  it('text: exact, within 100 columns; --last N', () => {
    const rows = runs.map((r) => [String(r.id), time(r.startedAt), r.status, String(r.imageCount), String(r.errorCount),
      iec(r.virtualSize), iec(r.diskUsage), iec(r.data)]);
    const headers = ['id', 'started at', 'status', 'images', 'errors', 'virtual size', 'disk usage', 'data'];
    const right = [true, false, false, true, true, true, true, true];
    expect(cli().stdout).toBe(`${layout(headers, rows, right).join('\n')}\n`);
    expect(cli('--last', '1').stdout).toBe(`${layout(headers, rows.slice(-1), right).join('\n')}\n`);
  });

  it('CSV, markdown and HTML', () => {
    const csv = cli('--format', 'csv').stdout.split('\r\n');
    expect(csv[0]).toBe('id,started_at,finished_at,status,image_count,error_count,new_count,changed_count,virtual_size_bytes,'
      + 'disk_usage_bytes,data_bytes,zero_bytes,preallocated_bytes,unallocated_bytes,error_finding_count,warning_finding_count,'
      + 'info_finding_count,roots');
    const r = runs[1]!;
    expect(csv[2]).toBe([r.id, r.startedAt, r.finishedAt, r.status, r.imageCount, r.errorCount, r.newCount, r.changedCount,
      r.virtualSize, r.diskUsage, r.data, r.zero, r.preallocated, r.unallocated, 1, 0, 0, tree.roots.join(' ')].join(','));
    expect(cli('--format', 'markdown').stdout).toContain(`| 2 | ${time(r.startedAt)} | complete | 15 | 1 | ${iec(r.virtualSize)} |`);
    expect(cli('--format', 'html').stdout).toContain('<table class="sortable" id="t-runs">');
  });
});
