/**
 * Runs of unallocated L2 entries, which the qcow2 reader skips many at a
 * time (a memcmp against zeroes whose length doubles while the run lasts and
 * halves at a non-zero entry): an allocated cluster at every distance around
 * the run lengths it compares (16 ... 8,192 entries), and entries that are
 * not all-zero words but still unallocated (reserved bits QEMU masks), must
 * map exactly as the declared layout says.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClusterSpec, buildQcow2 } from '../../../support/qcow2-builder.js';
import { declaredMap } from '../../../support/qcow2-model.js';
import { libraryMap } from '../../../support/imgaudit.js';

const CLUSTER = 65536;
const L2_ENTRIES = CLUSTER / 8;

let dir: string;
beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-zero-runs-')); });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('runs of unallocated entries', () => {
  // Distances from the start of an L2 table (and from the entry before) around every compared run length.
  const distances = [1, 2, 15, 16, 17, 31, 32, 33, 47, 48, 49, 63, 64, 65, 127, 128, 129, 255, 256, 257, 1000, 4095, 4096, 4097,
    8190, 8191];

  it.each(distances)('an allocated cluster %i entries into an otherwise empty L2 table', (distance) => {
    const clusters: ClusterSpec[] = [{ guest: (L2_ENTRIES + distance) * CLUSTER, kind: 'data' }];
    const built = buildQcow2(path.join(dir, `one-${distance}.qcow2`), { virtualSize: 3 * L2_ENTRIES * CLUSTER, clusterBits: 16, clusters });
    expect(libraryMap(built.path)).toEqual(declaredMap(built));
  });

  it('allocated clusters at growing and shrinking gaps within one table', () => {
    const clusters: ClusterSpec[] = [];
    let index = 0;
    for (const gap of [...distances, ...[...distances].reverse()]) {
      index += gap;
      if (index >= 2 * L2_ENTRIES) break;
      clusters.push({ guest: index * CLUSTER, kind: clusters.length % 3 === 0 ? 'zero' : 'data' });
    }
    const built = buildQcow2(path.join(dir, 'gaps.qcow2'), { virtualSize: 2 * L2_ENTRIES * CLUSTER, clusterBits: 16, clusters });
    expect(libraryMap(built.path)).toEqual(declaredMap(built));
  });

  it('an unallocated entry with reserved bits set ends the fast skip but not the run', () => {
    const built = buildQcow2(path.join(dir, 'reserved.qcow2'), {
      virtualSize: 2 * L2_ENTRIES * CLUSTER, clusterBits: 16, clusters: [{ guest: 5000 * CLUSTER, kind: 'data' }],
    });
    const expected = libraryMap(built.path);
    // Set reserved bits (1-8 of the low word: neither offset nor the zero flag) of entry 300 of the first L2 table.
    const image = fs.readFileSync(built.path);
    const l1Offset = Number(image.readBigUInt64BE(40));
    const l2Offset = Number(image.readBigUInt64BE(l1Offset) & 0x00fffffffffffe00n);
    expect(image.readBigUInt64BE(l2Offset + 300 * 8)).toBe(0n);
    image.writeUInt32BE(0x000000fe, l2Offset + 300 * 8 + 4);
    fs.writeFileSync(built.path, image);
    expect(libraryMap(built.path)).toEqual(expected);
  });
});
