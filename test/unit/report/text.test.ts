import { describe, expect, it } from 'vitest';
import { renderMarkdown } from '../../../src/report/render/markdown.js';
import { renderText, tableLines } from '../../../src/report/render/text.js';
import { type Document, type Table, columnOf } from '../../../src/report/table.js';
import { depthTable } from './fixtures.js';

const MiB = 1 << 20;
const human = { isExactBytes: false, pathBase: '/srv/images' };

function imageTable(paths: string[]): Table {
  return {
    name: 'by-image', title: 'Images',
    columns: ['path', 'layers', 'virtual_size_bytes', 'disk_usage_bytes', 'data_bytes', 'zero_bytes', 'preallocated_bytes',
      'error_code'].map((key) => columnOf(key, { isDetail: key === 'error_code' })),
    rows: paths.map((p, i) => [p, i + 1, 64 * MiB, 1234567 * (i + 1), 3 * MiB, 0, i === 0 ? null : 512,
      i === 1 ? 'E_BACKING_MISSING' : null]),
  };
}

describe('text tables', () => {
  it('renders tables of hundreds of thousands of rows (--by layer of 100,000 images) in text and markdown', () => {
    const paths = Array.from({ length: 300_000 }, (_, i) => `/srv/images/vm-${i}.qcow2`);
    const table = imageTable(paths);
    const doc: Document = { title: 'Images', meta: [], tables: [table], csvTable: table, pathBase: '/srv/images' };
    const text = renderText(doc, { isExactBytes: false, widthColumns: 100 }).split('\n');
    // Document title, blank line, table title, header, the rows, one detail line (row 2), the final newline.
    expect(text.length).toBe(4 + 300_000 + 1 + 1);
    expect(text.at(-2)).toMatch(/^vm-299999\.qcow2 +300000 /);
    expect(renderMarkdown(doc, { isExactBytes: false, widthColumns: 100 }).split('\n').length).toBeGreaterThan(300_000);
  });

  it('aligns numbers right and text left, IEC sizes, percentages, - for no value', () => {
    expect(tableLines(depthTable(), human, 100)).toEqual([
      'DEPTH  IMAGES     DATA     ZERO  PREALLOCATED  OF VIRTUAL %',
      '    0       2  4.0 MiB      0 B           0 B          3.1%',
      '    1       1  2.0 MiB  1.0 MiB           0 B          2.3%',
    ]);
  });

  it('--bytes prints exact integers', () => {
    expect(tableLines(depthTable(), { ...human, isExactBytes: true }, 100)).toEqual([
      'DEPTH  IMAGES     DATA     ZERO  PREALLOCATED  OF VIRTUAL %',
      '    0       2  4194304        0             0          3.1%',
      '    1       1  2097152  1048576             0          2.3%',
    ]);
  });

  it('shows paths relative to the base, detail columns below their row', () => {
    expect(tableLines(imageTable(['/srv/images/a.qcow2', '/srv/images/vms/../b.qcow2', '/elsewhere/c.raw']), human, 100)).toEqual([
      'PATH              LAYERS  VIRTUAL SIZE  DISK USAGE     DATA  ZERO  PREALLOCATED',
      'a.qcow2                1      64.0 MiB     1.2 MiB  3.0 MiB   0 B             -',
      'b.qcow2                2      64.0 MiB     2.4 MiB  3.0 MiB   0 B         512 B',
      '    E_BACKING_MISSING',
      '/elsewhere/c.raw       3      64.0 MiB     3.5 MiB  3.0 MiB   0 B         512 B',
    ]);
  });

  it('leaves out a detail that repeats the row\'s own path (a layer at depth 0)', () => {
    const table: Table = {
      name: 'by-layer', title: 'Layers',
      columns: ['path', 'depth', 'layer_path'].map((key) => columnOf(key, { isDetail: key === 'layer_path' })),
      rows: [['/srv/images/a.qcow2', 0, '/srv/images/a.qcow2'], ['/srv/images/a.qcow2', 1, '/srv/images/base.qcow2']],
    };
    expect(tableLines(table, human, 100)).toEqual(['PATH     DEPTH', 'a.qcow2      0', 'a.qcow2      1', '    base.qcow2']);
  });

  it('shortens long paths from the left to fit the width', () => {
    const long = `/srv/images/${'deep/'.repeat(12)}disk.qcow2`;
    const lines = tableLines(imageTable([long]), human, 100);
    expect(lines.every((line) => line.length <= 100)).toBe(true);
    expect(lines[1]).toMatch(/^\.\.\.[a-z/]+\/deep\/disk\.qcow2 +1 /);
    expect(lines[1]!.indexOf(' 1 ')).toBe(lines[0]!.indexOf('LAYERS') + 'LAYERS'.length - 2);
  });

  it('moves paths to their own line when the numbers leave too little room', () => {
    const long = `/srv/images/${'deep/'.repeat(12)}disk.qcow2`;
    const lines = tableLines(imageTable([long, '/srv/images/b.qcow2']), { ...human, isExactBytes: true }, 80);
    expect(lines.every((line) => line.length <= 80)).toBe(true);
    expect(lines).toEqual([
      'PATH',
      '  LAYERS  VIRTUAL SIZE  DISK USAGE     DATA  ZERO  PREALLOCATED',
      `${'deep/'.repeat(12)}disk.qcow2`,
      '       1      67108864     1234567  3145728     0             -',
      'b.qcow2',
      '       2      67108864     2469134  3145728     0           512',
      '    E_BACKING_MISSING',
    ]);
  });

  it('says (none) for a table without rows', () => {
    expect(tableLines({ ...depthTable(), rows: [] }, human, 100)).toEqual(['(none)']);
  });

  it('renders a document: title, aligned meta, titled tables, notes', () => {
    const doc: Document = {
      title: 'imgaudit report: run #7',
      meta: [{ label: 'run', value: '#7 (complete)' }, { label: 'roots', value: '/srv/images' }],
      tables: [depthTable()],
      csvTable: depthTable(),
      pathBase: '/srv/images',
      notes: ['one note'],
    };
    expect(renderText(doc, { isExactBytes: false, widthColumns: 100 })).toBe([
      'imgaudit report: run #7',
      'run    #7 (complete)',
      'roots  /srv/images',
      '',
      'Bytes per chain depth',
      'DEPTH  IMAGES     DATA     ZERO  PREALLOCATED  OF VIRTUAL %',
      '    0       2  4.0 MiB      0 B           0 B          3.1%',
      '    1       1  2.0 MiB  1.0 MiB           0 B          2.3%',
      '',
      'one note',
      '',
    ].join('\n'));
  });

  it('wraps long detail messages within the width', () => {
    const table: Table = {
      name: 'findings', title: '', columns: ['code', 'message'].map((k) => columnOf(k, { isDetail: k === 'message' })),
      rows: [['E_X', `${'word '.repeat(40)}end`]],
    };
    const lines = tableLines(table, human, 40);
    expect(lines[0]).toBe('CODE');
    expect(lines.slice(2).every((line) => line.startsWith('    ') && line.length <= 40)).toBe(true);
    expect(lines.slice(2).join(' ').replace(/ +/g, ' ').trim()).toBe(`${'word '.repeat(40)}end`);
  });

  it('cuts a path longer than the line after a slash, never inside a name', () => {
    const long = '/srv/tenants/7f3c2a9e-4b1d-4c5e-9a8f-0123456789ab/instances/5d1e0c7a-2f4b-49a1-8e3d-abcdef012345/disk.qcow2';
    const table: Table = {
      name: 'findings', title: '', columns: ['code', 'message'].map((k) => columnOf(k, { isDetail: k === 'message' })),
      rows: [['E_BACKING_MISSING', `Could not open '${long}': No such file or directory`]],
    };
    const lines = tableLines(table, human, 60).slice(2).map((line) => line.trim());
    expect(lines).toEqual([
      'Could not open',
      "'/srv/tenants/7f3c2a9e-4b1d-4c5e-9a8f-0123456789ab/",
      'instances/5d1e0c7a-2f4b-49a1-8e3d-abcdef012345/',
      "disk.qcow2': No such file or directory",
    ]);
  });
});
