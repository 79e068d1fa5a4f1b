/**
 * `imgaudit report [--run ID|latest] [--format F] [--by D | --report NAME] [--out FILE]`:
 * renders a stored run. Without --by/--report: the overview (totals and the
 * report definitions that have an overview position); JSON is then the
 * SPEC §2.3 contract. Exit status 0, or 2 when it cannot run.
 */
import type { Argv, ArgumentsCamelCase } from 'yargs';
import { durationMs } from '../../config/parsers.js';
import { UsageError } from '../../errors.js';
import { buildReport, reportParts } from '../../report/build-report.js';
import { buildFleet } from '../../report/fleet/build-fleet.js';
import { FLEET_RENDERERS } from '../../report/fleet/render-fleet.js';
import { REPORTS_DIR, type ReportDefinition, loadDefinitions, overviewDefinitions } from '../../report/definitions.js';
import { REPORT_RENDERERS, type ReportFormat, formatsOf } from '../../report/index.js';
import { parseRunSpec } from '../../report/select-run.js';
import type { CliCommand } from '../commands.js';
import {
  commandConfig, integerFlag, renderOptions, repeated, runCommand, withDatabaseOptions, withHostDb, withOutputOptions, withReadStore, writeOutput,
} from './report-cli.js';

const DIMENSIONS = ['image', 'layer', 'depth', 'root', 'format'];

function builder(yargs: Argv): Argv {
  return withOutputOptions(withDatabaseOptions(yargs), formatsOf(REPORT_RENDERERS), 'text')
    .option('run', { alias: 'r', type: 'string', default: 'latest', describe: 'run id, or latest (the newest complete run)' })
    .option('by', { choices: DIMENSIONS, describe: 'one table, per image, layer (image x layer), depth, root or format (CSV default: image)' })
    .option('report', { type: 'string', describe: 'one report definition by name (see --list)' })
    .conflicts('by', 'report')
    .option('top', { type: 'number', describe: 'rows of the top-N tables [default: 10]' })
    .option('definitions', { type: 'string', describe: 'more report definitions (*.sql) from DIR (repeatable)' })
    .option('list', { type: 'boolean', describe: 'list the report definitions and exit' })
    .option('fleet', { type: 'boolean', describe: 'the fleet view of a central store: every host (reports/fleet/)' })
    .option('stale-after', { type: 'string', describe: 'with --fleet: a host whose last complete run is older is a finding [default: 36h]' })
    .option('window', { type: 'string', describe: 'with --fleet: growth since the oldest complete run this long before the newest [default: 30d]' })
    .conflicts('fleet', ['by', 'report', 'host'])
    .option('deprecated-metrics', {
      type: 'boolean',
      describe: 'prometheus: also write metrics under their pre-0.3 names (imgaudit_filesystem_days_to_full), until 0.4',
    })
    .example('imgaudit report', 'overview of the newest complete run')
    .example('imgaudit report --by root --bytes', 'one row per root, exact byte counts')
    .example('imgaudit report --format html --out /srv/www/imgaudit.html', 'a page with charts')
    .example('imgaudit report --format prometheus --out /var/lib/node_exporter/textfile/imgaudit.prom',
      'for the node_exporter textfile collector')
    .example('imgaudit report --report top-growth --format csv', 'any definition of reports/, in any format')
    .example('imgaudit report --fleet --db postgres://reader@central/imgaudit', 'every host of a central store')
    .epilog('A report definition is a file of reports/ (or of --definitions DIR): one SELECT over the '
      + 'documented views, with a header of "-- title:", "-- about:", "-- overview:" and "-- chart:" lines. '
      + 'Exit status: 0 done; 2 bad arguments, no such run, or a database error.');
}

function listDefinitions(definitions: ReadonlyMap<string, ReportDefinition>): string {
  const rows = [...definitions.values()].sort((a, b) => a.name.localeCompare(b.name));
  const width = Math.max(...rows.map((d) => d.name.length));
  return rows.map((d) => `${d.name.padEnd(width)}  ${d.title}${d.overviewOrder === null ? '' : ' (overview)'}\n`).join('');
}

