/**
 * Seeded random qcow2 layouts from the test builder — every cluster size
 * from 512 B to 2 MiB, runs of data / zero / zero-allocated clusters across
 * L2 table boundaries, host-contiguous runs broken at random, holes under
 * allocated clusters — mapped by the library and compared with the map the
 * declared layout implies (and with qemu-img for a sample, when installed).
 * This exercises the run counting of the qcow2 reader (count_contiguous).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClusterSpec, type Qcow2Spec, buildQcow2 } from '../../../support/qcow2-builder.js';
import { declaredMap, toQemuJson } from '../../../support/qcow2-model.js';
import { libraryMap } from '../../../support/imgaudit.js';
import { Rng, deriveSeed, formatSeed, seedFromEnv } from '../../../support/prng.js';
import { hasQemu, qemuMap } from '../../../support/qemu.js';

const SEED = seedFromEnv('FUZZ_SEED');
const RUNS = Number(process.env.FUZZ_RUNS ?? 60);

function randomSpec(rng: Rng): Qcow2Spec {
  const clusterBits = rng.pick([9, 10, 12, 14, 16, 16, 16, 17, 20, 21]);
  const cs = 2 ** clusterBits;
  const l2Span = (cs / 8) * cs;
  const virtualSize = rng.pick([rng.int(1, 64) * cs, rng.int(1, 3) * l2Span + rng.int(0, 5) * cs + rng.int(0, 2) * 512 + rng.int(0, 511)]);
  const totalClusters = Math.ceil(virtualSize / cs);
  const clusters: ClusterSpec[] = [];
  let explicitHost = 2 ** 33 + rng.int(0, 64) * cs; // above 4 GiB, far from the builder's own allocations
  const maxClusters = Math.min(400, (8 << 20) / cs); // at most 8 MiB of cluster data per image
  for (let index = 0; index < totalClusters && clusters.length < maxClusters;) {
    const run = rng.int(1, 12);
    const kind = rng.weighted([['none', 4], ['data', 5], ['zero', 2], ['zero-alloc', 2]] as const);
    const scattered = rng.chance(0.3);
    for (let k = 0; k < run && index < totalClusters && clusters.length < maxClusters; k++, index++) {
      if (kind === 'none') continue;
      const spec: ClusterSpec = { guest: index * cs, kind };
      if (kind !== 'zero' && scattered) {
        spec.host = explicitHost;
        explicitHost += cs * (rng.chance(0.5) ? 1 : rng.int(2, 4));
      }
      if (kind === 'data' && clusterBits >= 12 && rng.chance(0.3)) spec.fill = null;
      clusters.push(spec);
    }
    if (rng.chance(0.2)) index += rng.int(1, 600); // jump, often into another L2 table
  }
  const version = clusters.some((c) => c.kind !== 'data') ? 3 : rng.pick([2, 3] as const);
  return { virtualSize, clusterBits, clusters, version, refcountOrder: version === 2 ? 4 : rng.pick([0, 4, 4, 6]) };
}

let dir: string;
beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-built-')); });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe(`random built layouts (FUZZ_SEED=${formatSeed(SEED)}, ${RUNS} images)`, () => {
  it('the library maps each as its declared layout says', () => {
    for (let i = 0; i < RUNS; i++) {
      const seed = deriveSeed(deriveSeed(SEED, 4242), i);
      const built = buildQcow2(path.join(dir, `r${i % 4}.qcow2`), randomSpec(new Rng(seed)));
      expect(libraryMap(built.path), `seed ${formatSeed(seed)}`).toEqual(declaredMap(built));
    }
  }, 120_000);

  it.skipIf(!hasQemu)('qemu-img agrees with the declared layout (checks the model on a sample)', () => {
    for (let i = 0; i < Math.min(RUNS, 15); i++) {
      const seed = deriveSeed(deriveSeed(SEED, 4242), i);
      const built = buildQcow2(path.join(dir, 'q.qcow2'), randomSpec(new Rng(seed)));
      expect(qemuMap(['--output=json', built.path], dir).stdout, `seed ${formatSeed(seed)}`).toBe(toQemuJson(declaredMap(built)));
    }
  }, 120_000);
});
