/**
 * The read planner of staged reads (src/io/read-plan.ts) and staging through
 * a whole chain walk (src/map/prefetch.ts over HostFile.stage): no byte of a
 * file is read twice, every table the walk needs is read ahead (none by the
 * synchronous walk), and the entries are those of the plain walk.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { HostFile } from '../../../src/io/host-file.js';
import { MAX_READ_BYTES, planReads } from '../../../src/io/read-plan.js';
import { ImageChain } from '../../../src/map/image-chain.js';
import { tempDir } from '../../support/imgaudit.js';
import { Rng } from '../../support/prng.js';
import { type ReadWatch, watchReads } from '../../support/watch-reads.js';
import { type ClusterSpec, buildQcow2 } from '../../support/qcow2-builder.js';

const dir = tempDir('read-plan');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Asserts that no byte lies in two of `reads`. */
function expectDisjoint(reads: readonly { offsetBytes: number; lengthBytes: number }[], what: string): void {
  const sorted = [...reads].sort((a, b) => a.offsetBytes - b.offsetBytes);
  for (let i = 1; i < sorted.length; i++) {
    const previous = sorted[i - 1]!;
    expect(sorted[i]!.offsetBytes, `${what}: read at ${sorted[i]!.offsetBytes} overlaps the one at ${previous.offsetBytes}`)
      .toBeGreaterThanOrEqual(previous.offsetBytes + previous.lengthBytes);
  }
}

describe('planReads', () => {
  it('reads every requested byte inside the file once, in reads of at most MAX_READ_BYTES (random ranges)', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const rng = new Rng(seed);
      const size = rng.int(1, 8 << 20);
      const unit = rng.pick([512, 4096, 65536]);
      const ranges = Array.from({ length: rng.int(0, 60) }, () => ({
        offsetBytes: rng.int(0, Math.floor((size + 4 * unit) / unit)) * unit, lengthBytes: rng.int(1, 8) * unit,
      }));
      // Duplicates and overlaps, as two L1 entries naming one table would make.
      if (ranges.length > 0) ranges.push({ ...ranges[0]! });
      const maxGap = rng.pick([0, 4096, 65536]);
      const reads = planReads(ranges, size, maxGap);
      expectDisjoint(reads, `seed ${seed}`);
      for (const read of reads) {
        expect(read.offsetBytes + read.lengthBytes).toBeLessThanOrEqual(size);
        // A range joins a read without overlapping it only while the read stays within MAX_READ_BYTES.
        const parts = [...read.parts].sort((a, b) => a.offsetBytes - b.offsetBytes);
        let end = parts[0]!.offsetBytes + parts[0]!.lengthBytes;
        for (const part of parts.slice(1)) {
          const partEnd = Math.min(size, part.offsetBytes + part.lengthBytes);
          if (part.offsetBytes >= end) expect(Math.max(end, partEnd) - read.offsetBytes).toBeLessThanOrEqual(MAX_READ_BYTES);
          end = Math.max(end, partEnd);
        }
        for (const part of read.parts) {
          expect(part.offsetBytes).toBeGreaterThanOrEqual(read.offsetBytes);
          expect(Math.min(size, part.offsetBytes + part.lengthBytes)).toBeLessThanOrEqual(read.offsetBytes + read.lengthBytes);
        }
      }
      const served = reads.flatMap((read) => read.parts);
      const inside = ranges.filter((range) => range.offsetBytes < size);
      expect(served.length, `seed ${seed}`).toBe(inside.length);
      // Bytes read that no range asked for are gaps of at most maxGap between ranges.
      for (const read of reads) {
        const parts = [...read.parts].sort((a, b) => a.offsetBytes - b.offsetBytes);
        let end = parts[0]!.offsetBytes;
        for (const part of parts) {
          expect(part.offsetBytes - end).toBeLessThanOrEqual(maxGap);
          end = Math.max(end, part.offsetBytes + part.lengthBytes);
        }
      }
    }
  });

  it('leaves out ranges at or past the end of the file and empty ranges', () => {
    expect(planReads([{ offsetBytes: 4096, lengthBytes: 512 }, { offsetBytes: 0, lengthBytes: 0 }], 4096)).toEqual([]);
    expect(planReads([{ offsetBytes: 3584, lengthBytes: 4096 }], 4096)).toEqual([
      { offsetBytes: 3584, lengthBytes: 512, parts: [{ offsetBytes: 3584, lengthBytes: 4096 }] }]);
  });
});

