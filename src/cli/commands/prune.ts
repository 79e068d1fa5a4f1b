/**
 * `imgaudit prune [--keep N] [--older-than DURATION] [--dry-run] [--vacuum]`:
 * retention. Drops runs (never the newest complete one, never a running
 * one), then every chain state, map and file no remaining run references.
 * Without flags, the config's `retention` applies. Takes the scan lock.
 * Exit status 0, or 2 (bad arguments, lock held, database error).
 */
import type { Argv, ArgumentsCamelCase } from 'yargs';
import { durationMs } from '../../config/parsers.js';
import { UsageError } from '../../errors.js';
import { toJson } from '../../report/render/json.js';
import { formatIec } from '../../report/units.js';
import { isPostgresUrl } from '../../store/pg/conninfo.js';
import type { CentralPruneResult } from '../../store/pg/prune-central.js';
import { type PruneResult, pruneDatabase } from '../../store/prune-runs.js';
import type { CliCommand } from '../commands.js';
import { commandConfig, runCommand, withDatabaseOptions, writeOutput } from './report-cli.js';

function builder(yargs: Argv): Argv {
  return withDatabaseOptions(yargs)
    .option('keep', { type: 'number', describe: 'keep the newest N complete runs (and any newer run)' })
    .option('older-than', { type: 'string', describe: 'drop runs that started longer ago than this (90d, 12w, 1y)' })
    .option('dry-run', { alias: 'n', type: 'boolean', describe: 'say what would be removed; change nothing' })
    .option('vacuum', { type: 'boolean', describe: 'rebuild the database file afterwards so that it shrinks' })
    .option('format', { alias: 'f', choices: ['text', 'json'], default: 'text', describe: 'output format' })
    .example('imgaudit prune --keep 30', 'keep the last 30 complete runs')
    .example('imgaudit prune --older-than 90d --dry-run', 'what a 90-day retention would remove')
    .example('imgaudit prune --db postgres://owner@central/imgaudit --keep 90', 'retention on a central store, every host')
    .epilog('Without --keep and --older-than, the config file\'s retention applies (default: keep 400 runs). '
      + 'The newest complete run is always kept. Exit status: 0 done; 2 bad arguments, another scan holds '
      + 'the lock, or a database error.');
}

function count(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function describeResult(result: PruneResult): string {
  const verb = result.isDryRun ? 'would remove' : 'removed';
  const { counts } = result;
  const runs = result.removedRunIds.length === 0 ? 'no run'
    : `${count(counts.runs, 'run')} (#${result.removedRunIds.join(', #')})`;
  const lines = [
    `${verb} ${runs}, ${count(counts.chains, 'chain state')}, ${count(counts.maps, 'map')}, ${count(counts.files, 'file')}`,
    `kept ${count(result.keptRunIds.length, 'run')}`,
  ];
  if (!result.isDryRun) lines.push(`database: ${formatIec(result.fileBytesBefore)} -> ${formatIec(result.fileBytesAfter)}`);
  return `${lines.join('\n')}\n`;
}

function describeCentral(result: CentralPruneResult): string {
  const verb = result.isDryRun ? 'would remove' : 'removed';
  const { counts } = result;
  const removed = result.hosts.filter((h) => h.removedRunIds.length > 0).map((h) => `${h.host} #${h.removedRunIds.join(', #')}`);
  const runs = counts.runs === 0 ? 'no run' : `${count(counts.runs, 'run')} (${removed.join('; ')})`;
  const kept = result.hosts.reduce((sum, h) => sum + h.keptRunIds.length, 0);
  const lines = [
    `${verb} ${runs}, ${count(counts.chains, 'chain state')}, ${count(counts.maps, 'map')}, ${count(counts.files, 'file')}`,
    `kept ${count(kept, 'run')} of ${count(result.hosts.length, 'host')}`,
  ];
  if (!result.isDryRun) lines.push(`database: ${formatIec(result.databaseBytesBefore)} -> ${formatIec(result.databaseBytesAfter)}`);
  return `${lines.join('\n')}\n`;
}

async function run(argv: ArgumentsCamelCase): Promise<number> {
  return runCommand('prune', async () => {
    const retention: Record<string, unknown> = {};
    if (argv.keep !== undefined) retention.keepRuns = argv.keep;
    if (argv.olderThan !== undefined) retention.olderThan = argv.olderThan;
    const config = commandConfig(argv, Object.keys(retention).length > 0 ? { retention } : {},
      { 'retention.keepRuns': '--keep', 'retention.olderThan': '--older-than' });
    const { keepRuns, olderThan } = config.retention;
    if (keepRuns === null && olderThan === null) {
      throw new UsageError('nothing to prune by: give --keep or --older-than (or set retention in the config file)');
    }
    const policy = { keepRuns, olderThanMs: olderThan === null ? null : durationMs(olderThan), now: new Date() };
    if (isPostgresUrl(config.database)) {
      if (argv.vacuum === true) throw new UsageError('--vacuum compacts an SQLite file; PostgreSQL\'s autovacuum reclaims a central store\'s space');
      const { pruneCentralDatabase } = await import('../../store/pg/prune-central.js');
      const central = await pruneCentralDatabase(config.database, {
        host: argv.host === undefined ? undefined : String(argv.host), policy, isDryRun: argv.dryRun === true,
      });
      writeOutput(argv.format === 'json' ? toJson(central) : describeCentral(central), undefined);
      return 0;
    }
    if (argv.host !== undefined) throw new UsageError('--host picks one host of a central store: give --db postgres://...');
    const result = pruneDatabase(config.database, {
      policy,
      isDryRun: argv.dryRun === true,
      isVacuum: argv.vacuum === true,
    });
    writeOutput(argv.format === 'json' ? toJson(result) : describeResult(result), undefined);
    return 0;
  });
}

/** The `prune` command. */
export const pruneCommand: CliCommand = {
  command: 'prune',
  describe: 'drop old runs, then the maps, chains and files no remaining run uses',
  builder,
  run,
};
