/**
 * The VMDK text descriptor, read the way QEMU 7.2 reads it. QEMU works on C
 * strings with strstr/sscanf, and imgaudit must accept and refuse the same
 * descriptors, so the quirks are kept on purpose:
 * - keys are found anywhere in the text (also inside comments) by substring;
 * - `sscanf` skips any whitespace, newlines included, so an extent line can
 *   span lines, and a blank line before an extent line makes that extent
 *   count twice (once from the blank line, once from its own line);
 * - parentFileNameHint skips two characters after the key, whatever they
 *   are, and ends at the next double quote.
 */
import * as S from './spec.js';

const isSpace = (c: number): boolean => c === 0x20 || (c >= 0x09 && c <= 0x0d);

/** Bytes up to the first NUL, as latin1 text (a C string). */
export function cString(bytes: Uint8Array, start = 0): string {
  let end = start;
  while (end < bytes.length && bytes[end] !== 0) end++;
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1');
}

/**
 * QEMU's vmdk probe for a text descriptor: skipping comment lines and lines
 * of spaces (optionally then CR), the first line must be `version=1|2|3`
 * followed by LF or CRLF.
 */
export function isVmdkDescriptor(bytes: Uint8Array): boolean {
  const end = bytes.length;
  let p = 0;
  // A byte loop: every candidate file of a scan is probed, most of them text that is no descriptor.
  const startsWith = (text: string): boolean => {
    if (p + text.length > end) return false;
    for (let i = 0; i < text.length; i++) if (bytes[p + i] !== text.charCodeAt(i)) return false;
    return true;
  };
  while (p < end) {
    if (bytes[p] === 0x23) { // '#': skip the comment line
      while (p < end && bytes[p] !== 0x0a) p++;
      p++;
      continue;
    }
    if (bytes[p] === 0x20) { // a line of spaces, then optionally CR, then LF
      while (p < end && bytes[p] === 0x20) p++;
      if (p < end && bytes[p] === 0x0d) p++;
      if (p === end || bytes[p] !== 0x0a) return false;
      p++;
      continue;
    }
    if (!startsWith('version=')) return false;
    return ['1', '2', '3'].some((v) => startsWith(`version=${v}\n`) || startsWith(`version=${v}\r\n`));
  }
  return false;
}

/** vmdk_parse_description: the value of `NAME="…"` (found by substring), or null. */
export function descriptionValue(desc: string, name: string, bufferBytes: number): string | null {
  const at = desc.indexOf(name);
  if (at < 0) return null;
  const start = at + name.length + 2;
  if (start >= desc.length) return null;
  const end = desc.indexOf('"', start);
  if (end < 0 || bufferBytes < end - start + 1) return null;
  return desc.slice(start, end);
}

