/**
 * Command dispatch. `map` parses its own arguments exactly like qemu-img
 * (GNU getopt); every other command goes through yargs. Handlers return an
 * exit status; nothing below the CLI layer prints or exits.
 */
import { toolVersion } from '../app/tool-version.js';
import { UsageError } from '../errors.js';
import { writeStderr } from './output.js';

/** The text given for `--name` (or one of its aliases) on the command line, for messages. */
function givenText(args: readonly string[], names: readonly string[]): string {
  for (let i = 0; i < args.length; i++) {
    for (const name of names) {
      const flag = name.length === 1 ? `-${name}` : `--${name}`;
      if (args[i] === flag) return args[i + 1] ?? '';
      if (args[i]!.startsWith(`${flag}=`)) return args[i]!.slice(flag.length + 1);
    }
  }
  return '';
}

export async function main(args: readonly string[]): Promise<number> {
  // `map` loads only what it needs: start-up time counts when mapping one image.
  if (args[0] === 'map') return (await import('./map/map-command.js')).runMap(args.slice(1));
  const { default: yargs } = await import('yargs');
  const { hideBin } = await import('yargs/helpers');
  const { commandsFor } = await import('./commands.js');
  const commands = await commandsFor(args);
  let status = 0;
  const parser = yargs(hideBin(['node', 'imgaudit', ...args]))
    .scriptName('imgaudit')
    .usage('imgaudit <command> [options]\n\nAudit virtual-machine disk-image storage.')
    .command('map [options] FILE', 'print the allocation map of an image chain, exactly as qemu-img map (see: imgaudit map --help)')
    .strict()
    .demandCommand(1, 'name a command')
    .recommendCommands()
    .help()
    .alias('h', 'help')
    .version(toolVersion())
    .wrap(Math.min(100, process.stdout.columns ?? 100))
    .fail((message, error) => {
      throw error ?? new UsageError(message);
    })
    // Numeric flags are numbers in --help; one given text that is not a number is named as given.
    .middleware((argv) => {
      const options = (parser as unknown as { getOptions(): { number: string[]; alias: Record<string, string[]> } }).getOptions();
      for (const key of options.number) {
        const value = argv[key];
        if (typeof value === 'number' && Number.isNaN(value)) {
          const names = [key, ...(options.alias[key] ?? [])];
          throw new UsageError(`--${key}: expected a number, got '${givenText(args, names)}'`);
        }
      }
    }, true);
  // yargs renders the whole help text after every command starts, in case it has to show it
  // after a failure; ours never does (`fail` throws), so that rendering is only start-up time.
  const internals = (parser as unknown as { getInternalMethods(): { getUsageInstance(): { cacheHelpMessage(): void } } })
    .getInternalMethods();
  internals.getUsageInstance().cacheHelpMessage = () => {};
  for (const command of commands) {
    parser.command({
      ...command,
      handler: async (argv) => {
        status = await command.run(argv);
      },
    });
  }
  try {
    await parser.parseAsync();
    return status;
  } catch (error) {
    if (error instanceof UsageError) {
      writeStderr(`imgaudit: ${error.message}\nTry 'imgaudit --help' for more information\n`);
      return 2;
    }
    throw error;
  }
}
