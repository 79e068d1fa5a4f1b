/**
 * The depth walk and the block layer's generic rules (src/map/chain-status.ts,
 * src/map/layer-status.ts; research §2.1, §3.1): fall-through, `present`,
 * shorter backing files, the range shrinking as the walk descends, request
 * alignment, RECURSE into host holes — on fake layers.
 */
import { describe, expect, it } from 'vitest';
import { CorruptImageError } from '../../../src/errors.js';
import { chainStatus } from '../../../src/map/chain-status.js';
import { mapEntries } from '../../../src/map/map-entries.js';
import type { ImageLayer } from '../../../src/formats/types.js';
import { type CallLog, fakeHostFile, fakeLayer } from './fake-layer.js';

const K = 1024;
const M = 1024 * K;

const status = (layers: ImageLayer[], offset: number, length: number) => {
  const e = chainStatus(layers, offset, length);
  return {
    length: e.lengthBytes, depth: e.depth, present: e.present, zero: e.zero, data: e.data,
    ...(e.offsetBytes === undefined ? {} : { offset: e.offsetBytes }),
  };
};
const entries = (layers: ImageLayer[]) => [...mapEntries(layers)].map(({ entry: e }) =>
  [e.startBytes, e.lengthBytes, e.depth, e.present, e.zero, e.data] as const);

describe('fall-through', () => {
  const base = fakeLayer({ name: 'base', size: 4 * M, extents: [{ start: 0, length: 4 * M, data: true, host: 0 }] });

  it('a layer without data or zero and without backing reads as zero, not present', () => {
    const alone = fakeLayer({ size: M });
    expect(status([alone], 0, M)).toEqual({ length: M, depth: 0, present: false, zero: true, data: false });
  });

  it('an unallocated range falls through to the backing, which answers with its own depth and offset', () => {
    const top = fakeLayer({ name: 'top', size: 4 * M });
    expect(status([top, base], 0, 4 * M)).toEqual({ length: 4 * M, depth: 1, present: true, zero: false, data: true, offset: 0 });
  });

  it('a range unallocated in the whole chain has the depth of the last layer', () => {
    const layers = [fakeLayer({ name: 'a', size: M }), fakeLayer({ name: 'b', size: M }), fakeLayer({ name: 'c', size: M })];
    expect(status(layers, 0, M)).toEqual({ length: M, depth: 2, present: false, zero: true, data: false });
  });

  it('beyond a shorter backing the upper layer answers, even if a deeper layer has data there', () => {
    const top = fakeLayer({ name: 'top', size: 2 * M });
    const mid = fakeLayer({ name: 'mid', size: M });
    const deep = fakeLayer({ name: 'deep', size: 2 * M, extents: [{ start: 0, length: 2 * M, data: true, host: 0 }] });
    expect(entries([top, mid, deep])).toEqual([[0, M, 2, true, false, true], [M, M, 0, false, true, false]]);
  });

  it('asks deeper layers only about the range the upper layer left open', () => {
    const calls: CallLog = [];
    const top = fakeLayer({ name: 'top', size: 4 * M, extents: [{ start: M, length: M, data: true, host: 0 }] });
    const deep = fakeLayer({ name: 'deep', size: 4 * M, extents: [{ start: 0, length: 4 * M, zero: true }] }, calls);
    expect(status([top, deep], 0, 4 * M)).toMatchObject({ length: M, depth: 1, zero: true });
    expect(calls).toEqual([[0, M]]);
  });

  it('discards an upper layer\'s allocated-but-unused offset when the walk goes on (S20)', () => {
    const top = fakeLayer({ name: 'top', size: M, extents: [{ start: 0, length: M, host: 5 * M }] });
    expect(status([top, base], 0, M)).toEqual({ length: M, depth: 1, present: true, zero: false, data: true, offset: 0 });
    expect(status([top], 0, M)).toEqual({ length: M, depth: 0, present: false, zero: true, data: false, offset: 5 * M });
  });

  it('a raw layer (no backing support) is present: holes are zero with an offset', () => {
    const raw = fakeLayer({ name: 'r.raw', format: 'raw', supportsBacking: false, size: M,
      extents: [{ start: 0, length: M, zero: true, host: 0 }] });
    const top = fakeLayer({ name: 'top', size: M });
    expect(status([top, raw], 0, M)).toEqual({ length: M, depth: 1, present: true, zero: true, data: false, offset: 0 });
  });

  it('a layer that covers no bytes is a typed error, not a loop', () => {
    const broken = fakeLayer({ size: M, answerBytes: 0 });
    expect(() => status([broken], 0, M)).toThrow(CorruptImageError);
  });
});

describe('request alignment', () => {
  it('widens an unaligned query to the alignment and narrows the answer back, offset included', () => {
    const calls: CallLog = [];
    const layer = fakeLayer({ size: 4 * K, requestAlignment: 512, extents: [{ start: 0, length: 4 * K, data: true, host: 8 * K }] }, calls);
    expect(status([layer], 100, 1000)).toEqual({ length: 1000, depth: 0, present: true, zero: false, data: true, offset: 8 * K + 100 });
    expect(calls).toEqual([[0, 1536]]);
  });
});

describe('RECURSE into the host file', () => {
  const host = fakeHostFile('h.qcow2', 192 * K, [[64 * K, 32 * K]]);
  const layer = fakeLayer({ name: 'h.qcow2', size: 256 * K, extents: [
    { start: 0, length: 128 * K, data: true, host: 32 * K, file: host, recurse: true },
    { start: 128 * K, length: 128 * K, data: true, host: 160 * K, file: host, recurse: true },
  ] });

  it('host holes under data read as zero (data stays true); host data stays data', () => {
    expect(entries([layer])).toEqual([
      [0, 32 * K, 0, true, true, true], [32 * K, 32 * K, 0, true, false, true], [64 * K, 192 * K, 0, true, true, true],
    ]);
    expect(status([layer], 64 * K, 64 * K)).toMatchObject({ length: 64 * K, zero: true, data: true, offset: 96 * K });
  });

  it('a hole that reaches the host file\'s end makes the whole answer zero (not only up to EOF)', () => {
    expect(status([layer], 128 * K, 128 * K)).toEqual({ length: 128 * K, depth: 0, present: true, zero: true, data: true, offset: 160 * K });
    expect(status([layer], 160 * K, 96 * K)).toEqual({ length: 96 * K, depth: 0, present: true, zero: true, data: true, offset: 192 * K });
  });

  it('does not recurse without the flag', () => {
    const plain = fakeLayer({ size: 64 * K, extents: [{ start: 0, length: 64 * K, data: true, host: 0, file: host }] });
    expect(status([plain], 0, 64 * K)).toMatchObject({ zero: false, data: true, length: 64 * K });
  });
});
