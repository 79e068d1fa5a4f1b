/**
 * Byte ranges of map entries as a stream: the entries a figure looks at
 * (a predicate), clipped to an end, with a value each. Entries must come
 * sorted by start and must not overlap; a violation throws, because every
 * figure of this folder would silently be wrong otherwise.
 */
import type { MapEntry } from '../map-entry.js';

/** A half-open byte range [startBytes, endBytes) carrying a value. */
export interface Span<T> {
  startBytes: number;
  endBytes: number;
  value: T;
}

/** Thrown when a map stream is not sorted and disjoint. */
export class UnsortedMapError extends RangeError {
  constructor(what: string, startBytes: number, previousEndBytes: number) {
    super(`${what}: entry at ${startBytes} starts before the previous one ends (${previousEndBytes}); map entries must be sorted and disjoint`);
  }
}

/**
 * The entries `keep` accepts, as spans clipped to [0, endBytes), valued by
 * `valueOf`. Checks the order of every entry, kept or not.
 */
export function* spansOf<T>(
  entries: Iterable<MapEntry>,
  what: string,
  keep: (entry: MapEntry) => boolean,
  valueOf: (entry: MapEntry) => T,
  endBytes = Number.POSITIVE_INFINITY,
): Generator<Span<T>> {
  let previousEndBytes = 0;
  for (const entry of entries) {
    if (entry.startBytes < previousEndBytes || entry.lengthBytes < 0) {
      throw new UnsortedMapError(what, entry.startBytes, previousEndBytes);
    }
    previousEndBytes = entry.startBytes + entry.lengthBytes;
    if (!keep(entry) || entry.lengthBytes === 0 || entry.startBytes >= endBytes) continue;
    yield { startBytes: entry.startBytes, endBytes: Math.min(previousEndBytes, endBytes), value: valueOf(entry) };
  }
}

/** True for an entry the layer at `depth` answers (present there). */
export const presentAt = (depth: number) => (entry: MapEntry): boolean => entry.present && entry.depth === depth;
