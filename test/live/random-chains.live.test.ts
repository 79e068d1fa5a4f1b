/**
 * Live differential tier, random chains: LIVE_CHAINS (default 200) seeded
 * random backing chains of qcow2 (and raw base) layers built with
 * qemu-img/qemu-io; `imgaudit map` must match `qemu-img map` byte for byte for
 * the top image and one lower layer (JSON and human) and one -s/-l window.
 *
 * Reproduce: LIVE_SEED=<seed> LIVE_ONLY=<i>[,<j>…] npx vitest run test/live/random-chains.live.test.ts
 * (failure messages also carry a standalone repro.sh). LIVE_KEEP=1 keeps all images.
 */
import { afterAll, describe, it } from 'vitest';
import { deriveSeed, formatSeed, Rng, seedFromEnv } from '../support/prng.js';
import { hasQemu, runOk, settle, SETTLE_SHELL, toShell } from '../support/qemu.js';
import { generateChain, type Layer } from './chain-gen.js';
import { assertAllMatch, cliMissing, compareMap, reproScript, Workspace } from './differential.js';

const SEED = seedFromEnv('LIVE_SEED');
const CHAINS = Number(process.env.LIVE_CHAINS ?? 200);
const ONLY = (process.env.LIVE_ONLY ?? '')
  .split(',')
  .filter((s) => s.trim() !== '')
  .map(Number);
if (!Number.isSafeInteger(CHAINS) || CHAINS < 0 || !ONLY.every((n) => Number.isSafeInteger(n) && n >= 0)) {
  throw new Error('LIVE_CHAINS and LIVE_ONLY (comma-separated) must be non-negative integers');
}
const indexes = ONLY.length > 0 ? ONLY : Array.from({ length: CHAINS }, (_, i) => i);

const describeLayer = (l: Layer): string =>
  l.fmt === 'raw'
    ? `raw ${l.size}`
    : `qcow2 ${l.size} c=${l.cluster} v=${l.compat}${l.extL2 ? ' extl2' : ''}${l.prealloc ? ' prealloc' : ''}`;

describe.skipIf(!hasQemu)(`live differential: random chains (LIVE_SEED=${formatSeed(SEED)})`, () => {
  const ws = new Workspace();
  afterAll(() => ws.finish());

  for (const i of indexes) {
    const chainSeed = deriveSeed(SEED, i);
    // Concurrent: one chain is built while the previous one's maps run (2 CLI processes at most).
    it.concurrent(`chain #${i} (chain seed ${formatSeed(chainSeed)})`, { timeout: 300_000 }, async () => {
      const missing = cliMissing();
      if (missing) throw new Error(missing);
      const recipe = generateChain(new Rng(chainSeed));
      const title =
        `imgaudit live random chain #${i}: LIVE_SEED=${formatSeed(SEED)} chain seed ${formatSeed(chainSeed)}; ` +
        `layers (base first): ${recipe.layers.map(describeLayer).join(' <- ')}`;
      const script = reproScript(title, [...recipe.cmds, SETTLE_SHELL, ...recipe.maps.map((map) => ({ map }))]);
      const header =
        `random chain #${i} — rerun: LIVE_SEED=${formatSeed(SEED)} LIVE_ONLY=${i} ` +
        `npx vitest run test/live/random-chains.live.test.ts`;
      const dir = ws.caseDir(`chain-${i}`);
      for (const cmd of recipe.cmds) {
        try {
          runOk(cmd, dir);
        } catch (err) {
          throw new Error(`${header}\nbuilding the chain failed at: ${toShell(cmd)}\n${String(err)}\n${script}`);
        }
      }
      settle(dir);
      const comparisons = await Promise.all(recipe.maps.map((args) => compareMap(dir, args)));
      assertAllMatch(header, dir, script, comparisons, ws);
    });
  }
});
