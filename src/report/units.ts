/**
 * Number formatting for human output: IEC sizes with one decimal
 * (`1.5 GiB`, bytes below 1 KiB exactly: `512 B`), signed sizes for
 * deltas, percentages with one decimal, and exact integers for `--bytes`.
 */

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'] as const;

/** IEC size: `0 B`, `512 B`, `1.0 KiB`, `1023.9 MiB`, `1.5 GiB`. */
export function formatIec(bytes: number | bigint): string {
  const magnitude = Math.abs(Number(bytes));
  const sign = Number(bytes) < 0 ? '-' : '';
  let value = magnitude;
  let unit = 0;
  // Switch unit where the rounded figure would reach 1024.0 (no `1024.0 KiB`).
  while (value >= 1023.95 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${sign}${magnitude} B` : `${sign}${value.toFixed(1)} ${UNITS[unit]}`;
}

/** A size in human output: IEC, or the exact integer when `isExact`. */
export function formatBytes(bytes: number | bigint, isExact: boolean): string {
  return isExact ? String(bytes) : formatIec(bytes);
}

/** A signed size (`+1.5 GiB`, `-512 B`, `0 B`; exact: `+1610612736`). */
export function formatBytesDelta(bytes: number | bigint, isExact: boolean): string {
  const sign = Number(bytes) > 0 ? '+' : '';
  return sign + formatBytes(bytes, isExact);
}

/** A percentage (`12.5%`), from a value in percent. */
export function formatPercent(percent: number): string {
  return `${percent.toFixed(1)}%`;
}

/** `part` as a percentage of `whole` (one decimal), or null when `whole` is 0. */
export function percentOf(part: number, whole: number): number | null {
  return whole === 0 ? null : Math.round((1000 * part) / whole) / 10;
}

/** An ISO 8601 time as `2026-11-25 13:45:00Z` (seconds; the `T` and milliseconds dropped). */
export function formatTime(iso: string): string {
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.\d+)?Z$/.exec(iso);
  return match === null ? iso : `${match[1]} ${match[2]}Z`;
}

/** st_dev as `major:minor` (the Linux encoding, as /proc/self/mountinfo shows it). */
export function deviceName(dev: number | bigint): string {
  const d = BigInt(dev);
  const major = ((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn);
  const minor = (d & 0xffn) | ((d >> 12n) & ~0xffn);
  return `${major}:${minor}`;
}
