/**
 * `imgaudit query "SQL"`: one read-only statement over the database (its
 * tables and documented views), as a table, JSON or CSV. The connection is
 * read-only and `PRAGMA query_only` is set; it runs in a child process,
 * bounded in time and memory (bounded-query.ts). Exit status 0, or 2.
 */
import type { Argv, ArgumentsCamelCase } from 'yargs';
import { UsageError } from '../../errors.js';
import { QUERY_RENDERERS, type QueryFormat, formatsOf } from '../../report/index.js';
import { type Table, columnOf } from '../../report/table.js';
import { runBoundedQuery, runBoundedQueryOn } from '../../store/bounded-query.js';
import { isPostgresUrl } from '../../store/pg/conninfo.js';
import type { CliCommand } from '../commands.js';
import {
  commandConfig, renderOptions, repeated, runCommand, withDatabaseOptions, withOutputOptions, withReadStore, writeOutput,
} from './report-cli.js';

function builder(yargs: Argv): Argv {
  return withOutputOptions(withDatabaseOptions(yargs), formatsOf(QUERY_RENDERERS), 'table')
    .positional('sql', { type: 'string', describe: 'one SELECT statement' })
    .option('param', { alias: 'p', type: 'string', describe: 'NAME=VALUE for $NAME in the SQL (repeatable)' })
    .option('timeout', { type: 'number', describe: 'stop the query after this many seconds [default: 60]' })
    .option('max-memory', { type: 'number', describe: 'MiB of memory the query may use [default: 512]' })
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
      + 'unless --bytes. A query that runs longer than --timeout or needs more than --max-memory is stopped. '
      + 'Exit status: 0 done; 2 an SQL or database error, or a limit passed.');
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
  return runCommand('query', async () => {
    const sql = String(argv.sql ?? '');
    if (sql.trim() === '') throw new UsageError('query: give one SQL statement');
    const bound = params(repeated(argv.param));
    const query: Record<string, unknown> = {};
    if (argv.timeout !== undefined) query.timeoutSeconds = argv.timeout;
    if (argv.maxMemory !== undefined) query.maxMemoryMiB = argv.maxMemory;
    const config = commandConfig(argv, Object.keys(query).length > 0 ? { query } : {},
      { 'query.timeoutSeconds': '--timeout', 'query.maxMemoryMiB': '--max-memory' });
    let result: Awaited<ReturnType<typeof runBoundedQuery>>;
    if (!isPostgresUrl(config.database)) {
      if (argv.host !== undefined) throw new UsageError('--host picks one host of a central store: give --db postgres://...');
      result = await runBoundedQuery(config.database, sql, bound, config.query);
    } else {
      // A central store with --host: the host's runs as its own file has them (same SQL, same output);
      // without: the whole store, in PostgreSQL's dialect, read-only.
      result = await withReadStore(argv, config.database, async (store) => {
        if (argv.host === undefined) return store.select(sql, bound, config.query);
        const db = await store.hostDb({ withMapEntries: true });
        try {
          return await runBoundedQueryOn(db, sql, bound, config.query);
        } finally {
          db.close();
        }
      });
    }
    const table: Table = {
      name: 'query', title: '', columns: result.columns.map((key) => columnOf(key)), rows: result.rows,
    };
    writeOutput(QUERY_RENDERERS[argv.format as QueryFormat](table, renderOptions(argv)), argv.out as string | undefined, config.database);
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
