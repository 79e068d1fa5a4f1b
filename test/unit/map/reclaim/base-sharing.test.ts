import { describe, expect, it } from 'vitest';
import { baseSharing } from '../../../../src/map/reclaim/index.js';
import { e, KiB, MiB, once } from './entries.js';

describe('baseSharing', () => {
  // The base holds [0, 512K) itself.
  const base = [e(0, 512 * KiB, 'data', 0, 2 ** 40), e(512 * KiB, 512 * KiB, 'unalloc')];

  it('splits what overlays read into shared, unique and unread bytes', () => {
    const a = [e(0, 256 * KiB, 'data', 1), e(256 * KiB, 768 * KiB, 'data', 0)]; // reads [0, 256K)
    const b = [e(0, 128 * KiB, 'data', 0), e(128 * KiB, 256 * KiB, 'data', 1), e(384 * KiB, 640 * KiB, 'unalloc', 1)]; // [128K, 384K)
    const c = [e(0, 448 * KiB, 'data', 0), e(448 * KiB, 32 * KiB, 'data', 1), e(480 * KiB, 544 * KiB, 'data', 0)]; // [448K, 480K)
    expect(baseSharing(once(base), [once(a), once(b), once(c)])).toEqual({
      readBytes: 384 * KiB + 32 * KiB,
      sharedBytes: 128 * KiB, // [128K, 256K): a and b
      unreadBytes: 64 * KiB + 32 * KiB, // [384K, 448K) and [480K, 512K)
      overlays: [
        { readBytes: 256 * KiB, uniqueBytes: 128 * KiB },
        { readBytes: 256 * KiB, uniqueBytes: 128 * KiB },
        { readBytes: 32 * KiB, uniqueBytes: 32 * KiB },
      ],
    });
  });

  it('counts every own byte unread without overlays, and nothing for empty maps', () => {
    expect(baseSharing(once(base), [])).toEqual({ readBytes: 0, sharedBytes: 0, unreadBytes: 512 * KiB, overlays: [] });
    expect(baseSharing(once([]), [once([]), once([])])).toEqual({
      readBytes: 0, sharedBytes: 0, unreadBytes: 0, overlays: [{ readBytes: 0, uniqueBytes: 0 }, { readBytes: 0, uniqueBytes: 0 }],
    });
  });

  it('handles overlays of unequal virtual sizes and reads past the base\'s end (synthesised zeroes)', () => {
    const short = [e(0, 64 * KiB, 'data', 1)]; // a 64 KiB overlay
    const long = [e(0, MiB, 'data', 1), e(MiB, MiB, 'zero', 1)]; // a 2 MiB overlay reading zeroes past the 1 MiB base
    const got = baseSharing(once(base), [once(short), once(long)]);
    expect(got.overlays).toEqual([{ readBytes: 64 * KiB, uniqueBytes: 0 }, { readBytes: 2 * MiB, uniqueBytes: 2 * MiB - 64 * KiB }]);
    expect(got).toMatchObject({ readBytes: 2 * MiB, sharedBytes: 64 * KiB, unreadBytes: 0 });
  });

  it('works above 2^41 bytes and with many overlays', () => {
    const start = 2 ** 41 + 65536;
    const far = [e(start, 64 * KiB, 'data', 0, 2 ** 43)];
    const overlays = Array.from({ length: 500 }, (_, i) => once([e(start + (i % 2) * 32 * KiB, 32 * KiB, 'data', 1, 2 ** 43)]));
    const got = baseSharing(once(far), overlays);
    expect(got).toMatchObject({ readBytes: 64 * KiB, sharedBytes: 64 * KiB, unreadBytes: 0 });
    expect(got.overlays.every((o) => o.readBytes === 32 * KiB && o.uniqueBytes === 0)).toBe(true);
  });
});
