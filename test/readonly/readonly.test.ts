/**
 * Images are only ever read (SPEC §6): mapping a chain with backing files,
 * a qcow2 over raw, an external data file, a compressed image and a raw
 * image through the CLI (`node dist/cli.js map`, every output mode) and the
 * library leaves every file byte-for-byte identical with unchanged mtime and
 * ctime; every descriptor the library holds is O_RDONLY; and mapping still
 * works when the files are immutable (chattr +i: even root cannot open them
 * for writing).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageChain } from '../../src/map/image-chain.js';
import { hasDist, runCli, runCliAsync, tempDir } from '../support/imgaudit.js';
import { type ImageSet, buildImageSet, fingerprints } from './fixtures.js';

let set: ImageSet;

beforeAll(() => {
  set = buildImageSet(tempDir('readonly'));
});
afterAll(() => {
  spawnSync('chattr', ['-R', '-i', set.dir]);
  fs.rmSync(set.dir, { recursive: true, force: true });
});

/** Lets the file-system clock move on, so a write after `before` would show in mtime/ctime. */
const tick = () => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);

const VARIANTS = [
  ['--output=json'], ['--output=human'], ['-U', '--output=json'], ['--force-share'], ['--compat=8.2', '--output=json'],
  ['--output=json', '-s', '1M', '-l', '2M'],
];

describe.skipIf(!hasDist)('the CLI', () => {
  it('leaves every file unchanged: content, size, mtime, ctime', async () => {
    const before = fingerprints(set.dir);
    tick();
    const runs = set.images.flatMap((image) => [
      ...VARIANTS.map((variant) => [...variant, image]),
      ['-f', image.endsWith('.raw') ? 'raw' : 'qcow2', '--output=json', image],
    ]);
    for (let i = 0; i < runs.length; i += 4) {
      const batch = runs.slice(i, i + 4);
      const results = await Promise.all(batch.map((args) => runCliAsync(['map', ...args], set.dir)));
      results.forEach((r, k) => expect(r.stderr === '' || /compressed clusters/.test(r.stderr), `${batch[k]!.join(' ')}: ${r.stderr}`).toBe(true));
    }
    expect(fingerprints(set.dir)).toEqual(before);
  }, 120_000);

  it('maps the same images from another working directory by absolute name', () => {
    const before = fingerprints(set.dir);
    tick();
    for (const image of set.images) expect(runCli(['map', '--output=json', path.join(set.dir, image)], '/').code).toBe(0);
    expect(fingerprints(set.dir)).toEqual(before);
  }, 60_000);
});

describe('the library', () => {
  it('leaves every file unchanged and holds only O_RDONLY descriptors', async () => {
    const before = fingerprints(set.dir);
    tick();
    for (const image of set.images) {
      const chain = ImageChain.open(path.join(set.dir, image));
      try {
        const flags = openFlagsUnder(set.dir);
        expect(flags.length, image).toBeGreaterThan(0);
        for (const [target, value] of flags) expect(value & 0o3, `${target} opened with flags 0${value.toString(8)}`).toBe(0);
        let bytes = 0;
        for await (const entry of chain.entries()) bytes += entry.lengthBytes;
        expect(bytes).toBe(chain.virtualSizeBytes);
      } finally {
        chain.close();
      }
    }
    expect(openFlagsUnder(set.dir)).toEqual([]);
    expect(fingerprints(set.dir)).toEqual(before);
  });
});

describe.skipIf(!hasDist || !canMakeImmutable())('immutable files (chattr +i)', () => {
  it('map through the CLI and the library exactly as before', () => {
    const expected = set.images.map((image) => runCli(['map', '--output=json', image], set.dir).stdout);
    spawnSync('chattr', ['-R', '+i', set.dir]);
    try {
      const before = fingerprints(set.dir); // chattr itself moves ctime: compare while immutable
      tick();
      const after = set.images.map((image) => runCli(['map', '--output=json', image], set.dir));
      expect(after.map((r) => r.stdout)).toEqual(expected);
      for (const image of set.images) {
        const chain = ImageChain.open(path.join(set.dir, image));
        chain.close();
      }
      expect(fingerprints(set.dir)).toEqual(before);
    } finally {
      spawnSync('chattr', ['-R', '-i', set.dir]);
    }
  }, 60_000);
});

/** [path, open flags] of this process's descriptors on files below `dir` (/proc/self/fdinfo). */
function openFlagsUnder(dir: string): Array<[string, number]> {
  const out: Array<[string, number]> = [];
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    let target: string;
    try {
      target = fs.readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue;
    }
    if (!target.startsWith(`${dir}/`)) continue;
    const info = fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
    out.push([target, parseInt(/^flags:\s+([0-7]+)/m.exec(info)![1]!, 8)]);
  }
  return out;
}

/** chattr +i works here (root on a file system with the immutable attribute). */
function canMakeImmutable(): boolean {
  const probe = tempDir('chattr');
  const file = path.join(probe, 'f');
  fs.writeFileSync(file, 'x');
  const ok = spawnSync('chattr', ['+i', file]).status === 0;
  let blocked = false;
  if (ok) {
    try {
      fs.openSync(file, 'r+');
    } catch {
      blocked = true;
    }
    spawnSync('chattr', ['-i', file]);
  }
  fs.rmSync(probe, { recursive: true, force: true });
  return ok && blocked;
}
