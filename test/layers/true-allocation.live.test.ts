/**
 * True preallocation on the temp file system (ext4 here): images made with
 * each preallocation mode and some written data are measured by
 * `trueAllocation` / `measureLayer`, and the figures are recomputed
 * independently from qemu-img's own map of the layer alone (`json:` with
 * `"backing": null`), SPEC §3's table re-stated here, and `filefrag -v`'s
 * unwritten extents. Known figures are asserted as well where the layout
 * is fixed (fallocate(1) + one write).
 *
 * `preallocation=full` writes real zeroes: the file system cannot tell them
 * from data, so they stay data (documented in own-allocation.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostExtents, unwrittenExtents } from '../../src/io/extents.js';
import { type CategoryBytes, layerAloneEntries, measureLayer, ownAllocation, trueAllocation } from '../../src/map/own-allocation.js';
import { hasQemu } from '../support/qemu.js';
import { filefragMapped, filefragUnwritten, hasFilefrag } from './filefrag.js';
import { type QemuEntry, oursAloneMap, parseQemuMap, qemuAloneMap, settle, shell, tempDir } from './support.js';

const K = 1024;
const M = 1024 * K;
let dir: string;

const qio = (fmt: string, file: string, ops: string[]): string =>
  `qemu-io -f ${fmt} ${ops.map((op) => `-c '${op}'`).join(' ')} ${file} >/dev/null`;

/** SPEC §3's table, restated for present entries (the test's own reading of the rules). */
function specCategory(e: QemuEntry, isRaw: boolean): keyof CategoryBytes {
  if (e.data && !e.zero) return 'dataBytes';
  if (e.offset !== undefined && !isRaw) return 'preallocatedBytes';
  return 'zeroBytes';
}

/** Bytes of [from, to) inside the ranges, by plain interval intersection. */
function covered(ranges: { offsetBytes: number; lengthBytes: number }[], from: number, to: number): number {
  let sum = 0;
  for (const r of ranges) sum += Math.max(0, Math.min(to, r.offsetBytes + r.lengthBytes) - Math.max(from, r.offsetBytes));
  return sum;
}

/**
 * Own and true figures from qemu-img's map and filefrag's extent list of
 * `hostFile`: unwritten host bytes are preallocated; bytes SPEC §3 calls
 * preallocated whose host range is a hole hold no space and are zero.
 */
function independent(entries: QemuEntry[], isRaw: boolean, hostFile: string): { own: CategoryBytes; true: CategoryBytes } {
  const unwritten = filefragUnwritten(hostFile);
  const mapped = filefragMapped(hostFile);
  const own: CategoryBytes = { dataBytes: 0, zeroBytes: 0, preallocatedBytes: 0 };
  const truly: CategoryBytes = { dataBytes: 0, zeroBytes: 0, preallocatedBytes: 0 };
  for (const e of entries) {
    if (!e.present || e.depth !== 0) continue;
    const category = specCategory(e, isRaw);
    own[category] += e.length;
    if (category === 'preallocatedBytes' && e.offset !== undefined) {
      const held = covered(mapped, e.offset, e.offset + e.length);
      truly.preallocatedBytes += held;
      truly.zeroBytes += e.length - held;
      continue;
    }
    const held = e.offset === undefined ? 0 : covered(unwritten, e.offset, e.offset + e.length);
    truly.preallocatedBytes += held;
    truly[category] += e.length - held;
  }
  return { own, true: truly };
}

/** Relative data file names resolve against the image's directory (as scan does). */
const FROM_IMAGE_DIR = { dataFileFromImageDir: true };

interface Measured { own: CategoryBytes; true: CategoryBytes; qemu: QemuEntry[] }

/** Measures `file` both ways and checks they agree; returns our figures. */
function measure(file: string, format: string, hostFile = file): Measured {
  settle(dir);
  const qemu = qemuAloneMap(dir, file, format);
  expect(qemu.stderr).toBe('');
  expect(oursAloneMap(dir, file, format), `${file}: map alone`).toBe(qemu.stdout);
  const entries = parseQemuMap(qemu.stdout);
  const isRaw = format === 'raw';
  const abs = path.join(dir, file);
  const own = ownAllocation(layerAloneEntries(abs, format, FROM_IMAGE_DIR), isRaw);
  const extents = hostExtents(path.join(dir, hostFile));
  const truly = trueAllocation(layerAloneEntries(abs, format, FROM_IMAGE_DIR), isRaw, extents?.unwritten ?? [], extents?.mapped);
  const expected = independent(entries, isRaw, path.join(dir, hostFile));
  expect(own, `${file}: own allocation vs qemu-img map`).toEqual(expected.own);
  expect(truly, `${file}: true allocation vs qemu-img map + filefrag`).toEqual(expected.true);
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    const both = measureLayer(file, format, FROM_IMAGE_DIR);
    expect(both.own).toEqual(own);
    expect(both.true).toEqual(truly);
    expect(both.fileSystemTells).toBe(true);
  } finally {
    process.chdir(cwd);
  }
  const virtual = entries.reduce((sum, e) => sum + e.length, 0);
  const sum = (c: CategoryBytes) => c.dataBytes + c.zeroBytes + c.preallocatedBytes;
  const ownBytes = entries.filter((e) => e.present && e.depth === 0).reduce((s, e) => s + e.length, 0);
  expect(sum(truly)).toBe(ownBytes);
  expect(ownBytes).toBeLessThanOrEqual(virtual);
  return { own, true: truly, qemu: entries };
}

