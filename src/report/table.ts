/**
 * The shape every human and CSV output is rendered from: a Document of
 * titled tables. Columns are typed by their name's unit suffix (the naming
 * rule of the views and the report definitions), so a definition in
 * `reports/` needs no rendering hints: `*_bytes` is a size, `*_growth_bytes`
 * and `*_delta_bytes` a signed size, `*_pct` a percentage, `*_ratio` a ratio, `*_count` a count,
 * `path`/`*_path`/`root` a path, `*_at` a time. (`paths`, absolute paths separated
 * by spaces, is given explicitly.)
 */

/** How a column's values are shown. */
export type ColumnKind = 'bytes' | 'bytes-delta' | 'percent' | 'ratio' | 'integer' | 'text' | 'path' | 'paths' | 'time' | 'boolean';

/** A column: `key` is its machine name (CSV header, JSON key source). */
export interface Column {
  key: string;
  label: string;
  kind: ColumnKind;
  /** Shown below its row in text output (long messages) instead of in a cell. */
  isDetail?: boolean;
}

/** A value of a row. */
export type Cell = string | number | bigint | boolean | null;

/** Horizontal bars for the HTML output: one bar per row, stacked over `seriesKeys`. */
export interface ChartSpec {
  seriesKeys: string[];
  /** Column whose value labels each bar. */
  labelKey: string;
  /** `line`: one line per series over the rows in order, the value axis fitted to the data (default: bars). */
  plot?: 'bars' | 'line';
}

/** A titled table. */
export interface Table {
  /** Stable name (report definition name, or e.g. `changed`). */
  name: string;
  title: string;
  about?: string;
  columns: Column[];
  rows: Cell[][];
  chart?: ChartSpec;
  /** The columns text and markdown show, in order (default: all). */
  textColumnKeys?: string[];
}

/** A titled list of label/value lines and tables. */
export interface Document {
  title: string;
  meta: { label: string; value: string }[];
  tables: Table[];
  /** The table CSV output holds (CSV is one table). */
  csvTable: Table;
  /** Human outputs show paths under this directory relative to it (null: absolute). */
  pathBase: string | null;
  /** Closing lines (summaries) after the tables. */
  notes?: string[];
}

const INTEGER_NAMES = new Set(['depth', 'chain_length', 'layers', 'id', 'min_depth', 'max_depth']);

/** The kind of a column, from its name. */
export function columnKindOf(key: string): ColumnKind {
  if (key.endsWith('_bytes')) return /(^|_)(growth|delta|change)(_|$)/.test(key) ? 'bytes-delta' : 'bytes';
  if (key.endsWith('_pct')) return 'percent';
  if (key.endsWith('_ratio')) return 'ratio';
  if (key.endsWith('_count') || key.endsWith('_id') || INTEGER_NAMES.has(key)) return 'integer';
  if (key === 'path' || key.endsWith('_path') || key === 'root') return 'path';
  if (key.endsWith('_at')) return 'time';
  if (key.startsWith('is_') || key.startsWith('has_')) return 'boolean';
  return 'text';
}

/**
 * `image` → `images`; a word already plural (or ending in s) stays as it is
 * (`steps`, `runs`, `bytes`), and so does a participle (`changed`).
 */
function plural(word: string): string {
  if (/(s|ed)$/.test(word)) return word;
  if (/(x|ch|sh)$/.test(word)) return `${word}es`;
  if (/[^aeiou]y$/.test(word)) return `${word.slice(0, -1)}ies`;
  return `${word}s`;
}

/**
 * A header label from a column name: units dropped, counts pluralised
 * (`image_count` → `images`, `steps_count` → `steps`, `entry_count` → `entries`).
 */
export function labelOf(key: string): string {
  let label = key;
  if (label.endsWith('_bytes')) label = label.slice(0, -'_bytes'.length);
  else if (label.endsWith('_pct')) label = `${label.slice(0, -'_pct'.length)} %`;
  else if (label.endsWith('_ratio')) label = label.slice(0, -'_ratio'.length);
  else if (label.endsWith('_count')) label = label.slice(0, -'_count'.length).replace(/[a-z]+$/, plural);
  else if (label.startsWith('is_')) label = label.slice('is_'.length);
  return label.replace(/_/g, ' ');
}

/** A column typed and labelled from its name. */
export function columnOf(key: string, overrides: Partial<Omit<Column, 'key'>> = {}): Column {
  return { key, label: labelOf(key), kind: columnKindOf(key), ...overrides };
}

/** `snake_case` → `camelCase` (JSON keys). */
export function camelCase(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}
