/**
 * qemu's size syntax for -s/-l (qemu_strtosz + cvtnum): decimal integers with
 * an optional fraction and a binary suffix (k, M, G, T, P, E; b/B = bytes),
 * or a 0x hex integer without fraction or suffix; 0 … INT64_MAX.
 */
const INT64_MAX = (1n << 63n) - 1n;
const SUFFIXES: Record<string, bigint> = {
  b: 1n, B: 1n, k: 1n << 10n, K: 1n << 10n, m: 1n << 20n, M: 1n << 20n, g: 1n << 30n, G: 1n << 30n,
  t: 1n << 40n, T: 1n << 40n, p: 1n << 50n, P: 1n << 50n, e: 1n << 60n, E: 1n << 60n,
};

export type SizeParse = { ok: true; value: bigint } | { ok: false; reason: 'invalid' | 'range' };

export function parseQemuSize(text: string): SizeParse {
  const trimmed = text.replace(/^[ \t\n\v\f\r]+/, '');
  const hex = /^\+?0[xX]([0-9a-fA-F]+)$/.exec(trimmed);
  if (hex !== null) {
    const value = BigInt(`0x${hex[1]}`);
    return value > INT64_MAX ? { ok: false, reason: 'range' } : { ok: true, value };
  }
  const match = /^\+?([0-9]+)(?:\.([0-9]*))?([bBkKmMgGtTpPeE]?)$/.exec(trimmed);
  if (match === null) return { ok: false, reason: 'invalid' };
  const whole = BigInt(match[1]!);
  const fraction = match[2] ?? '';
  const multiplier = SUFFIXES[match[3]!] ?? 1n;
  if (multiplier === 1n && /[1-9]/.test(fraction)) return { ok: false, reason: 'invalid' };
  let value = whole * multiplier;
  if (fraction !== '') {
    const scale = 10n ** BigInt(fraction.length);
    value += (BigInt(fraction) * multiplier * 2n + scale) / (2n * scale);
  }
  if (whole > (1n << 64n) - 1n || value > (1n << 64n) - 1n) return { ok: false, reason: 'range' };
  return value > INT64_MAX ? { ok: false, reason: 'range' } : { ok: true, value };
}
