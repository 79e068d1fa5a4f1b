/**
 * Inline SVG bar charts for the HTML output: one horizontal bar per table
 * row, stacked over the chart's series. Positive parts stack right of the
 * zero line and negative parts left of it, so deltas and growth draw as
 * well as sizes. Every part carries a <title> tooltip with its value. A
 * history (`plot: line`) is a line chart instead, its axis starting where
 * the data is.
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

/** A step of 1, 2 or 5 × 10^n (or × 1024^k for bytes) that cuts `span` into about `count` parts. */
function niceStep(span: number, count: number, isBytes: boolean): number {
  // Bytes: steps of round numbers in the IEC unit the span is counted in (1 GiB, 2.5 GiB, 500 MiB).
  let unit = 1;
  while (isBytes && span >= unit * 1024) unit *= 1024;
  const raw = span / count / unit;
  const power = 10 ** Math.floor(Math.log10(raw));
  return unit * ([1, 2, 2.5, 5, 10].map((m) => m * power).find((step) => step >= raw) ?? 10 * power);
}

const LINE_HEIGHT = 220;
const LINE_LEFT = 90;
const LINE_BOTTOM = 40;

/**
 * A line chart of the rows in order (a history): one line per series, the
 * value axis from just below the smallest value to just above the largest
 * (not from zero), ticks labelled in the column's unit.
 */
function lineChart(table: Table, human: HumanOptions): string {
  const spec = table.chart!;
  const index = (key: string): number => table.columns.findIndex((column) => column.key === key);
  const series = spec.seriesKeys.map((key) => ({ key, index: index(key), column: table.columns[index(key)]! }));
  const labelColumn = table.columns[index(spec.labelKey)]!;
  const rows = table.rows.slice(-MAX_BARS);
  const all = rows.flatMap((row) => series.map((s) => numberOf(row[s.index])));
  const low = Math.min(...all);
  const high = Math.max(...all);
  const isBytes = series[0]!.column.kind === 'bytes' || series[0]!.column.kind === 'bytes-delta';
  const step = niceStep(high - low || Math.abs(high) || 1, 4, isBytes);
  const bottom = Math.floor(low / step) * step - (low === high ? step : 0);
  const top = Math.max(bottom + step, Math.ceil(high / step) * step + (low === high ? step : 0));
  const plotWidth = WIDTH - LINE_LEFT - 16;
  const plotHeight = LINE_HEIGHT - TOP - LINE_BOTTOM;
  const x = (i: number): number => LINE_LEFT + (rows.length === 1 ? plotWidth / 2 : (i * plotWidth) / (rows.length - 1));
  const y = (v: number): number => TOP + plotHeight - ((v - bottom) / (top - bottom)) * plotHeight;
  const format = (column: typeof series[number]['column'], v: number): string =>
    (column.kind === 'bytes' || column.kind === 'bytes-delta' ? formatBytes(v, false) : humanCell(column, v, human));
  const parts: string[] = [];
  series.forEach((s, i) => {
    parts.push(`<rect x="${LINE_LEFT + i * 150}" y="4" width="12" height="12" fill="${colorOf(s.key, i)}"/>`,
      `<text x="${LINE_LEFT + i * 150 + 16}" y="14">${html(s.column.label)}</text>`);
  });
  for (let v = bottom; v <= top + step / 2; v += step) {
    parts.push(`<line x1="${LINE_LEFT}" y1="${y(v).toFixed(1)}" x2="${WIDTH - 16}" y2="${y(v).toFixed(1)}" stroke="#e1e4ea"/>`,
      `<text x="${LINE_LEFT - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${html(format(series[0]!.column, v))}</text>`);
  }
  const every = Math.ceil(rows.length / 15);
  rows.forEach((row, r) => {
    if (r % every !== 0 && r !== rows.length - 1) return;
    const text = humanCell(labelColumn, row[index(spec.labelKey)]!, human);
    const label = /(^|_)id$/.test(labelColumn.key) ? `#${text}` : text;
    parts.push(`<text x="${x(r).toFixed(1)}" y="${TOP + plotHeight + 18}" text-anchor="middle">${html(shorten(label, 12))}</text>`);
  });
  series.forEach((s, i) => {
    const points = rows.map((row, r) => `${x(r).toFixed(1)},${y(numberOf(row[s.index])).toFixed(1)}`);
    parts.push(`<polyline fill="none" stroke="${colorOf(s.key, i)}" stroke-width="2" points="${points.join(' ')}"/>`);
    rows.forEach((row, r) => {
      const value = numberOf(row[s.index]);
      const label = humanCell(labelColumn, row[index(spec.labelKey)]!, human);
      parts.push(`<circle cx="${x(r).toFixed(1)}" cy="${y(value).toFixed(1)}" r="3.5" fill="${colorOf(s.key, i)}">`
        + `<title>${html(`${labelColumn.label} ${label}: ${s.column.label} ${format(s.column, value)} (${value})`)}</title></circle>`);
    });
  });
  const more = table.rows.length > rows.length ? `<p class="note">Last ${rows.length} of ${table.rows.length} rows.</p>` : '';
  return `<svg class="chart" role="img" aria-label="${html(table.title)}: ${html(series.map((s) => s.column.label).join(', '))} `
    + `from ${html(format(series[0]!.column, low))} to ${html(format(series[0]!.column, high))}" viewBox="0 0 ${WIDTH} ${LINE_HEIGHT}" `
    + `width="${WIDTH}" height="${LINE_HEIGHT}">${parts.join('')}</svg>${more}`;
}

/** The SVG chart of a table with a chart spec (empty string when it has none or no rows). */
export function barChart(table: Table, human: HumanOptions): string {
  const spec = table.chart;
  if (spec === undefined || table.rows.length === 0) return '';
  if (spec.plot === 'line') return lineChart(table, human);
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
