/**
 * Differential fuzzing against qemu-img 7.2 (only when it is installed): a
 * seeded sample of mutated qcow2 images and probing inputs is mapped by both
 * tools. When both accept an image the JSON maps must be byte-identical;
 * when qemu-img fails, imgaudit must fail too (exit 1). Images that qemu-img
 * maps and imgaudit refuses (its named limits, unsupported formats) are
 * counted and listed, not failed. Failures qemu-img reports with the message
 * of a reported disagreement (known-disagreements.ts, each reproduced there
 * with `it.fails`) are counted as known.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng, deriveSeed, formatSeed } from '../support/prng.js';
import { type CliResult, runAsync, runCliAsync } from '../support/imgaudit.js';
import { hasQemu } from '../support/qemu.js';
import { type Base, makeBases } from './bases.js';
import { CASE_TIMEOUT_MS, FUZZ_SEED, requireBuild, runs, saveFailure, tempDir } from './harness.js';
import { knownFailure } from './known-disagreements.js';
import { mutateCase, writeSparse } from './qcow2-cases.js';
import { writeProbeCase } from './probe-cases.js';

let dir: string;
let bases: Base[];

beforeAll(() => {
  if (!hasQemu) return;
  requireBuild();
  dir = tempDir('qemu');
  bases = makeBases(dir);
});
afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** Runs a command with a timeout (kills it): stdout/stderr/code, or timedOut. */
async function timed(run: () => Promise<CliResult>, kill: () => void): Promise<CliResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<CliResult>((resolve) => {
    timer = setTimeout(() => { kill(); resolve({ stdout: '', stderr: '', code: -1, timedOut: true }); }, CASE_TIMEOUT_MS);
  });
  const result = await Promise.race([run(), timeout]);
  clearTimeout(timer);
  return result;
}

function makeCase(rng: Rng, index: number): { file: string; what: string } {
  if (rng.chance(0.2)) {
    const probe = writeProbeCase(rng, (name) => path.join(dir, `${index}-${name}`));
    return { file: `${index}-${probe.fileName}`, what: probe.what };
  }
  const mutated = mutateCase(rng, bases, ['header', 'features', 'extension', 'backing', 'l1', 'l2', 'l2', 'refcount', 'flip', 'resize']);
  const file = `${index}-case.qcow2`;
  writeSparse(path.join(dir, file), mutated.image);
  return { file, what: `${mutated.base} ${mutated.what.join(' ')}` };
}

describe.skipIf(!hasQemu)(`imgaudit map vs qemu-img map on mutated images (FUZZ_SEED=${formatSeed(FUZZ_SEED)})`, () => {
  it('agree when both accept; imgaudit fails whenever qemu-img fails', async () => {
    const problems: string[] = [];
    const refused: string[] = [];
    const counts: Record<string, number> = {};
    const total = runs(80);
    const one = async (i: number) => {
      const seed = deriveSeed(deriveSeed(FUZZ_SEED, 1234), i);
      const { file, what } = makeCase(new Rng(seed), i);
      const args = ['map', '--output=json', file];
      const controllers = [new AbortController(), new AbortController()];
      const [qemu, ours] = await Promise.all([
        timed(() => runAsync('qemu-img', args, dir, controllers[0]!.signal), () => controllers[0]!.abort()),
        timed(() => runCliAsync(args, dir, controllers[1]!.signal), () => controllers[1]!.abort()),
      ]);
      const label = `seed ${formatSeed(seed)} ${what}`;
      const known = qemu.code !== 0 && ours.code === 0 ? knownFailure(qemu.stderr) : undefined;
      const key = qemu.timedOut ? 'qemu-hang' : qemu.code === 0 ? (ours.code === 0 ? 'both-ok' : 'refused')
        : known ? `known: ${known.id}` : 'qemu-failed';
      counts[key] = (counts[key] ?? 0) + 1;
      let problem: string | undefined;
      const stray = ours.stderr.split('\n').filter((line) => line !== '' && !/^(imgaudit|qcow2): /.test(line));
      if (ours.timedOut) problem = 'imgaudit hung';
      else if (stray.length > 0) problem = `imgaudit crashed or printed stray stderr:\n  ${stray.slice(0, 6).join('\n  ')}`;
      else if (key === 'both-ok' && ours.stdout !== qemu.stdout) problem = `maps differ\n  qemu: ${qemu.stdout.slice(0, 400)}\n  ours: ${ours.stdout.slice(0, 400)}`;
      else if (key === 'qemu-failed' && ours.code !== 1) problem = `qemu-img failed (${qemu.stderr.trim()}) but imgaudit exited ${ours.code}`;
      else if (key === 'refused') refused.push(`${label}: ${ours.stderr.trim()}`);
      if (problem !== undefined) problems.push(`${label}: ${problem}\n  input: ${saveFailure(seed, [path.join(dir, file)])}`);
      fs.rmSync(path.join(dir, file), { force: true });
    };
    for (let i = 0; i < total; i += 2) await Promise.all([one(i), ...(i + 1 < total ? [one(i + 1)] : [])]);
    console.log(`qemu-compare: ${JSON.stringify(counts)}\n${refused.map((r) => `  refused: ${r}`).join('\n')}`);
    expect(problems).toEqual([]);
  }, 300_000);
});
