/**
 * Reproducers of the reported disagreements with qemu-img 7.2 (see
 * known-disagreements.ts). What qemu-img does is asserted plainly (when it is
 * installed); what imgaudit should do is asserted with `it.fails` until the
 * engine is fixed — then these turn red: move the entry out of KNOWN.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasDist, runCli } from '../support/imgaudit.js';
import { hasQemu, qemuMap } from '../support/qemu.js';
import { AGREED_MAPS, AGREED_REFUSALS, KNOWN, KNOWN_REFUSALS } from './known-disagreements.js';
import { tempDir } from './harness.js';

let dir: string;
beforeAll(() => { dir = tempDir('known'); });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!hasDist)('qemu-img refuses, imgaudit maps', () => {
  it.each(KNOWN.map((k) => [k.id, k] as const))('%s: qemu-img 7.2 refuses it', (_id, known) => {
    if (!hasQemu) return;
    const name = known.build(dir);
    const qemu = qemuMap(['--output=json', name], dir);
    expect(qemu.code).toBe(1);
    expect(qemu.stderr).toMatch(known.qemu);
  });

  it.fails.each(KNOWN.map((k) => [k.id, k] as const))('%s: imgaudit refuses it too (known disagreement)', (_id, known) => {
    const name = known.build(dir);
    const ours = runCli(['map', '--output=json', name], dir);
    expect(ours.code).toBe(1);
    expect(ours.stderr).toMatch(known.qemu);
  });
});

describe.skipIf(!hasDist)('qemu-img maps, imgaudit refuses', () => {
  it.each(KNOWN_REFUSALS.map((k) => [k.id, k] as const))('%s: qemu-img 7.2 maps it', (_id, known) => {
    if (!hasQemu) return;
    expect(qemuMap(['--output=json', known.build(dir)], dir).code).toBe(0);
  });

  it.fails.each(KNOWN_REFUSALS.map((k) => [k.id, k] as const))('%s: imgaudit maps it alike (known disagreement)', (_id, known) => {
    const name = known.build(dir);
    const ours = runCli(['map', '--output=json', name], dir);
    expect(ours.code).toBe(0);
    if (hasQemu) expect(ours.stdout).toBe(qemuMap(['--output=json', name], dir).stdout);
  });
});

describe.skipIf(!hasDist)('fixed disagreements (regression tests)', () => {
  it.each(AGREED_REFUSALS.map((k) => [k.id, k] as const))('%s: both refuse it with qemu-img\'s message', (_id, known) => {
    const name = known.build(dir);
    const ours = runCli(['map', '--output=json', name], dir);
    expect(ours.code).toBe(1);
    expect(ours.stderr).toMatch(known.qemu);
    if (hasQemu) expect(ours.stderr).toBe(qemuMap(['--output=json', name], dir).stderr.replaceAll('qemu-img: ', 'imgaudit: '));
  });

  it.each(AGREED_MAPS.map((k) => [k.id, k] as const))('%s: both map it alike', (_id, known) => {
    const name = known.build(dir);
    const ours = runCli(['map', '--output=json', name], dir);
    expect(ours.code).toBe(0);
    if (hasQemu) expect(ours.stdout).toBe(qemuMap(['--output=json', name], dir).stdout);
  });
});
