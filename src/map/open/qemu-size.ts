/**
 * qemu's size syntax (util/cutils.c qemu_strtosz): decimal integers with an
 * optional fraction and a binary suffix (k, M, G, T, P, E; b/B = bytes), or
 * a 0x hex integer without fraction or suffix. qemu-img's -s/-l accept
 * 0 … INT64_MAX (cvtnum); block-driver size options (raw `offset`/`size`)
 * accept 0 … UINT64_MAX (parse_option_size).
 */
export const INT64_MAX = (1n << 63n) - 1n;
export const UINT64_MAX = (1n << 64n) - 1n;

const SUFFIXES: Record<string, bigint> = {
  b: 1n, B: 1n, k: 1n << 10n, K: 1n << 10n, m: 1n << 20n, M: 1n << 20n, g: 1n << 30n, G: 1n << 30n,
  t: 1n << 40n, T: 1n << 40n, p: 1n << 50n, P: 1n << 50n, e: 1n << 60n, E: 1n << 60n,
};

export type SizeParse = { ok: true; value: bigint } | { ok: false; reason: 'invalid' | 'range' };

/** Parses `text` like qemu_strtosz; values above `max` are out of range. */
export function parseQemuSize(text: string, max: bigint = INT64_MAX): SizeParse {
  const trimmed = text.replace(/^[ \t\n\v\f\r]+/, '');
  const hex = /^\+?0[xX]([0-9a-fA-F]+)$/.exec(trimmed);
  if (hex !== null) {
    const value = BigInt(`0x${hex[1]}`);
    return value > max ? { ok: false, reason: 'range' } : { ok: true, value };
  }
  const match = /^\+?([0-9]+)(?:\.([0-9]*))?([bBkKmMgGtTpPeE]?)$/.exec(trimmed);
  if (match === null) return { ok: false, reason: 'invalid' };
  const whole = BigInt(match[1]!);
  const fraction = match[2] ?? '';
  const multiplier = SUFFIXES[match[3]!] ?? 1n;
  // qemu reads the fraction with strtod and keeps it as 64-bit fixed point
  // (truncated; a fraction that rounds to 1.0 overflows to 0), then adds
  // fraction × multiplier rounded half up.
  const scaled = fraction === '' ? 0 : Number.parseFloat(`0.${fraction}`) * 2 ** 64;
  const fixedPoint = scaled >= 2 ** 64 ? 0n : BigInt(Math.trunc(scaled));
  if (multiplier === 1n && fixedPoint !== 0n) return { ok: false, reason: 'invalid' };
  const product = fixedPoint * multiplier;
  const value = whole * multiplier + (product >> 64n) + ((product >> 63n) & 1n);
  if (whole > UINT64_MAX || value > UINT64_MAX) return { ok: false, reason: 'range' };
  return value > max ? { ok: false, reason: 'range' } : { ok: true, value };
}
