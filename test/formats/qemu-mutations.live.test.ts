/**
 * Differential fuzzing against qemu-img 7.2 (only when installed): a seeded
 * sample of the fuzzers' mutated images of every new format is mapped by
 * both tools in JSON. When both accept an image the output must be
 * byte-identical; when qemu-img refuses it, imgaudit must refuse it with the
 * same message. Accepted differences, each counted and listed:
 * - qemu-img crashes (abort, SIGFPE: exit status ≥ 128) — imgaudit answers;
 * - imgaudit's named limits and deliberate refusals (UnsupportedImageError,
 *   a vdi block map past the end of the file);
 * - messages quoting bytes from the image that are not UTF-8 (imgaudit's
 *   strings print as UTF-8; see src/formats/common/names.ts);
 * - encrypted qcow images, which imgaudit maps as qemu-img does with the key.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSparse } from '../fuzz/qcow2-cases.js';
import { compareMap } from '../live/differential.js';
import { Rng, deriveSeed, formatSeed, seedFromEnv } from '../support/prng.js';
import { hasQemu } from '../support/qemu.js';
import { libraryMap, tempDir } from '../support/imgaudit.js';
import { type FuzzFormat, mutate, writeCompanions } from './fuzz-cases.js';

const SEED = seedFromEnv('FUZZ_SEED');
const CASES = Number(process.env.FUZZ_RUNS ?? 25);
const FORMATS: FuzzFormat[] = ['qed', 'vdi', 'vpc', 'vmdk', 'qcow', 'parallels', 'vhdx'];
const EXT: Record<FuzzFormat, string> = { qed: 'qed', vdi: 'vdi', vpc: 'vhd', vmdk: 'vmdk', qcow: 'qcow', parallels: 'parallels', vhdx: 'vhdx' };

/** Our deliberate refusals where QEMU maps (named limits, documented differences). */
const DELIBERATE = [/exceeds imgaudit's limit/, /exceeds 2\^62 bytes/, /beyond 2\^53/, /beyond 2\^63/, /imgaudit does not/, /vdi: block map of/,
  /COWD extent with a granularity of 0/, /dirty bitmap granularity/, /Failed to get size/];

const UTF8 = new TextDecoder('utf-8', { fatal: true });
/** True when qemu-img's stderr (read as latin1) holds bytes that are not valid UTF-8. */
function notUtf8(latin1: string): boolean {
  try {
    UTF8.decode(Buffer.from(latin1, 'latin1'));
    return false;
  } catch {
    return true;
  }
}

/** The library's error message for `file` (the CLI prints only "Could not read file metadata: …" for map-time errors). */
function libraryError(file: string, format: string | undefined): string {
  try {
    libraryMap(file, format === undefined ? {} : { format });
    return '';
  } catch (error) {
    return String((error as Error).message);
  }
}

let dir: string;
beforeAll(() => {
  if (!hasQemu) return;
  dir = tempDir('qemu-mutations');
  writeCompanions(dir);
});
afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!hasQemu)(`imgaudit map vs qemu-img map on mutated images of the new formats (FUZZ_SEED=${formatSeed(SEED)})`, () => {
  it.each(FORMATS)('%s', async (format) => {
    const problems: string[] = [];
    const counts: Record<string, number> = {};
    const count = (key: string) => { counts[key] = (counts[key] ?? 0) + 1; };
    for (let i = 0; i < CASES; i++) {
      const seed = deriveSeed(deriveSeed(SEED, 0xd1ff + FORMATS.indexOf(format)), i);
      const rng = new Rng(seed);
      const mutated = mutate(rng, format);
      const file = `case-${i}.${EXT[format]}`;
      writeSparse(path.join(dir, file), mutated.image);
      const forced = rng.chance(0.3) ? ['-f', format] : [];
      const c = await compareMap(dir, ['--output=json', ...forced, file]);
      const label = `seed ${formatSeed(seed)} ${mutated.seed} ${mutated.what.join(' ')} ${forced.join(' ')}`;
      if (c.problems.length === 0) count(c.qemu.code === 0 ? 'same map' : 'same error');
      else if (c.qemu.code >= 128 || c.qemu.code < 0) count('qemu-img crashed');
      else if (c.qemu.stderr.includes("Parameter 'encrypt.key-secret' is required")) count('encrypted, mapped as with the key');
      else if (c.ours.code === 1 && DELIBERATE.some((re) => re.test(c.ours.stderr) || re.test(libraryError(path.join(dir, file), forced[1])))) {
        count('deliberate refusal');
      }
      else if (c.qemu.code === c.ours.code && c.qemu.stdout === c.ours.stdout && notUtf8(c.qemu.stderr)) count('non-UTF-8 bytes in a message');
      else problems.push(`${label}: ${c.problems.join('; ')}\n  qemu-img: ${c.qemu.stderr.trim() || c.qemu.stdout.slice(0, 300)}\n  imgaudit: ${c.ours.stderr.trim() || c.ours.stdout.slice(0, 300)}`);
      fs.rmSync(path.join(dir, file), { force: true });
    }
    console.log(`${format}: ${JSON.stringify(counts)}`);
    expect(problems).toEqual([]);
  }, 300_000);
});
