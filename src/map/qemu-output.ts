/**
 * qemu-img map's two output formats, to the byte (dump_map_entry of
 * qemu-img 7.2, paraphrased). JSON is hand-printed: `[` then entries
 * `{ "start": …, … "data": b[, "offset": n]}` joined by ",\n", then "]\n".
 * Human: a header, then one line per data-not-zero entry with C's `%#-16x`
 * columns (zero prints as "0", no "0x") and the unescaped file name.
 */
import type { EmittedEntry } from './map-entries.js';

export const HUMAN_HEADER = 'Offset          Length          Mapped to       File\n';
export const JSON_OPEN = '[';
export const JSON_CLOSE = ']\n';

/** `--compat=8.2` adds `"compressed"` between `data` and `offset`. */
export type MapCompat = '7.2' | '8.2';

/** An integer in decimal, exactly (JS prints doubles above 2^53 in shortest form). */
const int = (n: number): string => {
  if (n < 0x40000000) return String(n);
  if (n > Number.MAX_SAFE_INTEGER) return BigInt(n).toString();
  // Two small integers print much faster than one large double.
  const high = Math.floor(n / 1e9);
  return `${high}${String(n - high * 1e9).padStart(9, '0')}`;
};

/** One JSON entry, followed by ",\n" when another entry follows. */
export function jsonEntry(emitted: EmittedEntry, compat: MapCompat): string {
  const e = emitted.entry;
  const start = emitted.startExact ?? int(e.startBytes);
  let text = `{ "start": ${start}, "length": ${int(e.lengthBytes)}, "depth": ${e.depth}, "present": ${e.present}, "zero": ${e.zero}, "data": ${e.data}`;
  if (compat === '8.2') text += `, "compressed": ${e.compressed}`;
  if (e.offsetBytes !== undefined) text += `, "offset": ${int(e.offsetBytes)}`;
  return emitted.isLast ? `${text}}` : `${text}},\n`;
}

/** C's printf("%#-16" PRIx64). */
function hexColumn(value: number): string {
  return (value === 0 ? '0' : `0x${value.toString(16)}`).padEnd(16, ' ');
}

/** Thrown when a human entry has data but no offset (compressed, encrypted, external). */
export class HumanOutputRefused extends Error {
  constructor() {
    super('File contains external, encrypted or compressed clusters.');
  }
}

/** The human line for an entry ('' when it prints nothing); throws HumanOutputRefused. */
export function humanLine(emitted: EmittedEntry): string {
  const e = emitted.entry;
  if (e.data && e.offsetBytes === undefined) throw new HumanOutputRefused();
  if (!e.data || e.zero) return '';
  return `${hexColumn(e.startBytes)}${hexColumn(e.lengthBytes)}${hexColumn(e.offsetBytes ?? 0)}${e.filename ?? ''}\n`;
}
