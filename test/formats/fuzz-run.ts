/**
 * The body of one format fuzzer (test/fuzz/formats-*.fuzz.test.ts): seeded
 * mutated images of one format mapped by the built library in a worker
 * thread (probed, and sometimes with -f), each ending in success or an
 * ImgauditError subclass — no other exception, no hang (per-case timeout),
 * bounded memory. FUZZ_SEED and FUZZ_RUNS as for the qcow2 fuzzers.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FUZZ_SEED, FuzzLog, MapWorker, requireBuild, runs, tempDir } from '../fuzz/harness.js';
import { writeSparse } from '../fuzz/qcow2-cases.js';
import { Rng, deriveSeed, formatSeed } from '../support/prng.js';
import { type FuzzFormat, mutate, writeCompanions } from './fuzz-cases.js';

const EXTENSIONS: Record<FuzzFormat, string> = {
  qed: 'qed', vdi: 'vdi', vpc: 'vhd', vmdk: 'vmdk', qcow: 'qcow', parallels: 'parallels', vhdx: 'vhdx',
};

export function fuzzFormat(format: FuzzFormat, salt: number, ciRuns: number): void {
  let dir: string;
  const worker = new MapWorker();
  beforeAll(() => {
    requireBuild();
    dir = tempDir(format);
    writeCompanions(dir);
  });
  afterAll(async () => {
    await worker.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  describe(`${format} mutations (FUZZ_SEED=${formatSeed(FUZZ_SEED)})`, () => {
    it('success or a typed error, never a crash, hang or runaway memory', async () => {
      const log = new FuzzLog(`${format} mutations`);
      const file = path.join(dir, `case.${EXTENSIONS[format]}`);
      for (let i = 0; i < runs(ciRuns); i++) {
        const seed = deriveSeed(deriveSeed(FUZZ_SEED, salt), i);
        const rng = new Rng(seed);
        const mutated = mutate(rng, format);
        writeSparse(file, mutated.image);
        const forced = rng.chance(0.3);
        const outcome = await worker.map({ file, ...(forced ? { format } : {}) });
        log.record(outcome, seed, `${mutated.seed} ${mutated.what.join(' ')}${forced ? ` -f ${format}` : ''}`, [file], worker);
      }
      console.log(`${log.summary()} peak RSS ${Math.round(worker.peakRss / 2 ** 20)} MiB`);
      expect(log.problems).toEqual([]);
    }, 120_000);
  });
}
