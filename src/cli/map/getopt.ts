/**
 * GNU getopt_long as qemu-img uses it (optstring starting with ':' so that
 * qemu prints its own messages): options and operands may be interleaved,
 * `--` ends options, short options cluster (`-Uf qcow2`, `-fqcow2`), long
 * options take `=value` or the next word and may be abbreviated to any
 * unambiguous prefix.
 */
export interface OptionSpec {
  /** Long name without dashes. */
  long?: string;
  /** Short letter. */
  short?: string;
  hasArg: boolean;
  /** Key reported in results. */
  key: string;
}

export type GetoptItem =
  | { kind: 'option'; key: string; value?: string }
  | { kind: 'unrecognized'; text: string }
  | { kind: 'missing-argument'; text: string };

export interface GetoptResult {
  items: GetoptItem[];
  operands: string[];
}

function matchLong(specs: readonly OptionSpec[], name: string): OptionSpec | 'ambiguous' | undefined {
  const exact = specs.find((spec) => spec.long === name);
  if (exact !== undefined) return exact;
  const prefixed = specs.filter((spec) => spec.long !== undefined && spec.long.startsWith(name));
  if (prefixed.length === 0) return undefined;
  return prefixed.length === 1 ? prefixed[0] : 'ambiguous';
}

/** Parses `args` in order; stops at the first error item, as qemu-img exits there. */
export function getopt(args: readonly string[], specs: readonly OptionSpec[]): GetoptResult {
  const items: GetoptItem[] = [];
  const operands: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      operands.push(...args.slice(i + 1));
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = arg.slice(2, eq < 0 ? undefined : eq);
      const spec = matchLong(specs, name);
      if (spec === undefined || spec === 'ambiguous') {
        items.push({ kind: 'unrecognized', text: arg });
        return { items, operands };
      }
      if (!spec.hasArg) {
        if (eq >= 0) {
          items.push({ kind: 'unrecognized', text: arg });
          return { items, operands };
        }
        items.push({ kind: 'option', key: spec.key });
      } else if (eq >= 0) {
        items.push({ kind: 'option', key: spec.key, value: arg.slice(eq + 1) });
      } else if (i + 1 < args.length) {
        items.push({ kind: 'option', key: spec.key, value: args[++i]! });
      } else {
        items.push({ kind: 'missing-argument', text: arg });
        return { items, operands };
      }
      continue;
    }
    if (arg.startsWith('-') && arg.length > 1) {
      for (let j = 1; j < arg.length; j++) {
        const letter = arg[j]!;
        const spec = specs.find((candidate) => candidate.short === letter);
        if (spec === undefined) {
          // qemu names argv[optind-1]: the word itself once getopt has finished
          // it, else the word before it ('map' when there is none).
          const finished = j === arg.length - 1;
          items.push({ kind: 'unrecognized', text: finished ? arg : (args[i - 1] ?? 'map') });
          return { items, operands };
        }
        if (!spec.hasArg) {
          items.push({ kind: 'option', key: spec.key });
          continue;
        }
        if (j + 1 < arg.length) {
          items.push({ kind: 'option', key: spec.key, value: arg.slice(j + 1) });
        } else if (i + 1 < args.length) {
          items.push({ kind: 'option', key: spec.key, value: args[++i]! });
        } else {
          items.push({ kind: 'missing-argument', text: arg });
          return { items, operands };
        }
        break;
      }
      continue;
    }
    operands.push(arg);
  }
  return { items, operands };
}
