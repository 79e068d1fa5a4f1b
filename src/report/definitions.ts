/**
 * Report definitions: the `.sql` files of the top-level `reports/` folder
 * (and of any folder given with `--definitions`). Adding a report is adding
 * a file. A definition is one SELECT over the documented views, preceded by
 * a header of `-- key: value` comment lines:
 *
 *     -- title: Bytes per chain depth          (required)
 *     -- about: what the numbers mean          (optional; `--   ` continues a line)
 *     -- overview: 10                          (optional: position in `imgaudit report`)
 *     -- chart: data_bytes zero_bytes          (optional: HTML bars stacked over these columns)
 *     -- label: depth                          (optional: the column naming each bar; default the first)
 *     -- plot: line                            (optional: bars (default), or a line over the rows in order
 *                                               whose axis starts where the data is: a history)
 *     -- text: path data_bytes                 (optional: the columns text and markdown show, in order)
 *     -- detail: error_code                    (optional: columns text shows below their row, when set)
 *
 * Parameters the SQL may use: `$run_id` (the reported run),
 * `$previous_run_id` (the complete run before it, or NULL), `$limit`
 * (`--top N`). Columns are rendered by their name's unit suffix (table.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../io/package-root.js';
import { UsageError } from '../errors.js';

/** `reports/` at the package root (from sources, the library and the bundle). */
export const REPORTS_DIR = path.join(packageRoot(), 'reports') + path.sep;

/** A parsed definition. */
export interface ReportDefinition {
  name: string;
  file: string;
  title: string;
  about: string | null;
  /** Position in the overview (`imgaudit report` without --by/--report); null: not in it. */
  overviewOrder: number | null;
  chartSeries: string[];
  chartLabel: string | null;
  /** `bars` (stacked, from zero) or `line` (a series over the rows, its axis fitted to the data). */
  chartPlot: 'bars' | 'line';
  /** Columns text and markdown show (null: all). */
  textColumns: string[] | null;
  /** Columns text shows below their row. */
  detailColumns: string[];
  sql: string;
}

/** A definition file that cannot be used; names the file and the problem. */
export class DefinitionError extends UsageError {}

const NAME = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const KEYS = new Set(['title', 'about', 'overview', 'chart', 'label', 'plot', 'text', 'detail']);

const words = (text: string | undefined): string[] => (text ?? '').split(/[\s,]+/).filter(Boolean);

/** Parses one definition's text. Throws DefinitionError. */
export function parseDefinition(name: string, file: string, text: string): ReportDefinition {
  const header = new Map<string, string>();
  const lines = text.split(/\r?\n/);
  let index = 0;
  let lastKey: string | null = null;
  for (; index < lines.length; index++) {
    const line = lines[index]!;
    if (line.trim() === '') continue;
    const field = /^--\s?([a-z]+):\s*(.*)$/.exec(line);
    const continued = /^--\s{2,}(\S.*)$/.exec(line);
    if (continued !== null && lastKey !== null) {
      header.set(lastKey, `${header.get(lastKey)!} ${continued[1]!.trim()}`);
    } else if (field !== null) {
      const key = field[1]!;
      if (!KEYS.has(key)) throw new DefinitionError(`report definition ${file}: unknown header key '${key}'`);
      header.set(key, field[2]!.trim());
      lastKey = key;
    } else if (line.startsWith('--')) {
      lastKey = null;
    } else {
      break;
    }
  }
  const sql = lines.slice(index).join('\n').trim().replace(/;\s*$/, '');
  const title = header.get('title');
  if (title === undefined || title === '') throw new DefinitionError(`report definition ${file}: no '-- title:' line`);
  if (sql === '') throw new DefinitionError(`report definition ${file}: no SQL after the header`);
  const overview = header.get('overview');
  if (overview !== undefined && !/^\d{1,4}$/.test(overview)) {
    throw new DefinitionError(`report definition ${file}: 'overview' must be a number, got '${overview}'`);
  }
  const plot = header.get('plot') ?? 'bars';
  if (plot !== 'bars' && plot !== 'line') {
    throw new DefinitionError(`report definition ${file}: 'plot' must be bars or line, got '${plot}'`);
  }
  return {
    name, file, title, about: header.get('about') ?? null, chartPlot: plot,
    overviewOrder: overview === undefined ? null : Number(overview),
    chartSeries: words(header.get('chart')),
    chartLabel: header.get('label') ?? null,
    textColumns: header.has('text') ? words(header.get('text')) : null,
    detailColumns: words(header.get('detail')),
    sql,
  };
}

/**
 * Loads the definitions of `dirs` (later folders override same-named
 * definitions of earlier ones), by name. Throws DefinitionError.
 */
export function loadDefinitions(dirs: readonly string[] = [REPORTS_DIR]): Map<string, ReportDefinition> {
  const definitions = new Map<string, ReportDefinition>();
  for (const dir of dirs) {
    let names: string[];
    try {
      names = fs.readdirSync(dir).filter((entry) => entry.endsWith('.sql')).sort();
    } catch (error) {
      throw new DefinitionError(`cannot read report definitions from '${dir}': ${(error as NodeJS.ErrnoException).code ?? error}`);
    }
    for (const entry of names) {
      const name = entry.slice(0, -'.sql'.length);
      const file = path.join(dir, entry);
      if (!NAME.test(name)) throw new DefinitionError(`report definition ${file}: name it in kebab-case (e.g. top-images.sql)`);
      definitions.set(name, parseDefinition(name, file, fs.readFileSync(file, 'utf8')));
    }
  }
  return definitions;
}

/** The definitions shown by `imgaudit report` without --by/--report, in order. */
export function overviewDefinitions(definitions: ReadonlyMap<string, ReportDefinition>): ReportDefinition[] {
  return [...definitions.values()]
    .filter((definition) => definition.overviewOrder !== null)
    .sort((a, b) => a.overviewOrder! - b.overviewOrder! || a.name.localeCompare(b.name));
}