let unwrittenKnown = false;
beforeAll(() => {
  dir = tempDir('prealloc');
  fs.writeFileSync(path.join(dir, 'probe'), '');
  shell(dir, ['fallocate -l 64K probe']);
  unwrittenKnown = (unwrittenExtents(path.join(dir, 'probe')) ?? []).length > 0;
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!hasQemu || !hasFilefrag)('true allocation: preallocation modes on the temp file system', () => {
  it('raw made by fallocate(1), 64 MiB with 1 MiB written: 63 MiB preallocated, 1 MiB data', (ctx) => {
    if (!unwrittenKnown) ctx.skip();
    shell(dir, ['fallocate -l 64M fa.raw', qio('raw', 'fa.raw', ['write -P 1 3M 1M'])]);
    const m = measure('fa.raw', 'raw');
    // SEEK_DATA (so qemu-img map) may call a few pages of unwritten extents data when they sit in the
    // page cache (qemu's own probing reads cache them); FIEMAP's answer does not depend on the cache.
    expect(m.own.dataBytes + m.own.zeroBytes).toBe(64 * M);
    expect(m.own.dataBytes).toBeGreaterThanOrEqual(M);
    expect(m.true).toEqual({ dataBytes: M, zeroBytes: 0, preallocatedBytes: 63 * M });
  });

  for (const mode of ['off', 'falloc', 'full']) {
    it(`raw preallocation=${mode}, 64 MiB with 1 MiB written`, (ctx) => {
      if (!unwrittenKnown) ctx.skip();
      const file = `r-${mode}.raw`;
      shell(dir, [`qemu-img create -q -f raw -o preallocation=${mode} ${file} 64M`, qio('raw', file, ['write -P 1 3M 1M'])]);
      const m = measure(file, 'raw');
      const written = (e: QemuEntry) => e.data && !e.zero;
      // qemu-img create writes the first 4 KiB of a raw image (alignment probe); qemu-io wrote 1 MiB.
      if (mode === 'off') expect(m.true).toEqual(m.own);
      if (mode === 'falloc') {
        expect(m.own.dataBytes).toBe(m.qemu.filter(written).reduce((s, e) => s + e.length, 0));
        expect(m.own.preallocatedBytes).toBe(0); // SPEC §3: raw holes are zero, never preallocated
        expect(m.true).toEqual({ dataBytes: M + 4 * K, zeroBytes: 0, preallocatedBytes: 63 * M - 4 * K });
      }
      if (mode === 'full') expect(m.true).toEqual({ dataBytes: 64 * M, zeroBytes: 0, preallocatedBytes: 0 });
    });
  }

  for (const mode of ['off', 'metadata', 'falloc', 'full']) {
    it(`qcow2 preallocation=${mode}, 16 MiB with 1 MiB written and a zero write`, (ctx) => {
      if (!unwrittenKnown) ctx.skip();
      const file = `q-${mode}.qcow2`;
      shell(dir, [`qemu-img create -q -f qcow2 -o preallocation=${mode} ${file} 16M`, qio('qcow2', file, ['write -P 1 1M 1M', 'write -z 4M 64k'])]);
      const m = measure(file, 'qcow2');
      if (mode === 'off') {
        expect(m.own).toEqual({ dataBytes: M, zeroBytes: 64 * K, preallocatedBytes: 0 });
        expect(m.true).toEqual(m.own);
      }
      if (mode === 'metadata') {
        // Every cluster is mapped (SPEC §3 preallocated), but its host range is a hole: no space is held.
        expect(m.own).toEqual({ dataBytes: M, zeroBytes: 0, preallocatedBytes: 15 * M });
        expect(m.true).toEqual({ dataBytes: M, zeroBytes: 15 * M, preallocatedBytes: 0 });
      }
      if (mode === 'falloc') {
        // qemu-img map calls every fallocated cluster data; FIEMAP knows which were never written.
        expect(m.own).toEqual({ dataBytes: 16 * M - 64 * K, zeroBytes: 0, preallocatedBytes: 64 * K });
        expect(m.true).toEqual({ dataBytes: M, zeroBytes: 0, preallocatedBytes: 15 * M });
      }
      if (mode === 'full') {
        // Real zeroes were written: the file system cannot tell them from data.
        expect(m.true).toEqual(m.own);
        expect(m.own).toEqual({ dataBytes: 16 * M - 64 * K, zeroBytes: 0, preallocatedBytes: 64 * K });
      }
    });
  }

  it('qcow2 with an external data file, preallocation=falloc: extents are read from the data file', (ctx) => {
    if (!unwrittenKnown) ctx.skip();
    shell(dir, ['qemu-img create -q -f qcow2 -o data_file=dfa.raw,preallocation=falloc dfa.qcow2 8M', qio('qcow2', 'dfa.qcow2', ['write -P 1 2M 512k'])]);
    const m = measure('dfa.qcow2', 'qcow2', 'dfa.raw');
    expect(m.own).toEqual({ dataBytes: 8 * M, zeroBytes: 0, preallocatedBytes: 0 });
    // Creating the data file wrote its first 4 KiB (as for any raw file qemu-img creates).
    expect(m.true).toEqual({ dataBytes: 512 * K + 4 * K, zeroBytes: 0, preallocatedBytes: 8 * M - 512 * K - 4 * K });
  });
});
