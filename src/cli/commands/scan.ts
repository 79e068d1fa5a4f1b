/**
 * `imgaudit scan [ROOT...]`: one audit run into the database. Flags override
 * the config file key by key. Exit status (SPEC §2.6): 0 done, 1 a finding
 * at or above the threshold, 2 could not run, 130/143 interrupted.
 */
import os from 'node:os';
import type { Argv, ArgumentsCamelCase } from 'yargs';
import { runScan } from '../../app/scan-run.js';
import type { ScanSummary } from '../../app/scan-events.js';
import { ConfigError } from '../../config/config-error.js';
import type { ScanConfig } from '../../config/config.js';
import { loadConfig } from '../../config/load-config.js';
import { PRESET_NAMES } from '../../config/presets.js';
import { ImgauditError } from '../../errors.js';
import { nativeAddonProblem } from '../../io/native-addon.js';
import { isPostgresUrl } from '../../store/pg/conninfo.js';
import { LockError, MigrationError, StoreError } from '../../store/store-error.js';
import type { CliCommand } from '../commands.js';
import { writeStderr } from '../output.js';
import { ScanReporter, type Verbosity } from './scan-progress.js';

/** Flag → config key, and how messages name the flag. */
const FLAG_KEYS: readonly { flag: string; key: string; name: string }[] = [
  { flag: 'preset', key: 'preset', name: '--preset' },
  { flag: 'db', key: 'database', name: '--db' },
  { flag: 'concurrency', key: 'concurrency', name: '--concurrency' },
  { flag: 'include', key: 'include', name: '--include' },
  { flag: 'exclude', key: 'exclude', name: '--exclude' },
  { flag: 'rawPattern', key: 'rawPatterns', name: '--raw-pattern' },
  { flag: 'followBackingOutsideRoots', key: 'followBackingOutsideRoots', name: '--follow-backing-outside-roots' },
  { flag: 'maxChainDepth', key: 'maxChainDepth', name: '--max-chain-depth' },
  { flag: 'changeRetries', key: 'changeRetries', name: '--change-retries' },
];

const SIGNAL_STATUS = { SIGINT: 130, SIGTERM: 143 } as const;
type HandledSignal = keyof typeof SIGNAL_STATUS;

function builder(yargs: Argv): Argv {
  return yargs
    .positional('roots', { describe: 'directories (or image files) to audit; replace the config roots', type: 'string', array: true })
    .option('config', { alias: 'c', type: 'string', describe: 'JSON configuration file (see config.example.json)' })
    .option('preset', { choices: [...PRESET_NAMES], describe: "the platform's image folders: default root, include, exclude, raw patterns" })
    .option('db', { type: 'string', describe: 'SQLite database file [default: ./imgaudit.db]' })
    .option('concurrency', { alias: 'j', type: 'number', describe: 'chains mapped at once, on one worker thread per CPU at most [default: 8]' })
    .option('full', { type: 'boolean', describe: 're-read every chain, even unchanged ones' })
    .option('quiet', { alias: 'q', type: 'boolean', describe: 'print nothing but run-level failures' })
    .option('progress', { type: 'boolean', describe: 'show progress and the summary even when stderr is not a terminal' })
    .conflicts('quiet', 'progress')
    .option('include', { type: 'string', array: true, nargs: 1, describe: 'glob of candidate files, relative to each root (repeatable) [default: **/*, the magic decides]' })
    .option('exclude', { type: 'string', array: true, nargs: 1, describe: 'glob of files and directories to skip (repeatable)' })
    .option('raw-pattern', { type: 'string', array: true, nargs: 1, describe: 'glob of files without magic audited as raw (repeatable)' })
    .option('follow-backing-outside-roots', { type: 'boolean', describe: 'follow backing files outside the roots' })
    .option('max-chain-depth', { type: 'number', describe: 'refuse chains with more layers [default: 64]' })
    .option('change-retries', { type: 'number', describe: 'remaps of an image that changes while mapped [default: 2]' })
    .option('fail-on', { choices: ['error', 'warning', 'info', 'never'], describe: 'exit 1 on findings at or above this severity [default: error]' })
    .example('imgaudit scan /var/lib/libvirt/images', 'audit one storage root into ./imgaudit.db')
    .example('imgaudit scan -c /etc/imgaudit.json --quiet', 'the nightly cron job')
    .example('imgaudit scan --full --db /srv/audit.db /srv/images', 're-read every chain')
    .example('imgaudit scan --preset openstack', 'Nova: instances/*/disk*, _base/* as raw')
    .example('imgaudit scan -- -odd-name/', 'roots after -- may begin with -')
    .epilog('Exit status: 0 done; 1 findings at or above --fail-on (default: an image could not be mapped); '
      + '2 bad arguments or config, database failure, or another scan holds the lock; 130/143 interrupted.\n'
      + 'On a terminal: progress, errors, warnings and a summary on stderr. Otherwise (cron): errors only, '
      + 'and the summary when the exit status is not 0.');
}

