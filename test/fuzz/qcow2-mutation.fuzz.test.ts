/**
 * Mutated qcow2 images: headers (sizes, offsets, cluster_bits, l1_size,
 * refcount order, feature bits, extension lengths, backing name offset and
 * size), L1/L2 entries (past EOF, unaligned, huge, pointing at metadata),
 * refcounts, byte flips, truncation and growth. Every case must end in
 * success or an ImgauditError subclass — no other exception, no hang
 * (per-case timeout), bounded memory. Seeds are fixed for CI (FUZZ_SEED).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng, deriveSeed, formatSeed } from '../support/prng.js';
import { type Base, makeBases } from './bases.js';
import { FUZZ_SEED, FuzzLog, MapWorker, requireBuild, runs, tempDir } from './harness.js';
import { type Family, mutateCase, writeSparse } from './qcow2-cases.js';

let dir: string;
let bases: Base[];
const worker = new MapWorker();

beforeAll(() => {
  requireBuild();
  dir = tempDir('qcow2');
  bases = makeBases(dir);
});
afterAll(async () => {
  await worker.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const SUITES: Array<[string, number, number, Family[]]> = [
  ['header fields and feature bits', 1, 300, ['header', 'header', 'features']],
  ['extensions and backing names', 2, 200, ['extension', 'backing', 'header']],
  ['L1 and L2 entries', 3, 300, ['l1', 'l2', 'l2']],
  ['refcounts, byte flips, truncation and growth', 4, 250, ['refcount', 'flip', 'resize', 'resize']],
  ['everything at once', 5, 250, ['header', 'features', 'extension', 'backing', 'l1', 'l2', 'refcount', 'flip', 'resize']],
];

describe(`qcow2 mutations (FUZZ_SEED=${formatSeed(FUZZ_SEED)})`, () => {
  it.each(SUITES)('%s: success or a typed error, never a crash, hang or runaway memory', async (name, salt, ciRuns, families) => {
    const log = new FuzzLog(name);
    const file = path.join(dir, 'case.qcow2');
    for (let i = 0; i < runs(ciRuns); i++) {
      const seed = deriveSeed(deriveSeed(FUZZ_SEED, salt), i);
      const rng = new Rng(seed);
      const mutated = mutateCase(rng, bases, families);
      writeSparse(file, mutated.image);
      const format = rng.chance(0.25) ? 'qcow2' : undefined;
      const outcome = await worker.map({ file, ...(format ? { format } : {}) });
      log.record(outcome, seed, `${mutated.base} ${mutated.what.join(' ')}${format ? ' -f qcow2' : ''}`, [file], worker);
    }
    console.log(`${log.summary()} peak RSS ${Math.round(worker.peakRss / 2 ** 20)} MiB`);
    expect(log.problems).toEqual([]);
  }, 120_000);
});