describe('staging a chain walk', () => {
  let watch: ReadWatch | undefined;
  afterEach(() => watch?.restore());

  /** Records every read of the files under `dir`, by path: [offset, length, sync?]. */
  function watchDir(): ReadWatch['reads'] {
    watch = watchReads(dir);
    return watch.reads;
  }

  /** An overlay of 2 GiB over a base, 4 KiB clusters (512 guest KiB per L2 table): hundreds of L2 tables. */
  function buildChain(seed: number): { top: string; l2: Map<string, number[]> } {
    const rng = new Rng(seed);
    const clusterBits = 12;
    const cs = 2 ** clusterBits;
    const virtualSize = 2 ** 31;
    const scattered = (n: number): ClusterSpec[] => {
      const guests = new Set<number>();
      while (guests.size < n) guests.add(rng.int(0, virtualSize / cs - 1) * cs);
      return [...guests].map((guest) => ({ guest, kind: rng.chance(0.8) ? 'data' as const : 'zero' as const }));
    };
    const base = buildQcow2(path.join(dir, `base-${seed}.qcow2`), { virtualSize, clusterBits, clusters: scattered(150) });
    const top = buildQcow2(path.join(dir, `top-${seed}.qcow2`), {
      virtualSize, clusterBits, clusters: scattered(250), backing: { name: `base-${seed}.qcow2`, format: 'qcow2' },
    });
    return { top: top.path, l2: new Map([[base.path, [...base.l2Offsets.values()]], [top.path, [...top.l2Offsets.values()]]]) };
  }

  it.each([1, 2, 3])('reads each table once, all of them ahead of the walk, in windows (seed %i)', async (seed) => {
    const { top, l2 } = buildChain(seed);
    const plain = ImageChain.open(top);
    const expected = [...plain.entriesSync()];
    plain.close();
    const reads = watchDir();
    const chain = ImageChain.open(top);
    const got: unknown[] = [];
    try {
      // Small windows: the walk pauses and stages many times.
      await chain.forEachEmitted({}, (emitted) => { got.push({ ...emitted.entry }); }, { maxReads: 7, maxBytes: 5 * 4096, stageAboveMicros: 0 });
    } finally {
      chain.close();
    }
    expect(got).toEqual(expected);
    for (const [file, tables] of l2) {
      const fileReads = reads.get(file) ?? [];
      expectDisjoint(fileReads, file);
      for (const table of tables) {
        const covering = fileReads.filter((r) => r.offsetBytes <= table && table < r.offsetBytes + r.lengthBytes);
        expect(covering.length, `${file}: L2 table at ${table}`).toBeLessThanOrEqual(1);
        for (const r of covering) expect(r.isSync, `${file}: L2 table at ${table} read by the walk itself`).toBe(false);
      }
    }
  });

  it('a file opened ahead (openAsync) has its head read once, without blocking', async () => {
    const { top } = buildChain(4);
    const reads = watchDir();
    const file = await HostFile.openAsync(top);
    const chain = ImageChain.open(top, { topFile: file });
    chain.close();
    const topReads = reads.get(top)!;
    expect(topReads.filter((r) => r.offsetBytes === 0)).toEqual([{ offsetBytes: 0, lengthBytes: 4096, isSync: false }]);
    expectDisjoint(topReads, top);
  });
});