/** The definitions to render, and whether that is the overview (no --by, no --report). */
function sectionsOf(argv: ArgumentsCamelCase, format: ReportFormat,
  definitions: ReadonlyMap<string, ReportDefinition>): { isOverview: boolean; sections: ReportDefinition[] } {
  const name = argv.report !== undefined ? String(argv.report)
    : argv.by !== undefined ? `by-${String(argv.by)}`
      : format === 'csv' ? 'by-image' : null;
  if (name === null) {
    // JSON and Prometheus do not show the definitions: skip their queries.
    const isShown = format !== 'json' && format !== 'prometheus';
    return { isOverview: true, sections: isShown ? overviewDefinitions(definitions) : [] };
  }
  if (format === 'prometheus') throw new UsageError('--format prometheus has fixed metrics: it takes no --by or --report');
  const definition = definitions.get(name);
  if (definition === undefined) {
    throw new UsageError(`no report definition '${name}' (known: ${[...definitions.keys()].sort().join(', ')})`);
  }
  return { isOverview: false, sections: [definition] };
}

function durationFlag(argv: ArgumentsCamelCase, key: string, flag: string, fallback: string): number {
  const text = argv[key] === undefined ? fallback : String(argv[key]);
  const ms = durationMs(text);
  if (ms === null || ms <= 0) throw new UsageError(`${flag}: expected a duration such as 36h, 7d, 12w or 1y, got '${text}'`);
  return ms;
}

async function runFleet(argv: ArgumentsCamelCase): Promise<number> {
  const format = argv.format as string;
  if (!(format in FLEET_RENDERERS)) throw new UsageError(`--fleet: --format ${format} is not available`);
  if (argv.run !== 'latest') throw new UsageError('--fleet shows each host\'s newest complete run: it takes no --run');
  const config = commandConfig(argv);
  const request = {
    now: new Date(), staleAfterMs: durationFlag(argv, 'staleAfter', '--stale-after', '36h'),
    windowDays: Math.max(1, Math.round(durationFlag(argv, 'window', '--window', '30d') / 86_400_000)),
    orphanMinAgeMs: durationMs(config.check.orphanMinAge)!, fillWarningDays: config.check.fillWarningDays,
    limit: integerFlag(argv, 'top', '--top', 10, 100_000),
  };
  const text = await withReadStore(argv, config.database, async (store) => {
    const model = await buildFleet(store, request);
    return FLEET_RENDERERS[format as keyof typeof FLEET_RENDERERS](model, renderOptions(argv));
  });
  writeOutput(text, argv.out as string | undefined);
  return 0;
}

async function run(argv: ArgumentsCamelCase): Promise<number> {
  return runCommand('report', async () => {
    if (argv.fleet === true) return runFleet(argv);
    const dirs = [REPORTS_DIR, ...repeated(argv.definitions)];
    const definitions = loadDefinitions(dirs);
    if (argv.list === true) {
      writeOutput(listDefinitions(definitions), argv.out as string | undefined, commandConfig(argv).database);
      return 0;
    }
    const format = argv.format as ReportFormat;
    const { isOverview, sections } = sectionsOf(argv, format, definitions);
    const limit = integerFlag(argv, 'top', '--top', 10, 100_000);
    const runSpec = parseRunSpec(argv.run as string | undefined, '--run');
    const config = commandConfig(argv);
    const text = await withHostDb(argv, config.database, (db) => {
      const model = buildReport(db, {
        run: runSpec, sections, limit, orphanMinAgeMs: durationMs(config.check.orphanMinAge)!, parts: reportParts(format, isOverview),
      });
      return REPORT_RENDERERS[format]({ model, isOverview, isDeprecatedMetrics: argv.deprecatedMetrics === true }, renderOptions(argv));
    });
    writeOutput(text, argv.out as string | undefined, config.database);
    return 0;
  });
}

/** The `report` command. */
export const reportCommand: CliCommand = {
  command: 'report',
  describe: 'render a stored run: totals and bytes per depth, root, format and image',
  builder,
  run,
};
