/** Markdown, HTML, JSON and Prometheus renderers over hand-built models. */
import { describe, expect, it } from 'vitest';
import { REPORT_RENDERERS, DEFAULT_RENDER_OPTIONS } from '../../../src/report/index.js';
import { reportDocument } from '../../../src/report/documents/report-document.js';
import { barChart } from '../../../src/report/render/html-chart.js';
import { humanCell } from '../../../src/report/render/cells.js';
import { renderHtml } from '../../../src/report/render/html.js';
import { type Table, columnOf, labelOf } from '../../../src/report/table.js';
import { reportJson, tableJson, toJson } from '../../../src/report/render/json.js';
import { renderMarkdown } from '../../../src/report/render/markdown.js';
import { renderPrometheus } from '../../../src/report/render/prometheus.js';
import { REPORT, violations } from './contract.js';
import { depthTable, reportModel } from './fixtures.js';

describe('markdown', () => {
  it('renders GitHub tables with right-aligned numbers', () => {
    const text = renderMarkdown(reportDocument(reportModel(), false), { isExactBytes: false });
    expect(text).toBe([
      '# imgaudit report: run #7',
      '',
      '- **run**: #7 (complete)',
      '- **started**: 2026-11-20 02:00:00Z',
      '- **finished**: 2026-11-20 02:03:04Z',
      '- **roots**: /srv/images',
      '- **images**: 3 (1 could not be mapped)',
      '- **growth since**: run #6',
      '',
      '## Bytes per chain depth',
      '',
      '| depth | images | data | zero | preallocated | of virtual % |',
      '|---:|---:|---:|---:|---:|---:|',
      '| 0 | 2 | 4.0 MiB | 0 B | 0 B | 3.1% |',
      '| 1 | 1 | 2.0 MiB | 1.0 MiB | 0 B | 2.3% |',
      '',
    ].join('\n'));
  });
});

describe('JSON', () => {
  it('follows the SPEC §2.3 contract exactly', () => {
    const value = JSON.parse(reportJson(reportModel())) as unknown;
    expect(violations(value, REPORT)).toEqual([]);
    expect(value).toMatchObject({
      run: { id: 7, status: 'complete', roots: ['/srv/images'], imageCount: 3, errorCount: 1 },
      totals: { virtualSize: 144 << 20, diskUsage: 5 << 20, unallocated: 121 << 20 },
    });
  });

  it('the validator rejects extra and missing keys and wrong types', () => {
    const value = JSON.parse(reportJson(reportModel())) as { run: Record<string, unknown>; images: Record<string, unknown>[] };
    value.run.extra = 1;
    delete value.images[0]!.backing;
    value.images[1]!.diskUsage = '196 KiB';
    expect(violations(value, REPORT)).toEqual([
      '$.run: unexpected keys extra',
      '$.images[0]: missing keys backing',
      '$.images[1].diskUsage: expected an integer >= 0, got "196 KiB"',
    ]);
  });

  it('writes one definition with camelCase keys and exact bigints', () => {
    const model = reportModel();
    const table = { ...depthTable(), rows: [[0, 1, 2n ** 60n, 0, 0, 1.5]] };
    expect(JSON.parse(tableJson(model, table).replace('1152921504606846976', '"big"'))).toMatchObject({
      report: 'by-depth', title: 'Bytes per chain depth',
      columns: [{ name: 'depth', type: 'integer' }, { name: 'imageCount', type: 'integer' }, { name: 'dataBytes', type: 'bytes' },
        { name: 'zeroBytes', type: 'bytes' }, { name: 'preallocatedBytes', type: 'bytes' }, { name: 'ofVirtualPct', type: 'percent' }],
      rows: [{ depth: 0, imageCount: 1, dataBytes: 'big', zeroBytes: 0, preallocatedBytes: 0, ofVirtualPct: 1.5 }],
    });
    expect(toJson({ n: 2n ** 64n })).toBe('{\n  "n": 18446744073709551616\n}\n');
  });
});

