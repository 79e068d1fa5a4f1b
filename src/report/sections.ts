/** Running report definitions (reports/*.sql) against a run: each becomes a typed Table. */
import type { Db } from '../store/db.js';
import { type SqlParams, runSelect } from '../store/query-sql.js';
import type { ReportDefinition } from './definitions.js';
import { DefinitionError } from './definitions.js';
import { type Cell, type Table, columnOf } from './table.js';

/** The parameters every definition may use. */
export interface SectionParams {
  runId: number;
  previousRunId: number | null;
  /** `--top N`. */
  limit: number;
}

function checkColumns(definition: ReportDefinition, columns: readonly string[], keys: readonly string[], what: string): void {
  const missing = keys.filter((key) => !columns.includes(key));
  if (missing.length > 0) {
    throw new DefinitionError(`report definition ${definition.file}: '${what}' names ${missing.map((k) => `'${k}'`).join(', ')}, `
      + `which the query does not return (it returns ${columns.join(', ')})`);
  }
}

/** Runs one definition. Throws UsageError (SQL errors) or DefinitionError. */
export function sectionTable(db: Db, definition: ReportDefinition, params: SectionParams): Table {
  const sqlParams: SqlParams = { run_id: params.runId, previous_run_id: params.previousRunId, limit: params.limit };
  let result;
  try {
    result = runSelect(db, definition.sql, sqlParams);
  } catch (error) {
    throw new DefinitionError(`report definition ${definition.file}: ${(error as Error).message}`, { cause: error });
  }
  const { columns, rows } = result;
  checkColumns(definition, columns, definition.chartSeries, 'chart');
  checkColumns(definition, columns, definition.textColumns ?? [], 'text');
  checkColumns(definition, columns, definition.detailColumns, 'detail');
  if (definition.chartLabel !== null) checkColumns(definition, columns, [definition.chartLabel], 'label');
  const table: Table = {
    name: definition.name,
    title: definition.title,
    columns: columns.map((key) => columnOf(key, { isDetail: definition.detailColumns.includes(key) })),
    rows: rows as Cell[][],
  };
  if (definition.about !== null) table.about = definition.about;
  if (definition.textColumns !== null) table.textColumnKeys = definition.textColumns;
  if (definition.chartSeries.length > 0) {
    table.chart = { seriesKeys: definition.chartSeries, labelKey: definition.chartLabel ?? columns[0]!, plot: definition.chartPlot };
  }
  return table;
}
