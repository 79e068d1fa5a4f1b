/**
 * `imgaudit check [--run ID] [--fail-on SEVERITY]`: the findings of a run,
 * each with a stable code and a severity. Exit status (SPEC §2.6): 0 no
 * finding at or above --fail-on; 1 some; 2 it cannot run.
 */
import type { Argv, ArgumentsCamelCase } from 'yargs';
import { durationMs } from '../../config/parsers.js';
import { FINDING_CODES } from '../../report/finding-codes.js';
import { UsageError } from '../../errors.js';
import { type IgnoreRule, buildCheck } from '../../report/build-check.js';
import { CHECK_RENDERERS, type CheckFormat, formatsOf } from '../../report/index.js';
import { parseRunSpec } from '../../report/select-run.js';
import type { CliCommand } from '../commands.js';
import {
  commandConfig, renderOptions, repeated, runCommand, withDatabaseOptions, withHostDb, withOutputOptions, writeOutput,
} from './report-cli.js';

function builder(yargs: Argv): Argv {
  return withOutputOptions(withDatabaseOptions(yargs), formatsOf(CHECK_RENDERERS), 'text')
    .option('run', { alias: 'r', type: 'string', default: 'latest', describe: 'run id, or latest (the newest complete run)' })
    .option('fail-on', { choices: ['error', 'warning', 'info', 'never'], describe: 'exit 1 on findings at or above this severity [default: error, or the config\'s check.failOn]' })
    .option('deep-chain-layers', { type: 'number', describe: 'report chains with more layers than this [default: 8]' })
    .option('fill-warning-days', { type: 'number', describe: 'warn when a root\'s file system is projected to fill within this many days [default: 30]' })
    .option('overcommit-ratio', { type: 'number', describe: 'warn when the virtual sizes on a file system exceed its capacity this many times [default: 1.5]' })
    .option('snapshot-max-age', { type: 'string', describe: 'report snapshots older than this (36h, 30d, 12w, 1y) [default: 30d]' })
    .option('orphan-min-age', { type: 'string', describe: 'report orphans only once unchanged this long [default: 7d]' })
    .option('base-pattern', { type: 'string', describe: 'glob (relative to the root) of base images; unused ones are reported (repeatable)' })
    .option('ignore', { type: 'string', describe: 'silence a finding code, or CODE:GLOB for paths under the root (repeatable)' })
    .example('imgaudit check', 'findings of the newest complete run; exit 1 on errors')
    .example('imgaudit check --fail-on warning --format json', 'for monitoring: warnings fail too')
    .example("imgaudit check --ignore E_IMAGE_DIRTY:'running/**' --base-pattern '_base/*'", 'silence dirty bits of running VMs; Nova-style bases')
    .example('imgaudit check --fill-warning-days 90 --snapshot-max-age 14d', 'earlier warnings for capacity and snapshots')
    .epilog('Codes: E_BACKING_MISSING, E_CHAIN_LOOP, E_CHAIN_TOO_DEEP, E_BACKING_OUTSIDE_ROOTS, E_PROTOCOL_BACKING, '
      + 'E_CORRUPT*, E_UNSUPPORTED*, E_OPEN, E_NOT_REGULAR, E_READ, E_ROOT_MISSING (error); E_IMAGE_CHANGED, '
      + 'E_IMAGE_DIRTY, E_IMAGE_CORRUPT, E_NOT_AN_IMAGE, E_CANDIDATE_UNREADABLE, E_ROOT_NO_IMAGES, E_CHAIN_DEEP, '
      + 'E_IMAGE_ORPHAN, E_BASE_ORPHANED, E_FS_FILLING, '
      + 'E_FS_OVERCOMMIT, E_SNAPSHOT_OLD, E_LAYER_FIGURES, E_REFERENCE_UNREADABLE, E_REFERENCE_INVALID (warning); '
      + 'E_FORMAT_MISMATCH, E_BASE_UNUSED, E_SNAPSHOT_EXTERNAL_OLD (info). '
      + 'Exit status: 0 no finding at or above --fail-on; 1 some; 2 bad arguments, no such run, or a database error.');
}

/** The threshold flags, by config key (`check.KEY`). */
const CHECK_FLAGS: Readonly<Record<string, string>> = {
  failOn: '--fail-on', deepChainLayers: '--deep-chain-layers', fillWarningDays: '--fill-warning-days',
  overcommitRatio: '--overcommit-ratio', snapshotMaxAge: '--snapshot-max-age', orphanMinAge: '--orphan-min-age',
};

function ignoreRules(values: readonly string[] | undefined): IgnoreRule[] {
  return (values ?? []).map((value) => {
    const match = /^(E_[A-Z0-9_]+)(?::(.+))?$/.exec(value);
    if (match === null) throw new UsageError(`--ignore: expected CODE or CODE:GLOB (e.g. E_IMAGE_DIRTY:'vms/**'), got '${value}'`);
    if (!FINDING_CODES.has(match[1]!)) {
      throw new UsageError(`--ignore: unknown finding code '${match[1]}' (known: ${[...FINDING_CODES].sort().join(', ')})`);
    }
    return { code: match[1]!, glob: match[2] ?? null };
  });
}

async function run(argv: ArgumentsCamelCase): Promise<number> {
  return runCommand('check', async () => {
    const check: Record<string, unknown> = {};
    for (const key of Object.keys(CHECK_FLAGS)) {
      if (argv[key] !== undefined) check[key] = argv[key];
    }
    const flags: Record<string, unknown> = Object.keys(check).length === 0 ? {} : { check };
    const config = commandConfig(argv, flags,
      Object.fromEntries(Object.entries(CHECK_FLAGS).map(([key, flag]) => [`check.${key}`, flag])));
    const request = {
      run: parseRunSpec(argv.run as string | undefined, '--run'),
      failOn: config.check.failOn,
      deepChainLayers: config.check.deepChainLayers,
      basePatterns: repeated(argv.basePattern),
      ignore: ignoreRules(repeated(argv.ignore)),
      fillWarningDays: config.check.fillWarningDays,
      overcommitRatio: config.check.overcommitRatio,
      snapshotMaxAgeMs: durationMs(config.check.snapshotMaxAge)!,
      orphanMinAgeMs: durationMs(config.check.orphanMinAge)!,
    };
    const { text, status } = await withHostDb(argv, config.database, (db) => {
      const model = buildCheck(db, request);
      return { text: CHECK_RENDERERS[argv.format as CheckFormat](model, renderOptions(argv)), status: model.failingCount > 0 ? 1 : 0 };
    });
    writeOutput(text, argv.out as string | undefined, config.database);
    return status;
  });
}

/** The `check` command. */
export const checkCommand: CliCommand = {
  command: 'check',
  describe: 'list the findings of a run (stable codes, severities); exit 1 at or above --fail-on',
  builder,
  run,
};
