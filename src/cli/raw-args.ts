/**
 * The command line as bytes. Node decodes its arguments as UTF-8, each
 * byte that is not UTF-8 replaced by U+FFFD, so `imgaudit map` of a file
 * whose name is not UTF-8 would name another file. On Linux the exact bytes
 * are in /proc/self/cmdline: the arguments are taken from there (held
 * escaped where they are not UTF-8, io/byte-path.ts) when they are the ones
 * Node decoded; otherwise (no /proc, a wrapper that rewrote them) Node's
 * strings are kept.
 */
import fs from 'node:fs';
import { decodePath } from '../io/byte-path.js';

function procCmdline(): Buffer | null {
  try {
    return fs.readFileSync('/proc/self/cmdline');
  } catch {
    return null;
  }
}

/** `args` (Node's decoding of the last arguments) with their exact bytes recovered from `cmdline`. */
export function rawArguments(args: readonly string[], cmdline: Buffer | null = procCmdline()): string[] {
  if (cmdline === null || !args.some((arg) => arg.includes('\uFFFD'))) return [...args];
  const parts: Buffer[] = [];
  let start = 0;
  for (let at = cmdline.indexOf(0); at >= 0; at = cmdline.indexOf(0, start)) {
    parts.push(cmdline.subarray(start, at));
    start = at + 1;
  }
  if (start < cmdline.length) parts.push(cmdline.subarray(start));
  if (parts.length < args.length) return [...args];
  const raw = parts.slice(parts.length - args.length);
  // Only when each is what Node decoded: the same arguments, in the same places.
  if (!raw.every((bytes, i) => bytes.toString('utf8') === args[i])) return [...args];
  return raw.map((bytes) => decodePath(bytes));
}
