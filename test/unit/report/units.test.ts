import { describe, expect, it } from 'vitest';
import { formatBytes, formatBytesDelta, formatIec, formatPercent, formatTime, percentOf } from '../../../src/report/units.js';

describe('IEC sizes', () => {
  it.each([
    [0, '0 B'], [1, '1 B'], [1023, '1023 B'], [1024, '1.0 KiB'], [1536, '1.5 KiB'],
    [1024 * 1024 - 1, '1.0 MiB'], [1023.9 * 1024, '1023.9 KiB'], [1.5 * 2 ** 30, '1.5 GiB'], [2 ** 41, '2.0 TiB'],
    [2 ** 60, '1.0 EiB'], [-512, '-512 B'], [-3 * 2 ** 20, '-3.0 MiB'],
  ])('%d bytes is %s', (bytes, text) => {
    expect(formatIec(bytes)).toBe(text);
  });

  it('never prints 1024.0 of a unit', () => {
    for (let exponent = 10; exponent <= 50; exponent += 10) {
      for (const delta of [-1, 0, 1]) expect(formatIec(2 ** exponent + delta)).not.toMatch(/^1024\.0/);
    }
  });

  it('--bytes prints exact integers, bigints too', () => {
    expect(formatBytes(1610612736, true)).toBe('1610612736');
    expect(formatBytes(2n ** 63n, true)).toBe('9223372036854775808');
  });

  it('deltas carry a sign unless zero', () => {
    expect(formatBytesDelta(1536, false)).toBe('+1.5 KiB');
    expect(formatBytesDelta(-1536, false)).toBe('-1.5 KiB');
    expect(formatBytesDelta(0, false)).toBe('0 B');
    expect(formatBytesDelta(42, true)).toBe('+42');
  });
});

describe('percentages and times', () => {
  it('rounds to one decimal', () => {
    expect(percentOf(1, 3)).toBe(33.3);
    expect(percentOf(2, 3)).toBe(66.7);
    expect(percentOf(5, 0)).toBeNull();
    expect(formatPercent(12.25)).toBe('12.3%');
    expect(formatPercent(100)).toBe('100.0%');
  });

  it('shows times to the second, in UTC', () => {
    expect(formatTime('2026-11-25T13:45:00.229Z')).toBe('2026-11-25 13:45:00Z');
    expect(formatTime('2026-11-25T13:45:00Z')).toBe('2026-11-25 13:45:00Z');
    expect(formatTime('yesterday')).toBe('yesterday');
  });
});
