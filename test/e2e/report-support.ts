/**
 * Expectations for the report tests, computed independently of imgaudit:
 * per-image figures from real `qemu-img map --output=json` under the SPEC §3
 * rules (scan-support.expectedFigures), disk usage from stat, and a plain
 * table layout (two spaces between columns, numbers right-aligned) with an
 * IEC formatter of its own.
 */
import fs from 'node:fs';
import path from 'node:path';
import { type Figures, expectedFigures } from './scan-support.js';

/** What the reports must say about one mapped image. */
export interface ExpectedImage extends Figures {
  path: string;
  diskUsageBytes: number;
}

/** Figures from qemu-img map, disk usage from stat (st_blocks × 512). */
export function expectedImage(file: string): ExpectedImage {
  return { path: file, ...expectedFigures(file), diskUsageBytes: fs.statSync(file).blocks * 512 };
}

/** `1.5 GiB`: one decimal, `B` below 1 KiB, the next unit from 1023.95 on. */
export function iec(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = Math.abs(bytes);
  let unit = 0;
  while (value >= 1023.95 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const sign = bytes < 0 ? '-' : '';
  return unit === 0 ? `${sign}${Math.abs(bytes)} B` : `${sign}${value.toFixed(1)} ${units[unit]}`;
}

/** Signed IEC (`+1.0 MiB`, `0 B`). */
export const signedIec = (bytes: number): string => `${bytes > 0 ? '+' : ''}${iec(bytes)}`;

/** A table as text: upper-case headers, columns two spaces apart, `right[i]` columns right-aligned. */
export function layout(headers: string[], rows: string[][], right: boolean[]): string[] {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (right[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
    .join('  ').trimEnd();
  return [line(headers.map((h) => h.toUpperCase())), ...rows.map(line)];
}

/** A path as human output shows it: relative to `base`. */
export const rel = (base: string, file: string): string => path.relative(base, file);

/** Per-depth sums over images. */
export function depthSums(images: readonly Figures[]): Map<number, { data: number; zero: number; preallocated: number; images: number }> {
  const sums = new Map<number, { data: number; zero: number; preallocated: number; images: number }>();
  for (const image of images) {
    for (const d of image.byDepth) {
      const s = sums.get(d.depth) ?? { data: 0, zero: 0, preallocated: 0, images: 0 };
      s.data += d.dataBytes;
      s.zero += d.zeroBytes;
      s.preallocated += d.preallocatedBytes;
      s.images++;
      sums.set(d.depth, s);
    }
  }
  return new Map([...sums].sort((x, y) => x[0] - y[0]));
}

/** One decimal percentage of `part` in `whole`, as the reports print it. */
export const pct = (part: number, whole: number): string => `${(Math.round((1000 * part) / whole) / 10).toFixed(1)}%`;

/** `2026-11-25T13:45:00.229Z` → `2026-11-25 13:45:00Z`. */
export const time = (iso: string): string => `${iso.slice(0, 10)} ${iso.slice(11, 19)}Z`;

/** Headless Chromium (Debian package `chromium`), if installed. */
export const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((bin) => fs.existsSync(bin));

/** The arguments for a headless run that never touches the network. */
export function chromiumArgs(profileDir: string, ...extra: string[]): string[] {
  return ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', `--user-data-dir=${profileDir}`, ...extra];
}
