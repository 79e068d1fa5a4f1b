/**
 * `imgaudit check [--run ID] [--fail-on SEVERITY]`: the findings of a run,
 * each with a stable code and a severity. Exit status (SPEC §2.6): 0 no
 * finding at or above --fail-on; 1 some; 2 it cannot run.
 */
import type { Argv, ArgumentsCamelCase } from 'yargs';
import { UsageError } from '../../errors.js';
import { type IgnoreRule, buildCheck } from '../../report/build-check.js';
import { CHECK_RENDERERS, type CheckFormat, formatsOf } from '../../report/index.js';
import { parseRunSpec } from '../../report/select-run.js';
import { openForReading } from '../../store/report-db.js';
import type { CliCommand } from '../commands.js';
import {
  commandConfig, renderOptions, repeated, runCommand, withDatabaseOptions, withOutputOptions, writeOutput,
} from './report-cli.js';

function builder(yargs: Argv): Argv {
  return withOutputOptions(withDatabaseOptions(yargs), formatsOf(CHECK_RENDERERS), 'text')
    .option('run', { alias: 'r', type: 'string', default: 'latest', describe: 'run id, or latest (the newest complete run)' })
    .option('fail-on', { choices: ['error', 'warning', 'info', 'never'], describe: 'exit 1 on findings at or above this severity [default: error, or the config\'s check.failOn]' })
    .option('deep-chain-layers', { type: 'string', describe: 'report chains with more layers than this [default: 8]' })
    .option('base-pattern', { type: 'string', describe: 'glob (relative to the root) of base images; unused ones are reported (repeatable)' })
    .option('ignore', { type: 'string', describe: 'silence a finding code, or CODE:GLOB for paths under the root (repeatable)' })
    .example('imgaudit check', 'findings of the newest complete run; exit 1 on errors')
    .example('imgaudit check --fail-on warning --format json', 'for monitoring: warnings fail too')
    .example("imgaudit check --ignore E_IMAGE_DIRTY:'running/**' --base-pattern '_base/*'", 'silence dirty bits of running VMs; Nova-style bases')
    .epilog('Codes: E_BACKING_MISSING, E_CHAIN_LOOP, E_CHAIN_TOO_DEEP, E_BACKING_OUTSIDE_ROOTS, E_PROTOCOL_BACKING, '
      + 'E_CORRUPT*, E_UNSUPPORTED*, E_OPEN, E_NOT_REGULAR, E_READ, E_ROOT_MISSING (error); E_IMAGE_CHANGED, '
      + 'E_IMAGE_DIRTY, E_IMAGE_CORRUPT, E_NOT_AN_IMAGE, E_CHAIN_DEEP (warning); E_FORMAT_MISMATCH, E_BASE_UNUSED (info). '
      + 'Exit status: 0 no finding at or above --fail-on; 1 some; 2 bad arguments, no such run, or a database error.');
}

function ignoreRules(values: readonly string[] | undefined): IgnoreRule[] {
  return (values ?? []).map((value) => {
    const match = /^(E_[A-Z0-9_]+)(?::(.+))?$/.exec(value);
    if (match === null) throw new UsageError(`--ignore: expected CODE or CODE:GLOB (e.g. E_IMAGE_DIRTY:'vms/**'), got '${value}'`);
    return { code: match[1]!, glob: match[2] ?? null };
  });
}

async function run(argv: ArgumentsCamelCase): Promise<number> {
  return runCommand('check', () => {
    const flags: Record<string, unknown> = {};
    if (argv.failOn !== undefined || argv.deepChainLayers !== undefined) {
      flags.check = {
        ...(argv.failOn === undefined ? {} : { failOn: argv.failOn }),
        ...(argv.deepChainLayers === undefined ? {} : { deepChainLayers: argv.deepChainLayers }),
      };
    }
    const config = commandConfig(argv, flags, { 'check.failOn': '--fail-on', 'check.deepChainLayers': '--deep-chain-layers' });
    const request = {
      run: parseRunSpec(argv.run as string | undefined, '--run'),
      failOn: config.check.failOn,
      deepChainLayers: config.check.deepChainLayers,
      basePatterns: repeated(argv.basePattern),
      ignore: ignoreRules(repeated(argv.ignore)),
    };
    const db = openForReading(config.database);
    let text: string;
    let status: number;
    try {
      const model = buildCheck(db, request);
      text = CHECK_RENDERERS[argv.format as CheckFormat](model, renderOptions(argv));
      status = model.failingCount > 0 ? 1 : 0;
    } finally {
      db.close();
    }
    writeOutput(text, argv.out as string | undefined);
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
