/**
 * Format probing and raw mapping on random inputs: files starting with
 * (near-)magic numbers of every format QEMU probes, odd sizes, random holes,
 * mapped probed and with -f raw / -f qcow2. Success or a typed error only.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng, deriveSeed, formatSeed } from '../support/prng.js';
import { FUZZ_SEED, FuzzLog, MapWorker, requireBuild, runs, tempDir } from './harness.js';
import { writeProbeCase } from './probe-cases.js';

let dir: string;
const worker = new MapWorker();

beforeAll(() => {
  requireBuild();
  dir = tempDir('probe');
});
afterAll(async () => {
  await worker.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe(`probing and raw (FUZZ_SEED=${formatSeed(FUZZ_SEED)})`, () => {
  it('random inputs end in success or a typed error', async () => {
    const log = new FuzzLog('probe');
    for (let i = 0; i < runs(1000); i++) {
      const seed = deriveSeed(deriveSeed(FUZZ_SEED, 99), i);
      const rng = new Rng(seed);
      const probe = writeProbeCase(rng, (name) => path.join(dir, name));
      const file = path.join(dir, probe.fileName);
      const format = rng.pick([undefined, undefined, 'raw', 'qcow2']);
      const outcome = await worker.map({ file, ...(format ? { format } : {}) });
      log.record(outcome, seed, `${probe.what}${format ? ` -f ${format}` : ''}`, [file], worker);
      fs.rmSync(file);
    }
    console.log(log.summary());
    expect(log.problems).toEqual([]);
  }, 60_000);
});
