/**
 * qemu-img map's loop and merge rules (src/map/map-entries.ts, research §1.1,
 * §1.3, §1.4) on fake layers: which answers merge, the empty-range entry,
 * --start-offset/--max-length arithmetic, human-mode flag rewriting.
 */
import { describe, expect, it } from 'vitest';
import { type MapRangeOptions, mapEntries } from '../../../src/map/map-entries.js';
import type { ImageLayer } from '../../../src/formats/types.js';
import { fakeHostFile, fakeLayer } from './fake-layer.js';

const K = 1024;

/** Entries as [start, length, flags], flags = present/zero/data letters, plus offset/file when set. */
function run(layers: ImageLayer[], options: MapRangeOptions = {}) {
  const out = [...mapEntries(layers, options)];
  expect(out.map((e) => e.isLast)).toEqual(out.map((_, i) => i === out.length - 1));
  return out.map(({ entry: e }) => ({
    start: e.startBytes, length: e.lengthBytes, depth: e.depth,
    flags: `${e.present ? 'P' : '-'}${e.zero ? 'Z' : '-'}${e.data ? 'D' : '-'}`,
    ...(e.offsetBytes === undefined ? {} : { offset: e.offsetBytes }),
    ...(e.filename === undefined ? {} : { file: e.filename }),
  }));
}

describe('merging (entry_mergeable)', () => {
  it('merges host-contiguous data answered in small pieces', () => {
    const layer = fakeLayer({ size: 64 * K, answerBytes: 4 * K, extents: [{ start: 0, length: 64 * K, data: true, host: 1 << 20 }] });
    expect(run([layer])).toEqual([{ start: 0, length: 64 * K, depth: 0, flags: 'P-D', offset: 1 << 20, file: 'fake.img' }]);
  });

  it('splits data that is guest-contiguous but not host-contiguous', () => {
    const layer = fakeLayer({ size: 8 * K, extents: [
      { start: 0, length: 4 * K, data: true, host: 8 * K },
      { start: 4 * K, length: 4 * K, data: true, host: 16 * K },
    ] });
    expect(run([layer]).map((e) => [e.start, e.offset])).toEqual([[0, 8 * K], [4 * K, 16 * K]]);
  });

  it('splits host-contiguous data held by different files, although the JSON would look alike', () => {
    const other = fakeHostFile('other.raw', 1 << 20);
    const layer = fakeLayer({ size: 8 * K, extents: [
      { start: 0, length: 4 * K, data: true, host: 0 },
      { start: 4 * K, length: 4 * K, data: true, host: 4 * K, file: other },
    ] });
    expect(run([layer]).map((e) => e.file)).toEqual(['fake.img', 'other.raw']);
  });

  it('merges offset-less answers wherever their data lives (compressed, encrypted)', () => {
    const layer = fakeLayer({ size: 12 * K, extents: [
      { start: 0, length: 4 * K, data: true, compressed: true },
      { start: 4 * K, length: 4 * K, data: true, compressed: true },
      { start: 8 * K, length: 4 * K, data: true },
    ] });
    expect(run([layer])).toEqual([{ start: 0, length: 12 * K, depth: 0, flags: 'P-D' }]);
    expect(run([layer], { mergeOnCompressed: true }).map((e) => e.length)).toEqual([8 * K, 4 * K]);
  });

  it('splits on offset presence, present, zero and data', () => {
    const layer = fakeLayer({ size: 20 * K, extents: [
      { start: 0, length: 4 * K, zero: true },
      { start: 4 * K, length: 4 * K, zero: true, host: 0 },
      { start: 12 * K, length: 4 * K, data: true, zero: true, host: 12 * K },
      { start: 16 * K, length: 4 * K, data: true, host: 16 * K },
    ] });
    expect(run([layer]).map((e) => e.flags)).toEqual(['PZ-', 'PZ-', '-Z-', 'PZD', 'P-D']);
  });

  it('splits on depth', () => {
    const top = fakeLayer({ name: 'top', size: 8 * K, extents: [{ start: 0, length: 4 * K, zero: true }] });
    const base = fakeLayer({ name: 'base', size: 8 * K, extents: [{ start: 0, length: 8 * K, zero: true }] });
    expect(run([top, base]).map((e) => [e.start, e.depth, e.flags])).toEqual([[0, 0, 'PZ-'], [4 * K, 1, 'PZ-']]);
  });
});

describe('range and the empty entry', () => {
  const layer = fakeLayer({ size: 64 * K, extents: [{ start: 0, length: 64 * K, data: true, host: 0 }] });
  const empty = (start: number) => [{ start, length: 0, depth: 0, flags: '---' }];

  it('prints one zero-length entry at the start offset when nothing is mapped', () => {
    expect(run([layer], { startOffsetBytes: 64n * 1024n })).toEqual(empty(64 * K));
    expect(run([layer], { startOffsetBytes: 100n, maxLengthBytes: 0n })).toEqual(empty(100));
    expect(run([fakeLayer({ size: 0 })])).toEqual(empty(0));
  });

  it('wraps start + max-length like int64 (then nothing is mapped)', () => {
    expect(run([layer], { startOffsetBytes: 1n, maxLengthBytes: (1n << 63n) - 1n })).toEqual(empty(1));
  });

  it('keeps the exact start of an empty range beyond 2^53', () => {
    const start = (1n << 63n) - 1n;
    const [only] = [...mapEntries([layer], { startOffsetBytes: start })];
    expect(only?.startExact).toBe(start);
  });

  it('starts exactly at an unaligned offset and stops at min(start + max, size)', () => {
    expect(run([layer], { startOffsetBytes: 100n, maxLengthBytes: 1000n }))
      .toEqual([{ start: 100, length: 1000, depth: 0, flags: 'P-D', offset: 100, file: 'fake.img' }]);
    expect(run([layer], { startOffsetBytes: 100n, maxLengthBytes: 1n << 40n })[0]?.length).toBe(64 * K - 100);
  });
});

describe('human-mode rewriting', () => {
  // data, then a preallocated hole (data+zero) and a zero-allocated cluster right after it on the host
  const layer = fakeLayer({ size: 12 * K, extents: [
    { start: 0, length: 4 * K, data: true, host: 0 },
    { start: 4 * K, length: 4 * K, data: true, zero: true, host: 4 * K },
    { start: 8 * K, length: 4 * K, zero: true, host: 8 * K },
  ] });

  it('rewrites entries after a dumped one to zero-only, so they coalesce', () => {
    expect(run([layer]).map((e) => e.flags)).toEqual(['P-D', 'PZD', 'PZ-']);
    expect(run([layer], { humanRewrite: true })).toEqual([
      { start: 0, length: 4 * K, depth: 0, flags: 'P-D', offset: 0, file: 'fake.img' },
      { start: 4 * K, length: 8 * K, depth: 0, flags: 'PZ-', offset: 4 * K, file: 'fake.img' },
    ]);
  });

  it('never rewrites the first extent', () => {
    const first = fakeLayer({ size: 8 * K, extents: [{ start: 0, length: 4 * K, data: true, zero: true }] });
    expect(run([first], { humanRewrite: true }).map((e) => e.flags)).toEqual(['PZD', '-Z-']);
  });

  it('leaves data-and-not-zero entries alone', () => {
    const two = fakeLayer({ size: 8 * K, extents: [
      { start: 0, length: 4 * K, zero: true },
      { start: 4 * K, length: 4 * K, data: true, host: 0 },
    ] });
    expect(run([two], { humanRewrite: true }).map((e) => e.flags)).toEqual(['PZ-', 'P-D']);
  });
});
