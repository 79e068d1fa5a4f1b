import { describe, expect, it } from 'vitest';
import { csvField, html, markdownCell, promLabel, terminalText } from '../../../src/report/escape.js';
import { csvTable } from '../../../src/report/render/csv.js';
import { columnOf } from '../../../src/report/table.js';
import { DEFAULT_SEED, Rng } from '../../support/prng.js';

/** An RFC 4180 parser, independent of the renderer (CRLF records, "" escapes). */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i += 2; continue; }
      if (c === '"') { quoted = false; i++; continue; }
      field += c; i++; continue;
    }
    if (c === '"' && field === '') { quoted = true; i++; continue; }
    if (c === ',') { record.push(field); field = ''; i++; continue; }
    if (c === '\r' && text[i + 1] === '\n') { record.push(field); records.push(record); record = []; field = ''; i += 2; continue; }
    if (c === '"' || c === '\n' || c === '\r') throw new Error(`bare ${JSON.stringify(c)} at ${i}`);
    field += c; i++;
  }
  if (field !== '' || record.length > 0) throw new Error('last record not terminated by CRLF');
  return records;
}

describe('CSV (RFC 4180)', () => {
  it('quotes only what needs quoting', () => {
    expect(csvField('plain/path.qcow2')).toBe('plain/path.qcow2');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('cr\rhere')).toBe('"cr\rhere"');
  });

  it('round-trips random strings through an independent parser', () => {
    const rng = new Rng(DEFAULT_SEED);
    const alphabet = ['a', 'Z', '0', ' ', ',', '"', '\n', '\r', '|', '\\', 'é', '\t', '/'];
    for (let n = 0; n < 300; n++) {
      const rows = Array.from({ length: rng.int(1, 4) }, () =>
        Array.from({ length: 3 }, () => Array.from({ length: rng.int(0, 11) }, () => rng.pick(alphabet)).join('')));
      const table = { name: 't', title: '', columns: ['path', 'note', 'x'].map((k) => columnOf(k)), rows };
      const parsed = parseCsv(csvTable(table));
      expect(parsed[0]).toEqual(['path', 'note', 'x']);
      expect(parsed.slice(1), JSON.stringify(rows)).toEqual(rows);
    }
  });

  it('writes numbers exactly, no value as an empty field, booleans as words', () => {
    const table = { name: 't', title: '', columns: ['a_bytes', 'b_pct', 'is_c', 'd'].map((k) => columnOf(k)),
      rows: [[9007199254740993n, 12.5, true, null], [0, null, false, 'x']] };
    expect(csvTable(table)).toBe('a_bytes,b_pct,is_c,d\r\n9007199254740993,12.5,true,\r\n0,,false,x\r\n');
  });
});

describe('markdown, HTML, Prometheus and terminal escaping', () => {
  it('keeps table cells in their cell', () => {
    expect(markdownCell('a|b')).toBe('a\\|b');
    expect(markdownCell('x\ny')).toBe('x<br>y');
    expect(markdownCell('*bold* _it_ `c` <b> a -> b')).toBe('\\*bold\\* \\_it\\_ \\`c\\` \\<b> a -> b');
    expect(markdownCell('back\\slash')).toBe('back\\\\slash');
  });

  it('escapes HTML text and attributes', () => {
    expect(html(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });

  it('escapes Prometheus label values', () => {
    expect(promLabel('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
  });

  it('shows control characters of file names visibly', () => {
    expect(terminalText('evil\n\x1b[31mname\t')).toBe('evil\\n\\x1b[31mname\\t');
  });
});
