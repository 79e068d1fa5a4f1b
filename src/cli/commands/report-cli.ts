/**
 * What the reading commands (report, diff, runs, check, query, prune) share:
 * the database flags, the output flags, writing the output (to stdout, or
 * atomically to `--out FILE`: a temporary name in the same directory, then
 * rename, as the node_exporter textfile collector needs; see out-file.ts), and turning
 * run-level errors into exit status 2 with one message on stderr.
 */
import type { Argv, ArgumentsCamelCase } from 'yargs';
import { ConfigError } from '../../config/config-error.js';
import type { ScanConfig } from '../../config/config.js';
import { loadConfig } from '../../config/load-config.js';
import { ImgauditError, UsageError } from '../../errors.js';
import { DEFAULT_RENDER_OPTIONS, type RenderOptions } from '../../report/index.js';
import { type Db, asStoreError } from '../../store/db.js';
import { type ReadStore, openReadStore } from '../../store/read-store.js';
import { writeOutFile } from '../out-file.js';
import { BufferedWriter, writeStderr } from '../output.js';

/** `--db` and `--config`. */
export function withDatabaseOptions(yargs: Argv): Argv {
  return yargs
    .option('db', { type: 'string', describe: 'SQLite database file, or a central store postgres://... [default: ./imgaudit.db, or the config file\'s]' })
    .option('host', { type: 'string', describe: 'with a central store: the host whose runs to read [default: the only one]' })
    .option('config', { alias: 'c', type: 'string', describe: 'JSON configuration file (its database and thresholds)' });
}

/**
 * The store of `--db`/`database` (an SQLite file or a central store), read
 * for `--host`; hand it to `use` and close it afterwards.
 */
export async function withReadStore<T>(argv: ArgumentsCamelCase, location: string, use: (store: ReadStore) => Promise<T>,
  options: { mayBeBehind?: boolean } = {}): Promise<T> {
  const host = argv.host === undefined ? undefined : String(argv.host);
  const store = await openReadStore({ location, host, ...options });
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

/** Runs `use` on one host's runs as an SQLite database (see withReadStore). */
export async function withHostDb<T>(argv: ArgumentsCamelCase, location: string, use: (db: Db) => T,
  options: { mayBeBehind?: boolean; withMapEntries?: boolean } = {}): Promise<T> {
  return withReadStore(argv, location, async (store) => {
    const db = await store.hostDb({ withMapEntries: options.withMapEntries });
    try {
      return use(db);
    } finally {
      db.close();
    }
  }, options);
}

/** `--format`, `--bytes` and `--out`. */
export function withOutputOptions(yargs: Argv, formats: readonly string[], defaultFormat: string): Argv {
  return yargs
    .option('format', { alias: 'f', choices: formats, default: defaultFormat, describe: 'output format' })
    .option('bytes', { alias: 'b', type: 'boolean', describe: 'exact byte counts instead of IEC sizes (1.5 GiB)' })
    .option('out', { alias: 'o', type: 'string', describe: 'write to FILE (a regular file atomically: temporary name, then rename; a device or FIFO in place; never the database)' });
}

/**
 * The effective configuration: defaults, `--config`, then `flags` (keyed
 * like the config; `names` says how messages name them). Throws ConfigError.
 */
export function commandConfig(argv: ArgumentsCamelCase, flags: Record<string, unknown> = {},
  names: Record<string, string> = {}): ScanConfig {
  const all: Record<string, unknown> = { ...flags };
  if (argv.db !== undefined) all.database = argv.db;
  return loadConfig({
    file: argv.config as string | undefined, flags: all, flagNames: { database: '--db', ...names }, cwd: process.cwd(),
  });
}

/** Render options from the flags. */
export function renderOptions(argv: ArgumentsCamelCase): RenderOptions {
  return { ...DEFAULT_RENDER_OPTIONS, isExactBytes: argv.bytes === true };
}

/** A positive integer flag in [min, max]. Throws UsageError naming the flag. */
export function integerFlag(argv: ArgumentsCamelCase, key: string, flag: string, fallback: number, max: number): number {
  const value = argv[key];
  if (value === undefined) return fallback;
  const text = String(value);
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > max) {
    throw new UsageError(`${flag}: expected an integer from 1 to ${max}, got '${text}'`);
  }
  return Number(text);
}

/**
 * The values of a repeatable flag (`-p a=1 -p b=2`). Such flags are not
 * yargs arrays: an array flag would swallow the positional arguments after it.
 */
export function repeated(value: unknown): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value.map(String) : [String(value)];
}

/**
 * Writes the output to stdout, or to `outFile` (out-file.ts: regular files
 * atomically, devices and FIFOs in place, never the `database`).
 */
export function writeOutput(text: string, outFile: string | undefined, database?: string): void {
  if (outFile === undefined) {
    const out = new BufferedWriter(1);
    try {
      out.write(text);
      out.flush();
    } catch (error) {
      // The reader went away (`imgaudit report | head`): stop quietly, like other tools.
      if ((error as NodeJS.ErrnoException).code !== 'EPIPE') throw error;
    }
    return;
  }
  writeOutFile(outFile, text, database);
}

export { OutputError } from '../out-file.js';

/**
 * Runs a command body; run-level errors (config, usage, database, runs,
 * definitions, output) print `imgaudit: MESSAGE` and give exit status 2.
 */
export async function runCommand(name: string, body: () => number | Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (caught) {
    const error = asStoreError(caught);
    if (!(error instanceof ImgauditError)) {
      writeStderr(`imgaudit: internal error: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
      return 2;
    }
    writeStderr(`imgaudit: ${error.message}\n`);
    if (error instanceof ConfigError) writeStderr(`Try 'imgaudit ${name} --help' for more information\n`);
    return 2;
  }
}
