/**
 * Opening a chain without blocking the thread (src/map/staged-open.ts): the
 * open is replayed until every read and file it needs is ready, so no read
 * of the open blocks; it gives exactly the plain open's layers, entries and
 * errors; no byte is read twice; and it ends (a read whose asynchronous
 * attempt fails is made synchronously and reports as before; past its
 * replay budget the open reads synchronously).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { HostFile } from '../../../src/io/host-file.js';
import { ImageChain } from '../../../src/map/image-chain.js';
import type { OpenChainOptions } from '../../../src/map/chain.js';
import type { FileGuard } from '../../../src/map/opened-files.js';
import { StagedOpen } from '../../../src/map/staged-open.js';
import { tempDir } from '../../support/imgaudit.js';
import { buildQcow2 } from '../../support/qcow2-builder.js';
import { type ReadWatch, type WatchedRead, watchReads } from '../../support/watch-reads.js';

const dir = tempDir('staged-open');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

let watch: ReadWatch | undefined;
afterEach(() => {
  watch?.restore();
  watch = undefined;
});

const MiB = 2 ** 20;

/** A three-layer qcow2 chain: top over middle over base, 64 KiB clusters, data in each. */
function qcow2Chain(name: string): string {
  const base = buildQcow2(path.join(dir, `${name}-base.qcow2`), {
    virtualSize: 64 * MiB, clusters: [{ guest: 0, kind: 'data' }, { guest: 40 * MiB, kind: 'data' }],
  });
  buildQcow2(path.join(dir, `${name}-mid.qcow2`), {
    virtualSize: 64 * MiB, clusters: [{ guest: 8 * MiB, kind: 'data' }, { guest: 40 * MiB, kind: 'zero' }],
    backing: { name: path.basename(base.path), format: 'qcow2' },
  });
  return buildQcow2(path.join(dir, `${name}-top.qcow2`), {
    virtualSize: 64 * MiB, clusters: [{ guest: 16 * MiB, kind: 'data' }],
    backing: { name: `${name}-mid.qcow2`, format: 'qcow2' },
  }).path;
}

/** A monolithicFlat vmdk: a descriptor naming a raw extent. */
function flatVmdk(name: string): string {
  const extent = path.join(dir, `${name}-flat.vmdk`);
  fs.writeFileSync(extent, Buffer.alloc(0));
  fs.truncateSync(extent, 8 * MiB);
  const fd = fs.openSync(extent, 'r+');
  fs.writeSync(fd, Buffer.alloc(65536, 7), 0, 65536, 2 * MiB);
  fs.closeSync(fd);
  const descriptor = path.join(dir, `${name}.vmdk`);
  fs.writeFileSync(descriptor, [
    '# Disk DescriptorFile', 'version=1', 'CID=fffffffe', 'parentCID=ffffffff', 'createType="monolithicFlat"', '',
    `RW ${(8 * MiB) / 512} FLAT "${path.basename(extent)}" 0`, '', 'ddb.virtualHWVersion = "4"', '',
  ].join('\n'));
  return descriptor;
}

/** The guard the scan gives (its files by real path and identity). */
const guard: FileGuard = (name) => {
  const realPath = fs.realpathSync(name);
  const stat = fs.statSync(realPath);
  return { realPath, dev: stat.dev, ino: stat.ino };
};

function plainOpen(top: string, options: OpenChainOptions = {}): { layers: unknown; entries: unknown[] } {
  const chain = ImageChain.open(top, options);
  try {
    return { layers: chain.layers, entries: [...chain.entriesSync()].map((entry) => ({ ...entry })) };
  } finally {
    chain.close();
  }
}

/** The message the plain open of `top` fails with (it must fail). */
function plainError(top: string): string {
  try {
    plainOpen(top);
  } catch (error) {
    expect(error).toBeInstanceOf(Error);
    return (error as Error).message;
  }
  throw new Error(`the plain open of ${top} did not fail`);
}

async function stagedOpen(top: string, options: OpenChainOptions = {}, maxReplays?: number) {
  const file = await HostFile.openAsync(top);
  const staged = new StagedOpen({ name: top, file }, { replay: true, ...(maxReplays === undefined ? {} : { maxReplays }) });
  const chain = await staged.run(() => ImageChain.open(top, { ...options, staged }));
  try {
    return { layers: chain.layers, entries: [...chain.entriesSync()].map((entry) => ({ ...entry })), replays: staged.replays };
  } finally {
    chain.close();
  }
}

