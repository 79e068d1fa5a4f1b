/**
 * Paths are bytes; imgaudit's code holds them as strings. A name that is
 * valid UTF-8 is that string, unchanged. Any other byte (0x80-0xff outside
 * a valid UTF-8 sequence: a stray continuation byte, a truncated or
 * overlong sequence, an encoded surrogate, 0xff) becomes the lone surrogate
 * U+DC80+byte ("surrogateescape", as Python's os.fsdecode). Such a string
 * converts back to exactly the bytes it came from: `fsPath` gives the
 * Buffer every fs call takes (a path without escapes stays a string, so
 * nothing changes for UTF-8 names), `pathBytes` the bytes, `displayText`
 * the form messages, reports and the database show (`\xNN`).
 */

/** A lone surrogate U+DC80-U+DCFF: an escaped byte (with `u`, a valid pair is one code point and never matches). */
const ESCAPED = /[\uDC80-\uDCFF]/u;
const ESCAPED_ALL = /[\uDC80-\uDCFF]/gu;

/** Length of the valid UTF-8 sequence at `at`, or 0 when there is none. */
function utf8SequenceLength(bytes: Uint8Array, at: number): number {
  const lead = bytes[at]!;
  if (lead < 0x80) return 1;
  const length = lead >= 0xc2 && lead < 0xe0 ? 2 : lead >= 0xe0 && lead < 0xf0 ? 3 : lead >= 0xf0 && lead < 0xf5 ? 4 : 0;
  if (length === 0 || at + length > bytes.length) return 0;
  for (let i = 1; i < length; i++) if ((bytes[at + i]! & 0xc0) !== 0x80) return 0;
  const second = bytes[at + 1]!;
  if (lead === 0xe0 && second < 0xa0) return 0; // overlong
  if (lead === 0xed && second >= 0xa0) return 0; // an encoded surrogate
  if (lead === 0xf0 && second < 0x90) return 0; // overlong
  if (lead === 0xf4 && second >= 0x90) return 0; // past U+10FFFF
  return length;
}

/** The string holding `bytes`: UTF-8 where it is valid, each other byte escaped. */
export function decodePath(bytes: Uint8Array): string {
  const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = buffer.toString('utf8');
  // Valid UTF-8 (the common case) decodes to text that encodes back to the same length without U+FFFD.
  if (!text.includes('\uFFFD') && Buffer.byteLength(text) === buffer.length) return text;
  let out = '';
  let run = 0;
  let at = 0;
  while (at < buffer.length) {
    const length = utf8SequenceLength(buffer, at);
    if (length > 0) {
      at += length;
      continue;
    }
    out += buffer.toString('utf8', run, at) + String.fromCharCode(0xdc00 + buffer[at]!);
    at++;
    run = at;
  }
  return out + buffer.toString('utf8', run, at);
}

/** True when `text` holds escaped bytes (it names a path that is not UTF-8). */
export function hasEscapes(text: string): boolean {
  return ESCAPED.test(text);
}

/** The bytes `text` stands for: UTF-8, with each escaped byte put back. */
export function pathBytes(text: string): Buffer {
  if (!hasEscapes(text)) return Buffer.from(text);
  const parts: Buffer[] = [];
  let run = 0;
  for (const match of text.matchAll(ESCAPED_ALL)) {
    parts.push(Buffer.from(text.slice(run, match.index)), Buffer.of(match[0].charCodeAt(0) - 0xdc00));
    run = match.index + 1;
  }
  parts.push(Buffer.from(text.slice(run)));
  return Buffer.concat(parts);
}

/** What to give an fs call for `file`: the string itself, or its bytes when it holds escapes. */
export function fsPath(file: string): string | Buffer {
  return hasEscapes(file) ? pathBytes(file) : file;
}

/** A backslash the display form would read as the start of an escape (it is shown as `\x5c`). */
const LITERAL_ESCAPE = /\\(?=x[0-9a-fA-F]{2})/g;

/**
 * `text` as messages, reports and the database show it: each escaped byte
 * as `\xNN`, and a backslash that stands before `x` and two hex digits as
 * `\x5c`, so that no two paths show alike (the database keys rows by this
 * text): a name holding the four characters `\xff` shows `\x5cxff`, one
 * holding the byte 0xff shows `\xff`. Anything else is unchanged.
 */
export function displayText(text: string): string {
  const shown = text.includes('\\') ? text.replace(LITERAL_ESCAPE, '\\x5c') : text;
  return hasEscapes(shown)
    ? shown.replace(ESCAPED_ALL, (c) => `\\x${(c.charCodeAt(0) - 0xdc00).toString(16).padStart(2, '0')}`)
    : shown;
}

/** A name given as bytes, as messages show it: bytes that are not UTF-8 as \xNN escapes. */
export function escapedName(bytes: Uint8Array): string {
  return displayText(decodePath(bytes));
}

/** The bytes of `text` when its `displayText` form is not the name itself, else null (what the database keeps beside it). */
export function bytesIfEscaped(text: string): Buffer | null {
  return hasEscapes(text) || displayText(text) !== text ? pathBytes(text) : null;
}

/** The path a database row holds: its exact bytes when it has them (a name not UTF-8), else its text. */
export function storedPath(text: string, bytes: Uint8Array | null | undefined): string {
  return bytes === null || bytes === undefined ? text : decodePath(bytes);
}
