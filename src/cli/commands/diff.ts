/**
 * `imgaudit diff [FROM] [TO] [--since DURATION]`: what changed between two
 * runs. Defaults: TO = the newest complete run, FROM = the complete run
 * before it. JSON follows SPEC §2.4. Exit status 0, or 2 when it cannot run.
 */
import type { Argv, ArgumentsCamelCase } from 'yargs';
import { DURATION_EXPECTED, durationMs } from '../../config/parsers.js';
import { UsageError } from '../../errors.js';
import { buildDiff } from '../../report/build-diff.js';
import { DIFF_RENDERERS, type DiffFormat, formatsOf } from '../../report/index.js';
import { parseRunSpec } from '../../report/select-run.js';
import type { CliCommand } from '../commands.js';
import {
  commandConfig, renderOptions, runCommand, withDatabaseOptions, withHostDb, withOutputOptions, writeOutput,
} from './report-cli.js';

function builder(yargs: Argv): Argv {
  return withOutputOptions(withDatabaseOptions(yargs), formatsOf(DIFF_RENDERERS), 'text')
    .positional('from', { type: 'string', describe: 'run id or latest [default: the complete run before TO]' })
    .positional('to', { type: 'string', describe: 'run id or latest [default: latest, the newest complete run]' })
    .option('since', { type: 'string', describe: 'FROM = the newest complete run at least this old (36h, 7d, 2w)' })
    .example('imgaudit diff', 'the newest complete run against the one before')
    .example('imgaudit diff 12 40 --format json', 'run #12 against run #40, as JSON')
    .example('imgaudit diff --since 7d --format csv', 'what changed in a week')
    .epilog('An image is changed when any of its figures (sizes, bytes per depth, error) or its backing '
      + 'chain differ; figures of changed images are TO - FROM. Exit status: 0 done; 2 bad arguments, '
      + 'no such run, or a database error.');
}

function since(argv: ArgumentsCamelCase): { isoTime: string; text: string } | undefined {
  if (argv.since === undefined) return undefined;
  const text = String(argv.since);
  const ms = durationMs(text);
  if (ms === null) throw new UsageError(`--since: expected ${DURATION_EXPECTED}, got '${text}'`);
  if (argv.from !== undefined) throw new UsageError('give FROM or --since, not both');
  return { isoTime: new Date(Date.now() - ms).toISOString(), text: `${text} ago` };
}

async function run(argv: ArgumentsCamelCase): Promise<number> {
  return runCommand('diff', async () => {
    const request = {
      from: argv.from === undefined ? undefined : parseRunSpec(argv.from as string, 'FROM'),
      to: argv.to === undefined ? undefined : parseRunSpec(argv.to as string, 'TO'),
      since: since(argv),
    };
    const config = commandConfig(argv);
    const text = await withHostDb(argv, config.database, (db) => {
      const model = buildDiff(db, request.since === undefined
        ? { from: request.from, to: request.to } : { from: request.from, to: request.to, since: request.since });
      return DIFF_RENDERERS[argv.format as DiffFormat](model, renderOptions(argv));
    });
    writeOutput(text, argv.out as string | undefined, config.database);
    return 0;
  });
}

/** The `diff` command. */
export const diffCommand: CliCommand = {
  command: 'diff [from] [to]',
  describe: 'compare two runs: images added, removed and changed, bytes per depth',
  builder,
  run,
};
