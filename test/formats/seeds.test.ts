/**
 * The fuzz seeds (made by qemu-img 7.2, see seeds/make-seeds.sh) mapped by
 * the built CLI must print exactly what qemu-img printed for them when they
 * were made — JSON and human output, stderr and exit status — so that every
 * new format is checked against QEMU even where QEMU is not installed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSparse } from '../fuzz/qcow2-cases.js';
import { hasDist, runCli, tempDir } from '../support/imgaudit.js';
import { recordedMaps, seeds } from './fuzz-cases.js';

const { qemuImg, maps } = recordedMaps();
let dir: string;

beforeAll(() => {
  dir = tempDir('seeds');
  for (const [name, image] of Object.entries(seeds())) writeSparse(path.join(dir, name), image);
  const fd = fs.openSync(path.join(dir, 'fz-base.raw'), 'w');
  fs.ftruncateSync(fd, 3 << 20); // as make-seeds.sh: a 3 MiB hole
  fs.closeSync(fd);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!hasDist)(`seed images vs recorded ${qemuImg} maps`, () => {
  const cases = Object.entries(maps).flatMap(([file, outputs]) =>
    Object.entries(outputs).map(([output, want]) => ({ file, output, want })));
  it.each(cases)('$file --output=$output', ({ file, output, want }) => {
    const got = runCli(['map', `--output=${output}`, file], dir);
    expect({ stdout: got.stdout, stderr: got.stderr, code: got.code })
      .toEqual({ stdout: want.stdout, stderr: want.stderr.replace(/^qemu-img: /gm, 'imgaudit: '), code: want.code });
  });
});
