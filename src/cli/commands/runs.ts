/** `imgaudit runs`: the runs of the database, oldest first, with their counters and totals. Exit 0 or 2. */
import type { Argv, ArgumentsCamelCase } from 'yargs';
import { RUNS_RENDERERS, type RunsFormat, formatsOf } from '../../report/index.js';
import { listRuns } from '../../store/report-runs.js';
import type { CliCommand } from '../commands.js';
import {
  commandConfig, integerFlag, renderOptions, runCommand, withDatabaseOptions, withHostDb, withOutputOptions, writeOutput,
} from './report-cli.js';

function builder(yargs: Argv): Argv {
  return withOutputOptions(withDatabaseOptions(yargs), formatsOf(RUNS_RENDERERS), 'text')
    .option('last', { type: 'number', describe: 'only the newest N runs' })
    .example('imgaudit runs', 'every run: id, start, status, images, errors, sizes')
    .example('imgaudit runs --last 7 --format json', 'the last week of nightly runs, as JSON')
    .epilog('Status: complete, interrupted (stopped by a signal or a crash: never mistaken for complete), '
      + 'failed, or running. Exit status: 0 done; 2 a database error.');
}

async function run(argv: ArgumentsCamelCase): Promise<number> {
  return runCommand('runs', async () => {
    const last = integerFlag(argv, 'last', '--last', Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
    const { database } = commandConfig(argv);
    const text = await withHostDb(argv, database, (db) => {
      const runs = listRuns(db);
      return RUNS_RENDERERS[argv.format as RunsFormat]({ runs: runs.slice(Math.max(0, runs.length - last)) }, renderOptions(argv));
    });
    writeOutput(text, argv.out as string | undefined, database);
    return 0;
  });
}

/** The `runs` command. */
export const runsCommand: CliCommand = {
  command: 'runs',
  describe: 'list the runs (id, times, status, images, errors, totals)',
  builder,
  run,
};