describe('HTML', () => {
  const page = REPORT_RENDERERS.html({ model: reportModel(), isOverview: true }, DEFAULT_RENDER_OPTIONS);

  it('is one self-contained page that cannot fetch anything', () => {
    expect(page.startsWith('<!DOCTYPE html>\n<html lang="en">')).toBe(true);
    expect(page).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">`);
    expect(page).not.toMatch(/\b(src|href)="(?!#)/);
    expect(page).not.toMatch(/https?:|url\(|@import/);
  });

  it('draws stacked bars per depth and category, with exact values in tooltips', () => {
    const svg = /<svg class="chart"[^]*?<\/svg>/.exec(page)![0];
    expect(svg.match(/<rect x="[\d.]+" y="\d+" width="[\d.]+" height="18"/g)).toHaveLength(3); // depth 0 data; depth 1 data + zero
    expect(svg).toContain('<title>1: data 2.0 MiB (2097152 bytes)</title>');
    expect(svg).toContain('<title>1: zero 1.0 MiB (1048576 bytes)</title>');
  });

  it('draws negative parts left of a zero line (deltas, shrinkage)', () => {
    const table = { name: 'd', title: 'Deltas', columns: ['depth', 'data_delta_bytes', 'zero_delta_bytes'].map((k) => columnOf(k)),
      rows: [[0, 3 << 20, -(1 << 20)], [1, -(2 << 20), 0]], chart: { seriesKeys: ['data_delta_bytes', 'zero_delta_bytes'], labelKey: 'depth' } };
    const svg = barChart(table, { isExactBytes: false, pathBase: null });
    const zero = Number(/<line x1="([\d.]+)"/.exec(svg)![1]);
    const rects = [...svg.matchAll(/<rect x="([\d.]+)" y="(\d+)" width="([\d.]+)" height="18" fill="[^"]+"><title>([^<]+)</g)]
      .map((m) => ({ x: Number(m[1]), width: Number(m[3]), title: m[4]! }));
    expect(rects.map((r) => r.title)).toEqual(['0: data delta +3.0 MiB (3145728 bytes)', '0: zero delta -1.0 MiB (-1048576 bytes)',
      '1: data delta -2.0 MiB (-2097152 bytes)']);
    expect(rects[0]!.x).toBeCloseTo(zero, 0);
    expect(rects[1]!.x + rects[1]!.width).toBeCloseTo(zero, 0);
    expect(rects[2]!.x + rects[2]!.width).toBeCloseTo(zero, 0);
    expect(rects[2]!.width).toBeCloseTo(2 * rects[1]!.width, 0);
    expect(svg).toContain('>+2.0 MiB</text>');
    expect(svg).toContain('>-2.0 MiB</text>');
  });

  it('makes sortable tables with exact sort keys', () => {
    expect(page).toContain('<table class="sortable" id="t-by-depth">');
    expect(page).toContain('<td class="num" data-v="4194304" title="4194304 bytes">4.0 MiB</td>');
    expect(page).toContain('<script>');
  });

  it('escapes what it shows', () => {
    const doc = reportDocument(reportModel({ run: { ...reportModel().run, roots: ['/srv/<img>&"x"'] } }), true);
    expect(renderHtml(doc, { isExactBytes: false })).toContain('<span>/</span><wbr><span>srv/</span><wbr><span>&lt;img&gt;&amp;&quot;x&quot;</span>');
  });

  it('wraps paths only at their separators, never codes; severities carry their colour class', () => {
    const table: Table = {
      name: 'findings', title: 'Findings',
      columns: [columnOf('severity'), columnOf('code'), columnOf('path'), columnOf('message')],
      rows: [['error', 'E_BACKING_MISSING', '/srv/vms/a.qcow2', "Could not open '/srv/vms/b.qcow2'"]],
    };
    const page = renderHtml({ title: 'imgaudit check', meta: [], tables: [table], csvTable: table, pathBase: '/srv' }, { isExactBytes: false });
    expect(page).toContain('<td class="code"><span class="sev sev-error">error</span></td>');
    expect(page).toContain('<td class="code">E_BACKING_MISSING</td>');
    expect(page).toContain('<td class="path"><span>vms/</span><wbr><span>a.qcow2</span></td>');
    expect(page).toContain("<td>Could not open <span>&#39;/</span><wbr><span>srv/</span><wbr><span>vms/</span><wbr><span>b.qcow2&#39;</span></td>");
    expect(page).toMatch(/td\.code,td\.time,td span[^{]*\{white-space:nowrap\}/);
    expect(page).not.toContain('break-all');
  });
});

describe('Prometheus', () => {
  it('writes bounded gauges in base units', () => {
    const text = renderPrometheus(reportModel());
    const samples = text.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
    expect(samples).toEqual([
      'imgaudit_depth_bytes{depth="0",category="data"} 4194304',
      'imgaudit_depth_bytes{depth="0",category="zero"} 0',
      'imgaudit_depth_bytes{depth="0",category="preallocated"} 0',
      'imgaudit_depth_bytes{depth="1",category="data"} 2097152',
      'imgaudit_depth_bytes{depth="1",category="zero"} 1048576',
      'imgaudit_depth_bytes{depth="1",category="preallocated"} 0',
      'imgaudit_unallocated_bytes 126877696',
      'imgaudit_virtual_size_bytes 150994944',
      'imgaudit_disk_usage_bytes 5242880',
      'imgaudit_images 3',
      'imgaudit_image_errors 1',
      'imgaudit_root_virtual_size_bytes{root="/srv/images"} 150994944',
      'imgaudit_root_disk_usage_bytes{root="/srv/images"} 5242880',
      'imgaudit_root_bytes{root="/srv/images",category="data"} 6291456',
      'imgaudit_root_bytes{root="/srv/images",category="zero"} 1048576',
      'imgaudit_root_bytes{root="/srv/images",category="preallocated"} 0',
      'imgaudit_root_bytes{root="/srv/images",category="unallocated"} 126877696',
      'imgaudit_root_images{root="/srv/images"} 3',
      'imgaudit_findings{code="E_BACKING_MISSING",severity="error"} 1',
      'imgaudit_run_id 7',
      'imgaudit_run_start_timestamp_seconds 1795140000',
      'imgaudit_last_success_timestamp_seconds 1795140184.5',
      'imgaudit_last_run_status{status="complete"} 1',
      'imgaudit_last_run_status{status="interrupted"} 0',
      'imgaudit_last_run_status{status="failed"} 0',
      'imgaudit_last_run_status{status="running"} 0',
    ]);
    for (const name of new Set(samples.map((line) => line.split(/[{ ]/)[0]!))) {
      expect(text).toContain(`# HELP ${name} `);
      expect(text).toContain(`# TYPE ${name} gauge\n`);
    }
  });

  it('sums deep depths into one bounded series', () => {
    const byDepth = Array.from({ length: 40 }, (_, depth) => ({ depth, dataBytes: 1, zeroBytes: 2, preallocatedBytes: 0 }));
    const model = reportModel();
    const text = renderPrometheus({ ...model, totals: { ...model.totals, byDepth } });
    const depths = new Set([...text.matchAll(/imgaudit_depth_bytes\{depth="([^"]+)"/g)].map((m) => m[1]));
    expect([...depths]).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8+']);
    expect(text).toContain('imgaudit_depth_bytes{depth="8+",category="data"} 32');
    expect(text).toContain('imgaudit_depth_bytes{depth="8+",category="zero"} 64');
  });
});

describe('header labels from column names', () => {
  it('drop the unit and pluralise a count without doubling a letter', () => {
    expect(labelOf('image_count')).toBe('images');
    expect(labelOf('steps_count')).toBe('steps');
    expect(labelOf('runs_count')).toBe('runs');
    expect(labelOf('changed_count')).toBe('changed');
    expect(labelOf('entry_count')).toBe('entries');
    expect(labelOf('match_count')).toBe('matches');
    expect(labelOf('error_finding_count')).toBe('error findings');
    expect(labelOf('disk_usage_bytes')).toBe('disk usage');
    expect(labelOf('of_virtual_pct')).toBe('of virtual %');
  });
});

describe('history chart', () => {
  it('a line whose axis starts where the data is, not at zero', () => {
    const GiB = 2 ** 30;
    const table: Table = {
      name: 'run-history', title: 'History',
      columns: [columnOf('run_id'), columnOf('disk_usage_bytes')],
      rows: [[1, 100 * GiB], [2, 101 * GiB], [3, 103 * GiB]],
      chart: { seriesKeys: ['disk_usage_bytes'], labelKey: 'run_id', plot: 'line' },
    };
    const svg = barChart(table, { isExactBytes: false, pathBase: null });
    expect(svg).toContain('<polyline');
    const ticks = [...svg.matchAll(/text-anchor="end">([^<]+)</g)].map((m) => m[1]);
    expect(ticks[0]).not.toBe('0 B');
    expect(ticks[0]).toMatch(/^(99|100)\.0 GiB$/);
    expect(ticks[ticks.length - 1]).toMatch(/^10[3-5]\.0 GiB$/);
    // The points span the plot's height: the lowest run near the bottom, the highest near the top.
    const ys = [...svg.matchAll(/<circle cx="[\d.]+" cy="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(ys[0]! - ys[2]!).toBeGreaterThan(100);
  });
});

describe('a list of roots', () => {
  it('shows each root relative to the base, separated by commas', () => {
    const roots = { key: 'roots', label: 'roots', kind: 'paths' as const };
    expect(humanCell(roots, '/srv/images /srv/images2 /other', { isExactBytes: false, pathBase: '/srv' })).toBe('images, images2, /other');
  });
});