function flagValues(argv: ArgumentsCamelCase): { flags: Record<string, unknown>; names: Record<string, string> } {
  const flags: Record<string, unknown> = {};
  const names: Record<string, string> = { roots: 'ROOT', 'check.failOn': '--fail-on' };
  // Roots after `--` (which may begin with '-') land in argv._, after the command's name.
  const roots = [...(argv.roots as string[] | undefined ?? []), ...argv._.slice(1).map(String)];
  if (roots.length > 0) flags.roots = roots;
  for (const { flag, key, name } of FLAG_KEYS) {
    names[key] = name;
    if (argv[flag] !== undefined) flags[key] = argv[flag];
  }
  if (argv.failOn !== undefined) flags.check = { failOn: argv.failOn };
  return { flags, names };
}

function verbosityOf(argv: ArgumentsCamelCase): Verbosity {
  if (argv.quiet === true) return 'quiet';
  if (argv.progress === true || process.stderr.isTTY === true) return 'interactive';
  return 'cron';
}

function isRunLevel(error: unknown): error is ImgauditError {
  return error instanceof ConfigError || error instanceof StoreError || error instanceof MigrationError
    || error instanceof LockError;
}

async function run(argv: ArgumentsCamelCase): Promise<number> {
  // Without the addon raw holes would read as data: refuse rather than store wrong figures.
  const addonProblem = nativeAddonProblem();
  if (addonProblem !== null) {
    writeStderr(`imgaudit: ${addonProblem.message}\n`);
    return 2;
  }
  const reporter = new ScanReporter(verbosityOf(argv));
  const controller = new AbortController();
  let received: HandledSignal | null = null;
  const onSignal = (signal: HandledSignal): void => {
    if (received !== null) process.exit(SIGNAL_STATUS[signal]); // second signal: the database is consistent anyway
    received = signal;
    controller.abort();
  };
  const onInt = (): void => onSignal('SIGINT');
  const onTerm = (): void => onSignal('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  let summary: ScanSummary | null = null;
  let status: number;
  let config: ScanConfig;
  try {
    const { flags, names } = flagValues(argv);
    config = loadConfig({ file: argv.config as string | undefined, flags, flagNames: names, cwd: process.cwd() });
    checkCentralKeys(config);
    summary = await runScan({
      config, isFull: argv.full === true, signal: controller.signal, onEvent: (event) => reporter.onEvent(event),
    });
    status = received !== null ? SIGNAL_STATUS[received] : summary.exitStatus;
  } catch (error) {
    reporter.finish(null, 2);
    if (!isRunLevel(error)) {
      writeStderr(`imgaudit: internal error: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
      return 2;
    }
    writeStderr(`imgaudit: ${error.message}\n`);
    if (error instanceof ConfigError) writeStderr("Try 'imgaudit scan --help' for more information\n");
    return 2;
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  }
  reporter.finish(summary, status);
  if (summary.status === 'complete' && config.push.afterScan) await pushAfterScan(config, argv.quiet === true);
  return status;
}

/** The scan writes a local SQLite file; a central store is reached by push. Throws ConfigError. */
function checkCentralKeys(config: ScanConfig): void {
  if (isPostgresUrl(config.database)) {
    throw new ConfigError('scan writes this host\'s SQLite file: give a file as database, and the central store as push.database');
  }
  if (config.push.afterScan && config.push.database === null) {
    throw new ConfigError("'push.afterScan' needs 'push.database' (the central store's postgres:// URL)");
  }
}

/**
 * The nightly job's push, once the run is committed: a failure is a warning
 * (the run is safe in the host's file and the next push sends it) and
 * leaves the scan's exit status as it is.
 */
async function pushAfterScan(config: ScanConfig, isQuiet: boolean): Promise<void> {
  try {
    // The PostgreSQL client loads only when a scan pushes.
    const { pushDatabase } = await import('../../store/pg/push-database.js');
    const outcome = await pushDatabase({
      database: config.database, central: config.push.database!, host: config.host ?? os.hostname(),
    });
    if (!isQuiet) {
      writeStderr(`imgaudit: pushed ${outcome.pushedRunIds.length} run(s) as host '${outcome.host}' to ${outcome.central}\n`);
    }
  } catch (error) {
    const message = error instanceof ImgauditError ? error.message : String(error);
    writeStderr(`imgaudit: warning: push failed (the next push sends this run): ${message}\n`);
  }
}

/** The `scan` command. */
export const scanCommand: CliCommand = {
  command: 'scan [roots..]',
  describe: 'audit the images under the roots into the database (one run)',
  builder,
  run,
};
