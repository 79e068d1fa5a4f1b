/**
 * The width of a string in terminal columns, for yargs' help layout: the
 * bundle uses it in place of the `string-width` package (see the `bundle`
 * script), whose Unicode emoji tables and segmenter cost about 20 ms of
 * every command's start-up. ANSI escapes, control, format and combining
 * characters count nothing; East Asian wide and fullwidth characters (the
 * classic wcwidth ranges) count two; anything else one. For the help, which
 * is plain text, both give the same widths.
 */
import { stripVTControlCharacters } from 'node:util';

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
const ZERO_WIDTH = /^[\p{Cc}\p{Cf}\p{Mn}\p{Me}]$/u;

/** East Asian wide and fullwidth ranges [first, last]. */
const WIDE: readonly (readonly [number, number])[] = [
  [0x1100, 0x115f], [0x2e80, 0x303e], [0x3041, 0x33ff], [0x3400, 0x4dbf], [0x4e00, 0x9fff], [0xa000, 0xa4cf],
  [0xac00, 0xd7a3], [0xf900, 0xfaff], [0xfe30, 0xfe4f], [0xff00, 0xff60], [0xffe0, 0xffe6], [0x1f300, 0x1f64f],
  [0x1f900, 0x1f9ff], [0x20000, 0x2fffd], [0x30000, 0x3fffd],
];

function isWide(codePoint: number): boolean {
  return WIDE.some(([first, last]) => codePoint >= first && codePoint <= last);
}

export default function stringWidth(text: unknown, options: { countAnsiEscapeCodes?: boolean } = {}): number {
  if (typeof text !== 'string' || text.length === 0) return 0;
  const plain = options.countAnsiEscapeCodes === true ? text : stripVTControlCharacters(text);
  if (PRINTABLE_ASCII.test(plain)) return plain.length;
  let width = 0;
  for (const character of plain) {
    if (ZERO_WIDTH.test(character)) continue;
    width += isWide(character.codePointAt(0)!) ? 2 : 1;
  }
  return width;
}
