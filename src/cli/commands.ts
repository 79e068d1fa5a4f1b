/**
 * The yargs commands besides `map`, each in its own module, loaded on
 * demand: a command line naming one loads that module only (its store,
 * report or scan code with it), so `imgaudit runs` does not pay for
 * loading the scanner. Help without a command loads them all.
 */
import type { Argv, ArgumentsCamelCase } from 'yargs';

export interface CliCommand {
  command: string;
  describe: string;
  builder: (yargs: Argv) => Argv;
  /** Runs the command; returns the exit status (SPEC §2.6). */
  run: (argv: ArgumentsCamelCase) => Promise<number>;
}

/** Each command's module, by the name it is invoked with, in help order. */
export const COMMAND_LOADERS: Readonly<Record<string, () => Promise<CliCommand>>> = {
  scan: async () => (await import('./commands/scan.js')).scanCommand,
  report: async () => (await import('./commands/report.js')).reportCommand,
  diff: async () => (await import('./commands/diff.js')).diffCommand,
  runs: async () => (await import('./commands/runs.js')).runsCommand,
  check: async () => (await import('./commands/check.js')).checkCommand,
  query: async () => (await import('./commands/query.js')).queryCommand,
  prune: async () => (await import('./commands/prune.js')).pruneCommand,
  push: async () => (await import('./commands/push.js')).pushCommand,
  completion: async () => (await import('./commands/completion.js')).completionCommand,
};

/** The commands `args` needs: the one it names, or all of them (help, an unknown name). */
export async function commandsFor(args: readonly string[]): Promise<CliCommand[]> {
  const named = Object.hasOwn(COMMAND_LOADERS, args[0] ?? '') ? COMMAND_LOADERS[args[0]!] : undefined;
  if (named !== undefined) return [await named()];
  return Promise.all(Object.values(COMMAND_LOADERS).map((load) => load()));
}
