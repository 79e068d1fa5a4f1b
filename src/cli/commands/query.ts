/**
 * `imgaudit query "SQL"`: one read-only statement over the database (its
 * tables and documented views), as a table, JSON or CSV. The connection is
 * read-only and `PRAGMA query_only` is set. Exit status 0, or 2.
 */
import type { Argv, ArgumentsCamelCase } from 'yargs';
import { UsageError } from '../../errors.js';
import { QUERY_RENDERERS, type QueryFormat, formatsOf } from '../../report/index.js';
import { type Table, columnOf } from '../../report/table.js';
import { makeQueryOnly, runSelect } from '../../store/query-sql.js';
import { openForReading } from '../../store/report-db.js';
import type { CliCommand } from '../commands.js';
import {
  commandConfig, renderOptions, repeated, runCommand, withDatabaseOptions, withOutputOptions, writeOutput,
} from './report-cli.js';

function builder(yargs: Argv): Argv {
  return withOutputOptions(withDatabaseOptions(yargs), formatsOf(QUERY_RENDERERS), 'table')
    .positional('sql', { type: 'string', describe: 'one SELECT statement' })
    .option('param', { alias: 'p', type: 'string', describe: 'NAME=VALUE for $NAME in the SQL (repeatable)' })
    .example('imgaudit query "SELECT path, disk_usage_bytes FROM latest_image_states ORDER BY 2 DESC LIMIT 5"',
      'the five largest images')
    .example('imgaudit query -p run=3 "SELECT * FROM run_root_totals WHERE run_id = \\$run" --format csv', 'with a parameter')
    .example('imgaudit query "SELECT root, daily_growth_bytes, days_to_full FROM run_root_growth WHERE run_id = '
      + '(SELECT id FROM latest_run)"', 'growth per root and days until its file system is full')
    .epilog('Views (docs/sql.md; filter on run_id): latest_run, latest_image_states, run_totals, run_image_states, '
      + 'run_image_depths, run_layer_figures, run_depth_categories, run_root_totals, run_format_totals, '
      + 'run_root_depth_totals, run_image_files, run_base_usage, run_findings_all, run_images_in_use, image_growth, '
      + 'map_entries_expanded; '
      + 'for capacity planning: run_filesystem_overcommit, run_filesystem_growth, run_root_growth, '
      + 'run_root_usage_history, run_flatten_candidates. Columns named *_bytes show as IEC sizes in the table format '
      + 'unless --bytes. Exit status: 0 done; 2 an SQL or database error.');
}

function params(values: readonly string[]): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const value of values) {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(value);
    if (match === null) throw new UsageError(`--param: expected NAME=VALUE, got '${value}'`);
    out[match[1]!] = /^-?\d{1,15}$/.test(match[2]!) ? Number(match[2]) : match[2]!;
  }
  return out;
}

async function run(argv: ArgumentsCamelCase): Promise<number> {
  return runCommand('query', () => {
    const sql = String(argv.sql ?? '');
    if (sql.trim() === '') throw new UsageError('query: give one SQL statement');
    const bound = params(repeated(argv.param));
    const db = openForReading(commandConfig(argv).database, { mayMigrate: false });
    let text: string;
    try {
      makeQueryOnly(db);
      const result = runSelect(db, sql, bound);
      const table: Table = {
        name: 'query', title: '', columns: result.columns.map((key) => columnOf(key)), rows: result.rows,
      };
      text = QUERY_RENDERERS[argv.format as QueryFormat](table, renderOptions(argv));
    } finally {
      db.close();
    }
    writeOutput(text, argv.out as string | undefined);
    return 0;
  });
}

/** The `query` command. */
export const queryCommand: CliCommand = {
  command: 'query <sql>',
  describe: 'run one read-only SQL statement over the database',
  builder,
  run,
};