/** The reads under `dir` made while `open` ran (not those of the walk after it). */
async function readsOf<T>(open: () => Promise<T>): Promise<{ result: T; reads: Map<string, WatchedRead[]> }> {
  watch = watchReads(dir);
  try {
    return { result: await open(), reads: new Map(watch.reads) };
  } finally {
    watch.restore();
    watch = undefined;
  }
}

function expectDisjoint(reads: readonly WatchedRead[], what: string): void {
  const sorted = [...reads].sort((a, b) => a.offsetBytes - b.offsetBytes);
  for (let i = 1; i < sorted.length; i++) {
    expect(sorted[i]!.offsetBytes, `${what}: a byte read twice`).toBeGreaterThanOrEqual(sorted[i - 1]!.offsetBytes + sorted[i - 1]!.lengthBytes);
  }
}

describe('a staged open', () => {
  it.each([
    ['a qcow2 chain of three', () => qcow2Chain('plain'), {}],
    ['a qcow2 chain of three, behind the scan guard', () => qcow2Chain('guarded'), { guardFile: guard }],
    ['a vmdk with a flat extent', () => flatVmdk('flat'), {}],
    ['a vmdk with a flat extent, behind the scan guard', () => flatVmdk('flat-guarded'), { guardFile: guard }],
  ] as const)('%s: the plain open\'s layers and entries, no read blocking, none twice', async (_what, build, options) => {
    const top = build();
    const expected = plainOpen(top, options);
    const file = await HostFile.openAsync(top);
    const staged = new StagedOpen({ name: top, file }, { replay: true });
    const { result: chain, reads } = await readsOf(() => staged.run(() => ImageChain.open(top, { ...options, staged })));
    try {
      expect(chain.layers).toEqual(expected.layers);
      expect([...chain.entriesSync()].map((entry) => ({ ...entry }))).toEqual(expected.entries);
    } finally {
      chain.close();
    }
    expect(staged.replays).toBeGreaterThan(0);
    expect(reads.size).toBeGreaterThan(0);
    for (const [name, fileReads] of reads) {
      expect(fileReads.filter((r) => r.isSync), `${name}: read synchronously by the open`).toEqual([]);
      expectDisjoint(fileReads, name);
    }
  });

  it('a missing backing file: the plain open\'s error', async () => {
    const top = buildQcow2(path.join(dir, 'orphan.qcow2'), {
      virtualSize: MiB, clusters: [], backing: { name: 'no-such-base.qcow2', format: 'qcow2' },
    }).path;
    await expect(stagedOpen(top)).rejects.toThrow(plainError(top));
  });

  it('a corrupt layer: the plain open\'s error, and every file closed', async () => {
    const top = qcow2Chain('corrupt');
    const mid = path.join(dir, 'corrupt-mid.qcow2');
    const bytes = fs.readFileSync(mid);
    bytes.writeUInt32BE(0x2000_0000, 36); // l1_size far beyond the file
    fs.writeFileSync(mid, bytes);
    const message = plainError(top);
    const before = fs.readdirSync('/proc/self/fd').length;
    await expect(stagedOpen(top)).rejects.toThrow(message);
    expect(fs.readdirSync('/proc/self/fd').length).toBeLessThanOrEqual(before);
  });

  it('an asynchronous read that fails is made synchronously (the open ends, with the plain result)', async () => {
    const top = qcow2Chain('eio');
    const expected = plainOpen(top);
    watch = watchReads(dir, (name, position) => name.endsWith('eio-mid.qcow2') && position !== 0);
    const result = await stagedOpen(top);
    const midReads = watch.reads.get(path.join(dir, 'eio-mid.qcow2')) ?? [];
    expect(result.layers).toEqual(expected.layers);
    expect(result.entries).toEqual(expected.entries);
    expect(midReads.some((r) => r.isSync)).toBe(true);
  });

  it('past its replay budget, the open reads synchronously, with the same result', async () => {
    const top = qcow2Chain('budget');
    const expected = plainOpen(top);
    const { result, reads } = await readsOf(() => stagedOpen(top, {}, 1));
    expect(result.replays).toBe(1);
    expect({ layers: result.layers, entries: result.entries }).toEqual(expected);
    expect([...reads.values()].flat().some((r) => r.isSync)).toBe(true);
  });
});
