/**
 * The metadata-preallocation heuristic (src/formats/qcow2/preallocation.ts;
 * research §3.2.7, qcow2_detect_metadata_preallocation): refcounted host
 * clusters below the file's end vs the threshold max(real × 10/9, real + 2)
 * from st_blocks — with hand-made refcount tables of every width, then on
 * built images, checked against qemu-img when it is installed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Qcow2Header } from '../../../../src/formats/qcow2/header.js';
import { looksMetadataPreallocated } from '../../../../src/formats/qcow2/preallocation.js';
import type { HostFile } from '../../../../src/io/host-file.js';
import { buildQcow2, type ClusterSpec } from '../../../support/qcow2-builder.js';
import { declaredMap, looksPreallocated, toQemuJson } from '../../../support/qcow2-model.js';
import { hasDist, libraryMap, runCli } from '../../../support/imgaudit.js';
import { hasQemu, qemuMap } from '../../../support/qemu.js';

const CS = 4096;

/** A file of `clusters` clusters whose refcount block (at cluster 1) marks `refcounted` clusters. */
function setup(order: number, refcounted: number[], opts: { clusters?: number; realClusters?: number; value?: bigint } = {}) {
  const bits = 2 ** order;
  const block = Buffer.alloc(CS);
  for (const index of refcounted) {
    const value = opts.value ?? 1n;
    if (bits >= 8) {
      const width = bits / 8;
      for (let b = 0; b < width; b++) block[index * width + b] = Number((value >> BigInt(8 * (width - 1 - b))) & 0xffn);
    } else {
      block[Math.floor((index * bits) / 8)]! |= Number(value & BigInt(2 ** bits - 1)) << ((index * bits) % 8);
    }
  }
  const table = Buffer.alloc(CS);
  table.writeBigUInt64BE(BigInt(CS), 0);
  const clusters = opts.clusters ?? 64;
  const file = {
    lengthBytes: clusters * CS, sizeBytes: clusters * CS, allocatedBytes: (opts.realClusters ?? 0) * CS,
    readAt: (offset: number, length: number) => (offset === CS ? block.subarray(0, length) : Buffer.alloc(length)),
  } as unknown as HostFile;
  const header = { clusterSizeBytes: CS, refcountOrder: order } as Qcow2Header;
  return () => looksMetadataPreallocated(file, header, () => table);
}

const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);

describe('threshold', () => {
  it.each([
    [0, 2], [1, 3], [8, 10], [9, 11], [17, 19], [18, 20], [19, 21], [27, 30], [30, 33], [40, 44],
  ])('with %d real clusters, %d refcounted clusters are needed', (real, threshold) => {
    expect(setup(4, range(threshold - 1), { realClusters: real, clusters: 256 })()).toBe(false);
    expect(setup(4, range(threshold), { realClusters: real, clusters: 256 })()).toBe(true);
  });

  it('counts only clusters below the end of the file', () => {
    expect(setup(4, range(10, 60), { clusters: 64 })()).toBe(true);
    expect(setup(4, range(10, 60), { clusters: 61 })()).toBe(false);
    expect(setup(4, [0, 1, 70, 71, 72], { clusters: 64 })()).toBe(true);
    expect(setup(4, [0, 70, 71, 72], { clusters: 64 })()).toBe(false);
  });
});

describe.each([0, 1, 2, 3, 4, 5, 6])('refcount_order %d', (order) => {
  it('sees non-zero entries at any position, with a value of 1 or the widest value', () => {
    expect(setup(order, [0, 5, 63])()).toBe(true);
    expect(setup(order, [1, 2], { value: (1n << BigInt(2 ** order)) - 1n })()).toBe(true);
    expect(setup(order, [7])()).toBe(false);
  });

  it('does not mistake neighbouring entries for the counted ones', () => {
    // entries 64.. lie beyond a 64-cluster file; only entries 62 and 63 count
    expect(setup(order, [62, 64, 65, 66, 67])()).toBe(false);
  });
});

it('a most-significant-byte-only 64-bit refcount is non-zero', () => {
  expect(setup(6, [3, 4], { value: 1n << 56n })()).toBe(true);
});

it('an unaligned refcount block offset means "not preallocated" (QEMU: corruption, ignored)', () => {
  const check = setup(4, range(10));
  expect(check()).toBe(true);
  const table = Buffer.alloc(CS);
  table.writeBigUInt64BE(BigInt(CS + 512), 0);
  const file = { lengthBytes: 64 * CS, allocatedBytes: 0, readAt: (_o: number, l: number) => Buffer.alloc(l, 0xff) } as unknown as HostFile;
  expect(looksMetadataPreallocated(file, { clusterSizeBytes: CS, refcountOrder: 4 } as Qcow2Header, () => table)).toBe(false);
});

describe('on built images', () => {
  let dir: string;
  beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-prealloc-')); });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const holes = (n: number, from: number): ClusterSpec[] =>
    range(n).map((i) => ({ guest: (from + i) * 65536, kind: 'data', fill: i % 3 === 0 ? 0x11 : null }));

  it.each([
    ['all written (not preallocated)', 4, false, () => range(40).map((i): ClusterSpec => ({ guest: i * 65536, kind: 'data' }))],
    ['holes under clusters, 16-bit refcounts', 4, true, () => holes(40, 3)],
    ['holes under clusters, 1-bit refcounts', 0, true, () => holes(24, 0)],
    ['holes under clusters, 64-bit refcounts', 6, true, () => holes(24, 100)],
  ] as const)('%s: library (and qemu-img) follow the declared layout', (name, order, preallocated, clusters) => {
    const file = path.join(dir, `${name.replace(/\W+/g, '-')}.qcow2`);
    const built = buildQcow2(file, { virtualSize: 64 << 20, refcountOrder: order, clusters: clusters() });
    expect(looksPreallocated(built)).toBe(preallocated);
    expect(libraryMap(file)).toEqual(declaredMap(built));
    if (hasQemu && hasDist) {
      const qemu = qemuMap(['--output=json', file], dir);
      expect(qemu.stdout).toBe(toQemuJson(declaredMap(built)));
      expect(runCli(['map', '--output=json', file], dir).stdout).toBe(qemu.stdout);
    }
  });
});
