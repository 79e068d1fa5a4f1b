/**
 * Mutated qcow2 cases: pick a seed image, apply one to three mutations of
 * the requested families, write the result sparsely (all-zero 4 KiB blocks
 * stay holes, as in the seed image) next to the shared backing/data files.
 */
import fs from 'node:fs';
import type { Rng } from '../support/prng.js';
import type { Base } from './bases.js';
import {
  flipBytes, mutateBackingName, mutateExtension, mutateFeatureBits, mutateHeaderField, mutateL1, mutateL2,
  mutateRefcounts, resize,
} from './mutators.js';
import { readLayout } from './qcow2-layout.js';

export type Family = 'header' | 'features' | 'extension' | 'backing' | 'l1' | 'l2' | 'refcount' | 'flip' | 'resize';

export interface Case { base: string; image: Buffer; what: string[] }

export function mutateCase(rng: Rng, bases: readonly Base[], families: readonly Family[]): Case {
  const base = rng.pick(bases);
  let image: Buffer = Buffer.from(base.image);
  const layout = readLayout(image);
  const what: string[] = [];
  const count = rng.weighted([[1, 6], [2, 3], [3, 1]] as const);
  for (let i = 0; i < count; i++) {
    switch (rng.pick(families)) {
      case 'header': what.push(mutateHeaderField(rng, image, layout)); break;
      case 'features': what.push(mutateFeatureBits(rng, image)); break;
      case 'extension': what.push(mutateExtension(rng, image, layout)); break;
      case 'backing': what.push(mutateBackingName(rng, image, layout)); break;
      case 'l1': what.push(mutateL1(rng, image, layout)); break;
      case 'l2': what.push(mutateL2(rng, image, layout)); break;
      case 'refcount': what.push(mutateRefcounts(rng, image, layout)); break;
      case 'flip': what.push(flipBytes(rng, image, layout)); break;
      case 'resize': image = resize(rng, image, layout); what.push(`size=${image.length}`); break;
    }
  }
  return { base: base.name, image, what };
}

const BLOCK = 4096;
const ZERO = Buffer.alloc(BLOCK);

/** Writes `image` to `file`, leaving all-zero 4 KiB blocks as holes. */
export function writeSparse(file: string, image: Buffer): void {
  const fd = fs.openSync(file, 'w');
  try {
    fs.ftruncateSync(fd, image.length);
    for (let at = 0; at < image.length; at += BLOCK) {
      const block = image.subarray(at, Math.min(image.length, at + BLOCK));
      if (!block.equals(ZERO.subarray(0, block.length))) fs.writeSync(fd, block, 0, block.length, at);
    }
  } finally {
    fs.closeSync(fd);
  }
}
