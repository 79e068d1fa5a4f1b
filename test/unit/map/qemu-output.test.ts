/**
 * qemu-img map's two output formats (src/map/qemu-output.ts), to the byte:
 * JSON punctuation and key order (7.2 and the 8.2 "compressed" key), the
 * human header and C's `%#-16x` columns (checked against the system printf,
 * a C-format oracle independent of our code), the refusal rule.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { EmittedEntry } from '../../../src/map/map-entries.js';
import type { MapEntry } from '../../../src/map/map-entry.js';
import {
  HUMAN_HEADER, HumanOutputRefused, JSON_CLOSE, JSON_OPEN, humanLine, jsonEntry,
} from '../../../src/map/qemu-output.js';

function entry(fields: Partial<MapEntry>): MapEntry {
  return {
    startBytes: 0, lengthBytes: 65536, depth: 0, present: true, zero: false, data: true, compressed: false,
    offsetBytes: undefined, filename: undefined, ...fields,
  };
}
const emitted = (fields: Partial<MapEntry>, isLast = false): EmittedEntry => ({ entry: entry(fields), isLast });

/** printf(3) through coreutils' printf: the C rendering of `format` for `value`. */
function cPrintf(format: string, value: number | bigint): string {
  const r = spawnSync('printf', [format, String(value)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`printf failed: ${r.stderr}`);
  return r.stdout;
}

describe('JSON', () => {
  it('prints keys in 7.2 order with "{ " and a closing "}" without a space', () => {
    const text = jsonEntry(emitted({ startBytes: 1, lengthBytes: 2, depth: 3, offsetBytes: 4 }, true), '7.2');
    expect(text).toBe('{ "start": 1, "length": 2, "depth": 3, "present": true, "zero": false, "data": true, "offset": 4}');
  });

  it('omits offset when the entry has none and prints booleans as true/false', () => {
    const text = jsonEntry(emitted({ present: false, zero: true, data: false }, true), '7.2');
    expect(text).toBe('{ "start": 0, "length": 65536, "depth": 0, "present": false, "zero": true, "data": false}');
  });

  it('follows every entry but the last with ",\\n"', () => {
    const entries = [emitted({ offsetBytes: 0 }), emitted({ startBytes: 65536 }), emitted({ startBytes: 131072 }, true)];
    const text = JSON_OPEN + entries.map((e) => jsonEntry(e, '7.2')).join('') + JSON_CLOSE;
    const lines = text.split('\n');
    expect(text.startsWith('[{ "start": 0,')).toBe(true);
    expect(text.endsWith('"data": true}]\n')).toBe(true);
    expect(lines).toHaveLength(4);
    expect(lines.slice(0, 2).every((line) => line.endsWith('},'))).toBe(true);
  });

  it('with compat 8.2 puts "compressed" after "data" and before "offset", on every entry', () => {
    const withOffset = jsonEntry(emitted({ offsetBytes: 327680 }, true), '8.2');
    const compressed = jsonEntry(emitted({ compressed: true }, true), '8.2');
    expect(withOffset).toMatch(/"data": true, "compressed": false, "offset": 327680}$/);
    expect(compressed).toMatch(/"data": true, "compressed": true}$/);
    expect(jsonEntry(emitted({ compressed: true }, true), '7.2')).not.toContain('compressed');
  });

  // JavaScript's shortest round-trip form would print 144115188077953024 as
  // …020; the engine must print every digit, like C's PRId64.
  it('prints exact doubles above 2^54 with all their digits, like PRId64', () => {
    const value = 144115188077953024; // 2^57 + 2 MiB: exact as a double
    const text = jsonEntry(emitted({ startBytes: value, lengthBytes: value, offsetBytes: 0 }, true), '7.2');
    expect(text).toContain(`"start": ${BigInt(value)}, "length": ${BigInt(value)},`);
  });

  it('prints integers up to 2^53 exactly and the exact start of an empty range beyond', () => {
    const big = 2 ** 53 - 1;
    expect(jsonEntry(emitted({ startBytes: big, lengthBytes: big, offsetBytes: big }, true), '7.2'))
      .toContain(`"start": ${big}, "length": ${big},`);
    const empty: EmittedEntry = { entry: entry({ lengthBytes: 0 }), isLast: true, startExact: (1n << 63n) - 1n };
    expect(jsonEntry(empty, '7.2')).toMatch(/^\{ "start": 9223372036854775807, "length": 0,/);
  });
});

describe('human', () => {
  it('has the header of three 16-wide left-justified words and File', () => {
    expect(HUMAN_HEADER).toBe(`${['Offset', 'Length', 'Mapped to'].map((w) => w.padEnd(16)).join('')}File\n`);
  });

  it.each([0, 1, 0xa, 0x1000, 0xffffffff, 2 ** 32, 2 ** 48, 2 ** 52 - 1, 2 ** 52, 2 ** 53 - 1])(
    'renders %d like C %%#-16x', (value) => {
      const line = humanLine(emitted({ startBytes: value, lengthBytes: value || 1, offsetBytes: value, filename: 'f' }));
      const expected = cPrintf('%#-16x', value) + cPrintf('%#-16x', value || 1) + cPrintf('%#-16x', value) + 'f\n';
      expect(line).toBe(expected);
    });

  it('prints zero without 0x and lets 2^52+ values touch the next column', () => {
    const line = humanLine(emitted({ startBytes: 2 ** 52, lengthBytes: 4096, offsetBytes: 0, filename: 'f' }));
    expect(line).toBe(`0x10000000000000${'0x1000'.padEnd(16)}${'0'.padEnd(16)}f\n`);
  });

  it('prints the file name unescaped', () => {
    const name = 'dir with space/ünï\tcode\\x.qcow2';
    expect(humanLine(emitted({ offsetBytes: 0, filename: name }))).toMatch(new RegExp(`${name.replace(/\\/g, '\\\\')}\\n$`));
  });

  it.each([
    ['zero', { zero: true, data: false, offsetBytes: 0 }],
    ['unallocated', { present: false, zero: true, data: false }],
    ['preallocated hole', { zero: true, data: true, offsetBytes: 4096 }],
    ['allocated but unused', { present: false, zero: true, data: false, offsetBytes: 4096 }],
  ])('prints nothing for a %s entry', (_name, fields) => {
    expect(humanLine(emitted(fields))).toBe('');
  });

  it('refuses data without an offset (compressed, encrypted), zero or not', () => {
    expect(() => humanLine(emitted({ data: true, offsetBytes: undefined }))).toThrow(HumanOutputRefused);
    expect(() => humanLine(emitted({ data: true, zero: true, offsetBytes: undefined }))).toThrow(HumanOutputRefused);
    expect(new HumanOutputRefused().message).toBe('File contains external, encrypted or compressed clusters.');
  });
});
