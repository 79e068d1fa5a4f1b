/**
 * Inline SVG bar charts for the HTML output: one horizontal bar per table
 * row, stacked over the chart's series. Positive parts stack right of the
 * zero line and negative parts left of it, so deltas and growth draw as
 * well as sizes. Every part carries a <title> tooltip with its value.
 */
import { html } from '../escape.js';
import type { Table } from '../table.js';
import { type HumanOptions, humanCell } from './cells.js';
import { formatBytes, formatBytesDelta } from '../units.js';

/** At most this many bars per chart (the table below holds every row). */
export const MAX_BARS = 30;

const WIDTH = 880;
const LABEL_WIDTH = 260;
const VALUE_WIDTH = 110;
const BAR_HEIGHT = 18;
const ROW_HEIGHT = 24;
const TOP = 28;

const COLORS: readonly [RegExp, string][] = [
  [/(^|_)data(_|$)/, '#2f6fdf'],
  [/zero/, '#8fb3ee'],
  [/prealloc/, '#f0a23b'],
  [/unalloc/, '#b8bcc4'],
  [/avail|free/, '#9fd08c'],
];
const PALETTE = ['#2f6fdf', '#e4572e', '#17bebb', '#76b041', '#9b5de5', '#f0a23b'];

function colorOf(key: string, index: number): string {
  return COLORS.find(([pattern]) => pattern.test(key))?.[1] ?? PALETTE[index % PALETTE.length]!;
}

function numberOf(value: unknown): number {
  return typeof value === 'number' ? value : typeof value === 'bigint' ? Number(value) : 0;
}

function shorten(text: string, length: number): string {
  return text.length <= length ? text : `…${text.slice(text.length - length + 1)}`;
}

/** The SVG chart of a table with a chart spec (empty string when it has none or no rows). */
export function barChart(table: Table, human: HumanOptions): string {
  const spec = table.chart;
  if (spec === undefined || table.rows.length === 0) return '';
  const index = (key: string): number => table.columns.findIndex((column) => column.key === key);
  const series = spec.seriesKeys.map((key) => ({ key, index: index(key), column: table.columns[index(key)]! }));
  const labelColumn = table.columns[index(spec.labelKey)]!;
  const rows = table.rows.slice(0, MAX_BARS);
  const values = rows.map((row) => series.map((s) => numberOf(row[s.index])));
  const maxPositive = Math.max(0, ...values.map((v) => v.filter((x) => x > 0).reduce((a, b) => a + b, 0)));
  const maxNegative = Math.max(0, ...values.map((v) => -v.filter((x) => x < 0).reduce((a, b) => a + b, 0)));
  const area = WIDTH - LABEL_WIDTH - VALUE_WIDTH;
  const scale = maxPositive + maxNegative === 0 ? 0 : area / (maxPositive + maxNegative);
  const zeroX = LABEL_WIDTH + maxNegative * scale;
  const height = TOP + rows.length * ROW_HEIGHT + 8;
  const isSigned = series.some((s) => s.column.kind === 'bytes-delta') || maxNegative > 0;
  const parts: string[] = [];
  series.forEach((s, i) => {
    parts.push(`<rect x="${LABEL_WIDTH + i * 150}" y="4" width="12" height="12" fill="${colorOf(s.key, i)}"/>`,
      `<text x="${LABEL_WIDTH + i * 150 + 16}" y="14">${html(s.column.label)}</text>`);
  });
  rows.forEach((row, r) => {
    const y = TOP + r * ROW_HEIGHT;
    const label = humanCell(labelColumn, row[index(spec.labelKey)]!, human);
    parts.push(`<text x="${LABEL_WIDTH - 8}" y="${y + 13}" text-anchor="end">${html(shorten(label, 38))}<title>${html(label)}</title></text>`);
    let right = zeroX;
    let left = zeroX;
    let total = 0;
    series.forEach((s, i) => {
      const value = values[r]![i]!;
      total += value;
      if (value === 0) return;
      const width = Math.max(1, Math.abs(value) * scale);
      const x = value > 0 ? right : left - width;
      if (value > 0) right += width;
      else left -= width;
      const text = s.column.kind === 'bytes-delta' ? formatBytesDelta(value, false) : formatBytes(value, false);
      parts.push(`<rect x="${x.toFixed(1)}" y="${y}" width="${width.toFixed(1)}" height="${BAR_HEIGHT}" `
        + `fill="${colorOf(s.key, i)}"><title>${html(`${label}: ${s.column.label} ${text} (${value} bytes)`)}</title></rect>`);
    });
    const totalText = isSigned ? formatBytesDelta(total, false) : formatBytes(total, false);
    parts.push(`<text x="${WIDTH - 4}" y="${y + 13}" text-anchor="end">${html(totalText)}</text>`);
  });
  if (maxNegative > 0) {
    parts.push(`<line x1="${zeroX.toFixed(1)}" y1="${TOP - 4}" x2="${zeroX.toFixed(1)}" y2="${height - 4}" stroke="#555"/>`);
  }
  const more = table.rows.length > rows.length ? `<p class="note">First ${rows.length} of ${table.rows.length} rows.</p>` : '';
  return `<svg class="chart" role="img" aria-label="${html(table.title)}" viewBox="0 0 ${WIDTH} ${height}" `
    + `width="${WIDTH}" height="${height}">${parts.join('')}</svg>${more}`;
}
