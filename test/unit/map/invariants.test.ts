/**
 * Properties of the map loop on seeded random fake chains (aesthetics §6.6):
 * entries tile the range, neighbours never merge, the driver's chunking is
 * invisible, a sub-range is the full map clipped, and human-mode rewriting
 * never changes the printed lines. Seed: FUZZ_SEED; count: FUZZ_RUNS.
 */
import { describe, expect, it } from 'vitest';
import { type MapRangeOptions, mapEntries } from '../../../src/map/map-entries.js';
import type { MapEntry } from '../../../src/map/map-entry.js';
import { HumanOutputRefused, humanLine } from '../../../src/map/qemu-output.js';
import type { ImageLayer } from '../../../src/formats/types.js';
import { Rng, deriveSeed, formatSeed, seedFromEnv } from '../../support/prng.js';
import { type FakeExtent, fakeHostFile, fakeLayer } from './fake-layer.js';

const SEED = seedFromEnv('FUZZ_SEED');
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const UNIT = 512;

function randomChain(rng: Rng, answerBytes?: number): ImageLayer[] {
  const depth = rng.int(1, 4);
  const layers: ImageLayer[] = [];
  for (let d = 0; d < depth; d++) {
    const size = rng.int(0, 64) * UNIT;
    const host = fakeHostFile(`h${d}`, rng.int(0, 128) * UNIT, [[rng.int(0, 64) * UNIT, rng.int(0, 64) * UNIT]]);
    const extents: FakeExtent[] = [];
    for (let pos = 0; pos < size;) {
      const length = Math.min(size - pos, rng.int(1, 8) * UNIT);
      const kind = rng.int(0, 5);
      if (kind > 0) {
        extents.push({
          start: pos, length, data: kind === 1 || kind === 4, zero: kind === 2 || kind === 3,
          ...(kind >= 3 ? { host: rng.int(0, 4) * UNIT + (rng.chance(0.5) ? pos : 0), file: rng.chance(0.8) ? host : undefined } : {}),
          ...(kind === 4 && rng.chance(0.5) ? { recurse: true } : {}),
          ...(kind === 1 && rng.chance(0.5) ? { compressed: true } : {}),
        });
      }
      pos += length;
    }
    layers.push(fakeLayer({ name: `l${d}`, size, extents, answerBytes, format: d === depth - 1 && rng.chance(0.2) ? 'raw' : 'qcow2',
      requestAlignment: rng.pick([1, 1, UNIT]) }));
  }
  return layers;
}

/** The same chain twice: drivers answering in whole extents, and in tiny pieces. */
function chains(index: number): { seed: number; whole: ImageLayer[]; chunked: ImageLayer[]; rng: Rng } {
  const seed = deriveSeed(SEED, index);
  return { seed, whole: randomChain(new Rng(seed)), chunked: randomChain(new Rng(seed), UNIT), rng: new Rng(seed ^ 0x5a5a) };
}

/** In 7.2 mode `compressed` is neither printed nor merged on: it is left out of comparisons. */
const plain = (e: MapEntry) => ({ ...e, compressed: false });
const list = (layers: ImageLayer[], options: MapRangeOptions = {}) => [...mapEntries(layers, options)].map((x) => plain(x.entry));

function clip(full: MapEntry[], start: number, end: number): MapEntry[] {
  return full.filter((e) => e.startBytes + e.lengthBytes > start && e.startBytes < end).map((e) => {
    const s = Math.max(start, e.startBytes);
    const shift = s - e.startBytes;
    return { ...e, startBytes: s, lengthBytes: Math.min(end, e.startBytes + e.lengthBytes) - s,
      offsetBytes: e.offsetBytes === undefined ? undefined : e.offsetBytes + shift };
  });
}

function humanText(layers: ImageLayer[], rewrite: boolean): string {
  try {
    return [...mapEntries(layers, { humanRewrite: rewrite })].map(humanLine).join('');
  } catch (error) {
    if (error instanceof HumanOutputRefused) return 'REFUSED';
    throw error;
  }
}

describe(`map loop properties (FUZZ_SEED=${formatSeed(SEED)}, ${RUNS} chains)`, () => {
  it('entries tile the range and neighbours never qualify for merging', () => {
    for (let i = 0; i < RUNS; i++) {
      const { seed, whole } = chains(i);
      const entries = list(whole);
      const size = whole[0]!.virtualSizeBytes;
      const where = `seed ${formatSeed(seed)}`;
      if (size === 0) {
        expect(entries, where).toHaveLength(1);
        continue;
      }
      expect(entries[0]!.startBytes, where).toBe(0);
      for (const [k, e] of entries.entries()) {
        expect(e.lengthBytes, where).toBeGreaterThan(0);
        expect(e.depth, where).toBeLessThan(whole.length);
        const prev = entries[k - 1];
        if (prev === undefined) continue;
        expect(e.startBytes, where).toBe(prev.startBytes + prev.lengthBytes);
        const same = prev.present === e.present && prev.zero === e.zero && prev.data === e.data && prev.depth === e.depth &&
          prev.filename === e.filename && (prev.offsetBytes === undefined) === (e.offsetBytes === undefined) &&
          (e.offsetBytes === undefined || prev.offsetBytes! + prev.lengthBytes === e.offsetBytes);
        expect(same, `${where}: entries ${k - 1} and ${k} should have merged`).toBe(false);
      }
      const last = entries.at(-1)!;
      expect(last.startBytes + last.lengthBytes, where).toBe(size);
    }
  });

  it('the drivers\' chunking is invisible', () => {
    for (let i = 0; i < RUNS; i++) {
      const { seed, whole, chunked } = chains(i);
      expect(list(chunked), `seed ${formatSeed(seed)}`).toEqual(list(whole));
    }
  });

  it('a sub-range maps as the full map clipped to it', () => {
    for (let i = 0; i < RUNS; i++) {
      const { seed, whole, rng } = chains(i);
      const size = whole[0]!.virtualSizeBytes;
      if (size === 0) continue;
      const start = rng.int(0, size - 1);
      const length = rng.int(1, size);
      const ranged = list(whole, { startOffsetBytes: BigInt(start), maxLengthBytes: BigInt(length) });
      expect(ranged, `seed ${formatSeed(seed)} range ${start}+${length}`).toEqual(clip(list(whole), start, Math.min(size, start + length)));
    }
  });

  it('human-mode rewriting never changes the printed lines (unless the first extent is refused)', () => {
    for (let i = 0; i < RUNS; i++) {
      const { seed, whole } = chains(i);
      const rewritten = humanText(whole, true);
      const first = list(whole)[0]!;
      if (rewritten === 'REFUSED' && first.data && first.offsetBytes === undefined) continue;
      const direct = humanText(whole, false);
      if (direct === 'REFUSED') expect(rewritten === 'REFUSED' || !rewritten.includes('REFUSED'), `seed ${formatSeed(seed)}`).toBe(true);
      else expect(rewritten, `seed ${formatSeed(seed)}`).toBe(direct);
    }
  });
});
