/** The yargs commands besides `map`, each in its own module. */
import type { Argv, ArgumentsCamelCase } from 'yargs';
import { checkCommand } from './commands/check.js';
import { diffCommand } from './commands/diff.js';
import { pruneCommand } from './commands/prune.js';
import { pushCommand } from './commands/push.js';
import { queryCommand } from './commands/query.js';
import { reportCommand } from './commands/report.js';
import { runsCommand } from './commands/runs.js';
import { scanCommand } from './commands/scan.js';

export interface CliCommand {
  command: string;
  describe: string;
  builder: (yargs: Argv) => Argv;
  /** Runs the command; returns the exit status (SPEC §2.6). */
  run: (argv: ArgumentsCamelCase) => Promise<number>;
}

export const COMMANDS: CliCommand[] = [
  scanCommand, reportCommand, diffCommand, runsCommand, checkCommand, queryCommand, pruneCommand, pushCommand,
];
