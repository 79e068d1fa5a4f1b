/**
 * A small seeded PRNG for reproducible randomized tests (mulberry32 core,
 * splitmix32-style seed derivation). Not for cryptography.
 *
 * The base seed comes from env LIVE_SEED (decimal or 0x-hex) or DEFAULT_SEED;
 * tests print it in every failure message so a failing run can be replayed.
 */

export const DEFAULT_SEED = 0x5eed2024;

/** Parses a seed from the environment (decimal or 0x-hex); falls back to DEFAULT_SEED. */
export function seedFromEnv(name = 'LIVE_SEED'): number {
  const raw = process.env[name]?.trim();
  if (raw === undefined || raw === '') return DEFAULT_SEED;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new Error(`${name} must be a non-negative integer (decimal or 0x-hex), got '${raw}'`);
  }
  return value >>> 0;
}

/** Mixes a base seed with an index into an independent 32-bit seed (splitmix32 finalizer). */
export function deriveSeed(seed: number, index: number): number {
  let z = (seed + Math.imul(index + 1, 0x9e3779b9)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/** Formats a seed the way tests print it (and LIVE_SEED accepts it). */
export function formatSeed(seed: number): string {
  return `0x${(seed >>> 0).toString(16).padStart(8, '0')}`;
}

export class Rng {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** Next uniformly distributed unsigned 32-bit integer (mulberry32). */
  nextU32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform float in [0, 1) with 53 bits of precision. */
  float(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [min, max] (inclusive); safe for ranges up to 2^53. */
  int(min: number, max: number): number {
    if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || max < min) {
      throw new Error(`Rng.int: bad range [${min}, ${max}]`);
    }
    return min + Math.floor(this.float() * (max - min + 1));
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  /** One element of a non-empty array, uniformly. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('Rng.pick: empty array');
    return items[this.int(0, items.length - 1)] as T;
  }

  /** One value, chosen with the given relative weights. */
  weighted<T>(entries: ReadonlyArray<readonly [T, number]>): T {
    const total = entries.reduce((sum, [, w]) => sum + w, 0);
    let x = this.float() * total;
    for (const [value, w] of entries) {
      if ((x -= w) < 0) return value;
    }
    const last = entries[entries.length - 1];
    if (last === undefined) throw new Error('Rng.weighted: no entries');
    return last[0];
  }

  /** Integer in [min, max], log-uniformly distributed (min ≥ 1): favours small values. */
  logInt(min: number, max: number): number {
    const v = Math.exp(Math.log(min) + this.float() * (Math.log(max) - Math.log(min)));
    return Math.min(max, Math.max(min, Math.round(v)));
  }
}
