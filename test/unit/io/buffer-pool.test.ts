/**
 * Table buffers reused across chains (src/io/buffer-pool.ts): a buffer given
 * back is taken again, a view into another buffer never is, the pool is
 * bounded; and many chains mapped one after another on one thread, staged
 * and not, with buffers going round the pool, give exactly the entries each
 * gives alone (no buffer is reused while a table still uses it).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { giveBack, pooledBytes, takeBuffer } from '../../../src/io/buffer-pool.js';
import { HostFile } from '../../../src/io/host-file.js';
import { ImageChain } from '../../../src/map/image-chain.js';
import { tempDir } from '../../support/imgaudit.js';
import { Rng } from '../../support/prng.js';
import { type ClusterSpec, buildQcow2 } from '../../support/qcow2-builder.js';

const dir = tempDir('buffer-pool');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('the pool', () => {
  it('gives a buffer back out, of its size only', () => {
    const buffer = Buffer.allocUnsafe(65536);
    giveBack(buffer);
    expect(takeBuffer(32768)).not.toBe(buffer);
    expect(takeBuffer(65536)).toBe(buffer);
    expect(takeBuffer(65536)).not.toBe(buffer);
  });

  it('keeps no view into another buffer, nor small buffers', () => {
    const whole = Buffer.allocUnsafe(4 * 65536);
    const before = pooledBytes();
    giveBack(whole.subarray(65536, 2 * 65536));
    giveBack(Buffer.allocUnsafe(512));
    expect(pooledBytes()).toBe(before);
  });

  it('is bounded in bytes', () => {
    for (let i = 0; i < 1000; i++) giveBack(Buffer.allocUnsafe(65536));
    expect(pooledBytes()).toBeLessThanOrEqual(16 * 1024 * 1024);
  });
});

/** Empties the pool (of the sizes these tests use). */
function drain(): void {
  for (const size of [65536, 4096]) {
    for (let kept = pooledBytes(); ; kept = pooledBytes()) {
      takeBuffer(size);
      if (pooledBytes() === kept) break;
    }
  }
}

describe('a host file and the pool', () => {
  beforeEach(drain);
  function fileOf(name: string): string {
    const file = path.join(dir, name);
    fs.writeFileSync(file, Buffer.alloc(8 * 65536, 5));
    return file;
  }

  it('a staged range handed out by readAt is not given back; one copied out or dropped is', async () => {
    const file = await HostFile.openAsync(fileOf('staged.bin'));
    try {
      await file.stage([{ offsetBytes: 65536, lengthBytes: 65536 }, { offsetBytes: 3 * 65536, lengthBytes: 65536 },
        { offsetBytes: 5 * 65536, lengthBytes: 65536 }]);
      const handed = file.readAt(65536, 65536);
      expect(takeBuffer(65536)).not.toBe(handed);
      const before = pooledBytes();
      file.readInto(Buffer.allocUnsafe(4096), 3 * 65536); // copied out: its buffer is free
      file.unstage(5 * 65536); // dropped: its buffer is free
      expect(pooledBytes()).toBe(before + 2 * 65536);
      expect(handed.every((byte) => byte === 5)).toBe(true);
    } finally {
      file.close();
    }
  });

  it('a closed file gives back what it still had staged', async () => {
    const file = await HostFile.openAsync(fileOf('closed.bin'));
    await file.stage([{ offsetBytes: 2 * 65536, lengthBytes: 65536 }]);
    const before = pooledBytes();
    file.close();
    expect(pooledBytes()).toBe(before + 65536);
  });
});

describe('chains mapped one after another on one thread', () => {
  /** Chains of 4 KiB clusters (hundreds of L2 tables, more than a table cache holds) over one base. */
  function estate(count: number): string[] {
    const rng = new Rng(77);
    const cs = 4096;
    const virtualSize = 2 ** 30;
    const scattered = (n: number): ClusterSpec[] => {
      const guests = new Set<number>();
      while (guests.size < n) guests.add(rng.int(0, virtualSize / cs - 1) * cs);
      return [...guests].map((guest) => ({ guest, kind: rng.chance(0.85) ? 'data' as const : 'zero' as const }));
    };
    buildQcow2(path.join(dir, 'base.qcow2'), { virtualSize, clusterBits: 12, clusters: scattered(120) });
    return Array.from({ length: count }, (_, i) => buildQcow2(path.join(dir, `ovl-${i}.qcow2`), {
      virtualSize, clusterBits: 12, clusters: scattered(60 + i * 7), backing: { name: 'base.qcow2', format: 'qcow2' },
    }).path);
  }

  it('give the entries each gives alone, staged or not', async () => {
    const tops = estate(8);
    const alone = tops.map((top) => {
      const chain = ImageChain.open(top);
      try {
        return [...chain.entriesSync()].map((entry) => ({ ...entry }));
      } finally {
        chain.close();
      }
    });
    for (let round = 0; round < 4; round++) {
      for (const [i, top] of tops.entries()) {
        const chain = ImageChain.open(top);
        const got: unknown[] = [];
        try {
          if (round !== 1) {
            await chain.forEachEmitted({}, (emitted) => { got.push({ ...emitted.entry }); }, { maxReads: round === 0 ? 1 : 9, maxBytes: 9 * 4096, stageAboveMicros: 0 });
          } else {
            for (const entry of chain.entriesSync()) got.push({ ...entry });
          }
        } finally {
          chain.close();
        }
        expect(got, `${top}, round ${round}`).toEqual(alone[i]);
      }
    }
    expect(pooledBytes()).toBeGreaterThan(0);
  });
});
