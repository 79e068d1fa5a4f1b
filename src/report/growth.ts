/**
 * Growth and projection: the least-squares slope of disk usage over the
 * kept complete runs (bytes per day, against each run's start time), and
 * when a file system's available space reaches 0 at that rate.
 */

/** One observation: `days` (any origin), `bytes`. */
export interface UsagePoint {
  days: number;
  bytes: number;
}

const DAY_MS = 86_400_000;

/**
 * Runs closer together than this give no growth rate: two scans minutes
 * apart would turn noise into a projection that the disk fills in hours.
 */
export const MIN_GROWTH_SPAN_DAYS = 1;

/** Days since the epoch of an ISO 8601 time. */
export function daysOf(iso: string): number {
  return Date.parse(iso) / DAY_MS;
}

/**
 * A least-squares fit of bytes over days, fed one point at a time. Each
 * coordinate is taken relative to the first point's, so epoch days and
 * large byte counts keep their precision in the sums.
 */
export class SlopeFit {
  private n = 0;
  private originDays = 0;
  private originBytes = 0;
  private sx = 0;
  private sy = 0;
  private sxy = 0;
  private sxx = 0;
  private minX = 0;
  private maxX = 0;

  add(days: number, bytes: number): void {
    if (this.n === 0) {
      this.originDays = days;
      this.originBytes = bytes;
    }
    const x = days - this.originDays;
    const y = bytes - this.originBytes;
    this.n++;
    this.minX = Math.min(this.minX, x);
    this.maxX = Math.max(this.maxX, x);
    this.sx += x;
    this.sy += y;
    this.sxy += x * y;
    this.sxx += x * x;
  }

  /** Bytes per day, or null with fewer than 2 points or when they span less than MIN_GROWTH_SPAN_DAYS. */
  slope(): number | null {
    if (this.n < 2 || this.maxX - this.minX < MIN_GROWTH_SPAN_DAYS) return null;
    const denominator = this.n * this.sxx - this.sx * this.sx;
    return denominator === 0 ? null : (this.n * this.sxy - this.sx * this.sy) / denominator;
  }
}

/**
 * The least-squares slope of `bytes` over `days` (bytes per day), or null
 * with fewer than 2 points or when they span less than a day.
 */
export function growthPerDay(points: readonly UsagePoint[]): number | null {
  const fit = new SlopeFit();
  for (const p of points) fit.add(p.days, p.bytes);
  return fit.slope();
}

/** When a file system fills at a growth rate. */
export interface FillProjection {
  /** Days from `at` until available space reaches 0 (one decimal); null when not growing. */
  daysToFull: number | null;
  /** The UTC date (YYYY-MM-DD) it does; null when not growing. */
  fillsAt: string | null;
}

/** The projection of `availableBytes` at `at` consumed at `bytesPerDay`. */
export function fillProjection(availableBytes: number, bytesPerDay: number | null, at: string): FillProjection {
  if (bytesPerDay === null || !(bytesPerDay > 0)) return { daysToFull: null, fillsAt: null };
  const days = Math.max(0, availableBytes) / bytesPerDay;
  const fillsMs = Date.parse(at) + days * DAY_MS;
  const fillsAt = Number.isFinite(fillsMs) && Math.abs(fillsMs) <= 8.64e15 ? new Date(fillsMs).toISOString().slice(0, 10) : null;
  return { daysToFull: Math.floor(days * 10) / 10, fillsAt };
}
