/**
 * `imgaudit push [--to URL] [--db FILE] [--host NAME] [--migrate-only]`:
 * ships this host's ended runs to the central PostgreSQL store, each run in
 * one transaction; idempotent and resumable (a push that was interrupted is
 * finished by the next one). Exit status 0, or 2 (bad arguments, the
 * central store cannot be reached or is newer than this imgaudit).
 */
import os from 'node:os';
import type { Argv, ArgumentsCamelCase } from 'yargs';
import { UsageError } from '../../errors.js';
import { toJson } from '../../report/render/json.js';
import { isPostgresUrl } from '../../store/pg/conninfo.js';
import { type PushOutcome, pushDatabase } from '../../store/pg/push-database.js';
import type { CliCommand } from '../commands.js';
import { commandConfig, runCommand, writeOutput } from './report-cli.js';

function builder(yargs: Argv): Argv {
  return yargs
    .option('to', { type: 'string', describe: 'the central store, postgres://... [default: the config\'s push.database]' })
    .option('db', { type: 'string', describe: 'this host\'s SQLite database [default: ./imgaudit.db, or the config file\'s]' })
    .option('config', { alias: 'c', type: 'string', describe: 'JSON configuration file (its database, host and push keys)' })
    .option('host', { type: 'string', describe: 'the name to push under [default: the config\'s host, or the host name]' })
    .option('migrate-only', { type: 'boolean', describe: 'only create or update the central schema (as its owner)' })
    .option('format', { alias: 'f', choices: ['text', 'json'], default: 'text', describe: 'output format' })
    .example('imgaudit push --to postgres://imgaudit@central.example/imgaudit?sslmode=verify-full', 'ship the runs the central store lacks')
    .example('imgaudit scan && imgaudit push', 'the nightly job (or set push.afterScan in the config)')
    .epilog('Connection settings also come from PG* environment variables, ~/.pgpass (PGPASSFILE) and '
      + 'pg_service.conf (service=NAME, PGSERVICE), as with libpq. Runs that are still running are left for the next push. '
      + 'Exit status: 0 done; 2 bad arguments, the central store unreachable or refused, or a database error.');
}

function describe(outcome: PushOutcome): string {
  const lines: string[] = [];
  if (outcome.migrationsApplied.length > 0) lines.push(`central schema: applied ${outcome.migrationsApplied.join(', ')}`);
  const n = outcome.pushedRunIds.length;
  lines.push(n === 0
    ? `nothing to push as host '${outcome.host}' to ${outcome.central} (${outcome.alreadyThere} run(s) there already)`
    : `pushed ${n} run${n === 1 ? '' : 's'} (#${outcome.pushedRunIds.join(', #')}) as host '${outcome.host}' to ${outcome.central}`
      + ` (${outcome.alreadyThere} there already)`);
  const rows = Object.entries(outcome.rows).filter(([, count]) => count > 0).map(([table, count]) => `${table} ${count}`);
  if (rows.length > 0) lines.push(`rows sent: ${rows.join(', ')}`);
  return `${lines.join('\n')}\n`;
}

/** The name runs are pushed under: --host, the config's host, or the host name. */
export function hostName(flag: unknown, configured: string | null): string {
  const name = flag === undefined ? configured ?? os.hostname() : String(flag);
  if (name.trim() === '') throw new UsageError('--host: give a non-empty name');
  return name;
}

async function run(argv: ArgumentsCamelCase): Promise<number> {
  return runCommand('push', async () => {
    const config = commandConfig(argv);
    const central = argv.to === undefined ? config.push.database : String(argv.to);
    if (central === null) throw new UsageError('push: give --to postgres://... or set push.database in the config file');
    if (!isPostgresUrl(central)) throw new UsageError('push: the central store must be a postgres:// or postgresql:// URL');
    const outcome = await pushDatabase({
      database: config.database, central, host: hostName(argv.host, config.host), isMigrateOnly: argv.migrateOnly === true,
    });
    writeOutput(argv.format === 'json' ? toJson(outcome) : describe(outcome), undefined);
    return 0;
  });
}

/** The `push` command. */
export const pushCommand: CliCommand = {
  command: 'push',
  describe: 'ship this host\'s runs to a central PostgreSQL store (idempotent, resumable)',
  builder,
  run,
};