/** One `ACCESS SECTORS TYPE "FILE" [OFFSET]` line as sscanf saw it. */
export interface ScannedExtent {
  /** Conversions sscanf made (0–5; -1 at the end of the input). */
  matches: number;
  access: string;
  sectors: bigint;
  type: string;
  fileName: string;
  flatOffset: bigint;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * sscanf(text + at, `%10s %lld %10s "%511[^\n\r"]" %lld`) as glibc runs it:
 * whitespace in the format skips any whitespace (newlines too); %lld
 * saturates on overflow.
 */
export function scanExtentLine(text: string, at: number): ScannedExtent {
  const out: ScannedExtent = { matches: 0, access: '', sectors: 0n, type: '', fileName: '', flatOffset: -1n };
  let p = at;
  const code = (i: number) => (i < text.length ? text.charCodeAt(i) : 0);
  const skipSpace = () => { while (code(p) !== 0 && isSpace(code(p))) p++; };
  const word = (max: number): string | null => {
    skipSpace();
    const start = p;
    while (p - start < max && code(p) !== 0 && !isSpace(code(p))) p++;
    return p === start ? null : text.slice(start, p);
  };
  const int64 = (): bigint | null => {
    skipSpace();
    let i = p;
    let negative = false;
    if (code(i) === 0x2b || code(i) === 0x2d) { negative = code(i) === 0x2d; i++; }
    const digits = i;
    while (code(i) >= 0x30 && code(i) <= 0x39) i++;
    if (i === digits) return null;
    p = i;
    let value = BigInt(text.slice(digits, i));
    if (negative) value = -value;
    return value > INT64_MAX ? INT64_MAX : value < INT64_MIN ? INT64_MIN : value;
  };
  skipSpace();
  if (code(p) === 0) { out.matches = -1; return out; }
  const access = word(10);
  if (access === null) return out;
  out.access = access; out.matches = 1;
  const sectors = int64();
  if (sectors === null) return out;
  out.sectors = sectors; out.matches = 2;
  const type = word(10);
  if (type === null) return out;
  out.type = type; out.matches = 3;
  skipSpace();
  if (code(p) !== 0x22) return out;
  p++;
  const nameStart = p;
  while (p - nameStart < 511 && code(p) !== 0 && code(p) !== 0x0a && code(p) !== 0x0d && code(p) !== 0x22) p++;
  if (p === nameStart) return out;
  out.fileName = text.slice(nameStart, p); out.matches = 4;
  if (code(p) !== 0x22) return out;
  p++;
  const offset = int64();
  if (offset === null) return out;
  out.flatOffset = offset; out.matches = 5;
  return out;
}

/** QEMU's next_line: the position after the next LF, or the end. */
export function nextLine(text: string, at: number): number {
  const lf = text.indexOf('\n', at);
  return lf < 0 ? text.length : lf + 1;
}

/** The text of the line at `at` without its LF, as "Invalid extent line: %.*s" prints it. */
export function lineAt(text: string, at: number): string {
  let end = nextLine(text, at);
  if (end > at && text[end - 1] === '\n') end--;
  return text.slice(at, end);
}

/** An extent line QEMU accepts. */
export interface ExtentLine {
  type: 'FLAT' | 'SPARSE' | 'VMFS' | 'VMFSSPARSE' | 'SESPARSE';
  sectors: bigint;
  fileName: string;
  /** FLAT/VMFS: start of the extent in its file, in sectors. */
  flatOffset: bigint;
}

const KNOWN_TYPES = new Set(['FLAT', 'SPARSE', 'VMFS', 'VMFSSPARSE', 'SESPARSE']);

/**
 * vmdk_parse_extents' line scan: every position after a LF is a candidate;
 * lines that are not RW extents are skipped. Yields the extents in order,
 * or the text of an invalid line (QEMU stops there, after opening the
 * extents before it).
 */
export function* extentLines(desc: string): Generator<ExtentLine | { invalidLine: string }> {
  for (let p = 0; p < desc.length; p = nextLine(desc, p)) {
    const line = scanExtentLine(desc, p);
    if (line.matches < 4 || line.access !== 'RW') continue;
    let flatOffset = line.flatOffset;
    if (line.type === 'FLAT') {
      if (line.matches !== 5 || flatOffset < 0n) { yield { invalidLine: lineAt(desc, p) }; return; }
    } else if (line.type === 'VMFS') {
      if (line.matches !== 4) { yield { invalidLine: lineAt(desc, p) }; return; }
      flatOffset = 0n;
    } else if (line.matches !== 4) {
      yield { invalidLine: lineAt(desc, p) };
      return;
    }
    if (line.sectors <= 0n || !KNOWN_TYPES.has(line.type)) continue;
    yield { type: line.type as ExtentLine['type'], sectors: line.sectors, fileName: line.fileName, flatOffset };
  }
}

/** Position of `needle` in the C string held by `bytes` (search stops at the first NUL), or -1. */
function strstr(bytes: Buffer, needle: string): number {
  const text = cString(bytes);
  return text.indexOf(needle);
}

const byteAt = (bytes: Buffer, i: number): number => (i < bytes.length ? bytes[i]! : 0);

/**
 * vmdk_parent_open: the parentFileNameHint value. `desc` is the DESC_SIZE
 * bytes QEMU reads at the descriptor offset. Returns null when there is no
 * hint, 'invalid' when QEMU fails (no closing quote, name too long).
 */
export function parentFileNameHint(desc: Buffer): string | null | 'invalid' {
  const at = strstr(desc, 'parentFileNameHint');
  if (at < 0) return null;
  const start = at + 'parentFileNameHint'.length + 2;
  let end = start;
  while (byteAt(desc, end) !== 0 && byteAt(desc, end) !== 0x22) end++;
  if (byteAt(desc, end) !== 0x22) return 'invalid';
  if (end - start > S.BACKING_NAME_BUFFER - 1) return 'invalid';
  return desc.toString('latin1', start, end);
}

/**
 * vmdk_read_cid: true when `KEY` (CID or parentCID) is found and followed,
 * one character after the key, by a hexadecimal number (sscanf %x).
 */
export function hasCid(desc: Buffer, key: 'CID' | 'parentCID'): boolean {
  const bytes = Buffer.alloc(S.DESC_SIZE);
  desc.copy(bytes, 0, 0, S.DESC_SIZE);
  bytes[S.DESC_SIZE - 1] = 0; // QEMU terminates its buffer at DESC_SIZE - 1
  const at = strstr(bytes, key);
  if (at < 0) return false;
  let p = at + key.length + 1;
  while (byteAt(bytes, p) !== 0 && isSpace(byteAt(bytes, p))) p++;
  if (byteAt(bytes, p) === 0x2b || byteAt(bytes, p) === 0x2d) p++;
  const isHex = (c: number) => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
  if (byteAt(bytes, p) === 0x30) return true; // "0", or a "0x" prefix
  return isHex(byteAt(bytes, p));
}
