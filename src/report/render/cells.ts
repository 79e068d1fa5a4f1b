/** One cell as human output shows it (text, markdown, HTML share this), and column alignment. */
import path from 'node:path';
import type { Cell, Column, Table } from '../table.js';
import { formatBytes, formatBytesDelta, formatPercent, formatTime } from '../units.js';

/** How human output shows values. */
export interface HumanOptions {
  /** `--bytes`: exact integers instead of IEC sizes. */
  isExactBytes: boolean;
  /** Paths under this directory are shown relative to it. */
  pathBase: string | null;
}

const NUMERIC_KINDS = new Set(['bytes', 'bytes-delta', 'percent', 'ratio', 'integer']);

/**
 * A path for people: normalised (`a/../b` → `b`), relative to `base` when
 * under it (`base` itself: its last name).
 */
export function displayPath(value: string, base: string | null): string {
  const normal = value.startsWith('/') ? path.posix.normalize(value) : value;
  if (base === null || base === '/') return normal;
  if (normal === base) return path.posix.basename(normal);
  return normal.startsWith(`${base}/`) ? normal.slice(base.length + 1) : normal;
}

/** The text of one cell (not escaped); `-` for no value. */
export function humanCell(column: Column, cell: Cell, options: HumanOptions): string {
  if (cell === null || cell === undefined) return '-';
  const isNumber = typeof cell === 'number' || typeof cell === 'bigint';
  switch (column.kind) {
    case 'bytes': return isNumber ? formatBytes(cell, options.isExactBytes) : String(cell);
    case 'bytes-delta': return isNumber ? formatBytesDelta(cell, options.isExactBytes) : String(cell);
    case 'percent': return typeof cell === 'number' ? formatPercent(cell) : String(cell);
    case 'ratio': return typeof cell === 'number' ? `${cell.toFixed(2)}x` : String(cell);
    case 'path': return displayPath(String(cell), options.pathBase);
    case 'paths': return String(cell).split(' ').filter(Boolean).map((p) => displayPath(p, options.pathBase)).join(', ');
    case 'time': return formatTime(String(cell));
    case 'boolean': return cell === true || cell === 1 ? 'yes' : cell === false || cell === 0 ? 'no' : String(cell);
    default: return String(cell);
  }
}

/** True when a column is right-aligned: numeric kinds, or every value a number. */
export function isRightAligned(table: Table, index: number): boolean {
  const column = table.columns[index]!;
  if (NUMERIC_KINDS.has(column.kind)) return true;
  if (column.kind !== 'text') return false;
  const values = table.rows.map((row) => row[index]).filter((cell) => cell !== null && cell !== undefined);
  return values.length > 0 && values.every((cell) => typeof cell === 'number' || typeof cell === 'bigint');
}

/** The columns text and markdown show, with their indexes in the rows. */
export function visibleColumns(table: Table): { column: Column; index: number }[] {
  const all = table.columns.map((column, index) => ({ column, index }));
  if (table.textColumnKeys === undefined) return all;
  return table.textColumnKeys
    .map((key) => all.find((entry) => entry.column.key === key))
    .filter((entry): entry is { column: Column; index: number } => entry !== undefined);
}

/** The directory all roots share (a single root: itself), or null when that is `/`. */
export function commonDirectory(roots: readonly string[]): string | null {
  if (roots.length === 0) return null;
  let common = roots[0]!.split('/');
  for (const root of roots.slice(1)) {
    const parts = root.split('/');
    let i = 0;
    while (i < common.length && i < parts.length && common[i] === parts[i]) i++;
    common = common.slice(0, i);
  }
  const base = common.join('/');
  return base === '' || base === '/' ? null : base;
}
