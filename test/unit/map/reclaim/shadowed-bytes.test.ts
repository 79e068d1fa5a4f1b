import { describe, expect, it } from 'vitest';
import { shadowedBytes } from '../../../../src/map/reclaim/index.js';
import { e, KiB, MiB, once, TiB } from './entries.js';

describe('shadowedBytes', () => {
  // A base of 1 MiB: data [0, 256K), zero [256K, 320K), preallocated [320K, 448K), unallocated after.
  const own = [e(0, 256 * KiB, 'data', 0, 5 * MiB), e(256 * KiB, 64 * KiB, 'zero'), e(320 * KiB, 128 * KiB, 'prealloc', 0, 9 * MiB),
    e(448 * KiB, 576 * KiB, 'unalloc')];

  it('subtracts, per category, what the chain reads at the layer depth', () => {
    // The top holds [0, 64K) and [300K, 400K); the chain reads the base (depth 1) elsewhere.
    const chain = [e(0, 64 * KiB, 'data', 0), e(64 * KiB, 192 * KiB, 'data', 1), e(256 * KiB, 44 * KiB, 'zero', 1),
      e(300 * KiB, 100 * KiB, 'data', 0), e(400 * KiB, 48 * KiB, 'prealloc', 1), e(448 * KiB, 576 * KiB, 'unalloc', 1)];
    expect(shadowedBytes(once(own), once(chain), 1, false, MiB)).toEqual({
      dataBytes: 64 * KiB, // [0, 64K)
      zeroBytes: 20 * KiB, // [300K, 320K)
      preallocatedBytes: 80 * KiB, // [320K, 400K)
    });
  });

  it('clips the own allocation to the top\'s virtual size', () => {
    // A top of 128 KiB reading nothing from the base: only [0, 128K) of the base's data counts.
    const chain = [e(0, 128 * KiB, 'data', 0)];
    expect(shadowedBytes(once(own), once(chain), 1, false, 128 * KiB)).toEqual({ dataBytes: 128 * KiB, zeroBytes: 0, preallocatedBytes: 0 });
  });

  it('counts nothing past the top when the top is longer than the layer', () => {
    const chain = [e(0, 256 * KiB, 'data', 1), e(256 * KiB, 192 * KiB, 'zero', 0), e(448 * KiB, 2 * MiB, 'unalloc', 1)];
    expect(shadowedBytes(once(own), once(chain), 1, false, 2 * MiB + 448 * KiB)).toEqual({
      dataBytes: 0, zeroBytes: 64 * KiB, preallocatedBytes: 128 * KiB,
    });
  });

  it('is zero for empty maps', () => {
    expect(shadowedBytes(once([]), once([]), 1, false, 0)).toEqual({ dataBytes: 0, zeroBytes: 0, preallocatedBytes: 0 });
    expect(shadowedBytes(once([]), once([e(0, MiB, 'data', 0)]), 1, false, MiB)).toEqual({ dataBytes: 0, zeroBytes: 0, preallocatedBytes: 0 });
  });

  it('applies the raw rules: a raw hole is zero, not preallocated', () => {
    const raw = [e(0, 4 * KiB, 'rawData'), e(4 * KiB, 60 * KiB, 'rawHole')];
    const chain = [e(0, 64 * KiB, 'data', 0)];
    expect(shadowedBytes(once(raw), once(chain), 1, true, 64 * KiB)).toEqual({ dataBytes: 4 * KiB, zeroBytes: 60 * KiB, preallocatedBytes: 0 });
    expect(shadowedBytes(once(raw), once(chain), 1, false, 64 * KiB)).toEqual({ dataBytes: 4 * KiB, zeroBytes: 0, preallocatedBytes: 60 * KiB });
  });

  it('works at offsets above 2^32 and 2^41 bytes', () => {
    const far = 2 ** 41 + 3 * 65536; // 2 TiB + 192 KiB
    const big = [e(2 ** 32, 64 * KiB, 'data', 0, 2 ** 33 + 512), e(far, 128 * KiB, 'data', 0, 2 ** 42)];
    const chain = [e(0, 2 ** 32, 'unalloc', 2), e(2 ** 32, 64 * KiB, 'data', 1, 2 ** 33 + 512), e(2 ** 32 + 64 * KiB, far - 2 ** 32 - 64 * KiB, 'unalloc', 2),
      e(far, 64 * KiB, 'data', 0, 7 * MiB), e(far + 64 * KiB, 64 * KiB, 'data', 1, 2 ** 42 + 64 * KiB), e(far + 128 * KiB, 3 * TiB - far - 128 * KiB, 'unalloc', 2)];
    expect(shadowedBytes(once(big), once(chain), 1, false, 3 * TiB)).toEqual({ dataBytes: 64 * KiB, zeroBytes: 0, preallocatedBytes: 0 });
  });

  it('agrees with own totals minus visible totals', () => {
    const chain = [e(0, 100 * KiB, 'data', 0), e(100 * KiB, 156 * KiB, 'data', 1), e(256 * KiB, 64 * KiB, 'zero', 0),
      e(320 * KiB, 64 * KiB, 'prealloc', 1), e(384 * KiB, 640 * KiB, 'data', 0)];
    const got = shadowedBytes(once(own), once(chain), 1, false, MiB);
    const visible = { data: 156 * KiB, zero: 0, prealloc: 64 * KiB };
    expect(got).toEqual({ dataBytes: 256 * KiB - visible.data, zeroBytes: 64 * KiB - visible.zero, preallocatedBytes: 128 * KiB - visible.prealloc });
  });

  it('refuses unsorted or overlapping maps', () => {
    expect(() => shadowedBytes(once([e(64 * KiB, 4096, 'data'), e(0, 4096, 'data')]), once([]), 1, false, MiB)).toThrow(/sorted/);
    expect(() => shadowedBytes(once([]), once([e(0, 8192, 'data', 1), e(4096, 4096, 'data', 1)]), 1, false, MiB)).toThrow(/sorted/);
  });
});
