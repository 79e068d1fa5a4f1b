/**
 * Sweeping each distinct overlay map once (twice when overlays share it)
 * gives every overlay the figures a sweep over all the overlays gives.
 */
import { describe, expect, it } from 'vitest';
import { distinctStreams } from '../../../src/app/base-sharings.js';
import type { MapEntry } from '../../../src/map/map-entry.js';
import { baseSharing } from '../../../src/map/reclaim/index.js';
import { Rng } from '../../support/prng.js';
import { MiB, e } from '../map/reclaim/entries.js';

/** A random overlay chain map over a 64 MiB base: 1 MiB blocks read from the base (depth 1) or held above (depth 0). */
function randomChainMap(random: () => number): MapEntry[] {
  const entries: MapEntry[] = [];
  for (let block = 0; block < 64; block++) entries.push(e(block * MiB, MiB, 'data', random() < 0.5 ? 1 : 0));
  return entries;
}

describe('distinctStreams', () => {
  it('names each distinct map once, twice when shared, and which stream each overlay reads', () => {
    expect(distinctStreams([7, 3, 7, 7, 9])).toEqual({ mapIds: [7, 7, 3, 9], streamOf: [0, 2, 0, 0, 3] });
    expect(distinctStreams([])).toEqual({ mapIds: [], streamOf: [] });
  });

  it('gives the figures of a sweep over every overlay (seeded random maps with copies)', () => {
    for (let seed = 1; seed <= 30; seed++) {
      const rng = new Rng(seed);
      const random = (): number => rng.float();
      const distinct = Array.from({ length: 1 + Math.floor(random() * 4) }, () => randomChainMap(random));
      const overlayMaps = Array.from({ length: 1 + Math.floor(random() * 8) }, () => Math.floor(random() * distinct.length));
      const base = [e(0, 64 * MiB, 'data')];
      const full = baseSharing(base, overlayMaps.map((i) => distinct[i]!));
      const streams = distinctStreams(overlayMaps);
      const swept = baseSharing(base, streams.mapIds.map((i) => distinct[i]!));
      const deduplicated = { ...swept, overlays: streams.streamOf.map((stream) => swept.overlays[stream]!) };
      expect(deduplicated, `seed ${seed}`).toEqual(full);
    }
  });
});
