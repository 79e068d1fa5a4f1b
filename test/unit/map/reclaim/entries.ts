/** Hand-built map entries for the reclaim unit tests. */
import type { MapEntry } from '../../../../src/map/map-entry.js';

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const TiB = 1024 * 1024 * MiB;

type Kind = 'data' | 'zero' | 'prealloc' | 'unalloc' | 'unallocHeld' | 'rawData' | 'rawHole';

/** One entry: start, length, kind, depth, host offset (for the kinds that have one). */
export function e(startBytes: number, lengthBytes: number, kind: Kind, depth = 0, offsetBytes?: number): MapEntry {
  const flags: Record<Kind, { present: boolean; zero: boolean; data: boolean; hasOffset: boolean }> = {
    data: { present: true, zero: false, data: true, hasOffset: true },
    zero: { present: true, zero: true, data: false, hasOffset: false },
    prealloc: { present: true, zero: true, data: false, hasOffset: true },
    unalloc: { present: false, zero: true, data: false, hasOffset: false },
    unallocHeld: { present: false, zero: true, data: false, hasOffset: true },
    rawData: { present: true, zero: false, data: true, hasOffset: true },
    rawHole: { present: true, zero: true, data: false, hasOffset: true },
  };
  const f = flags[kind];
  return {
    startBytes, lengthBytes, depth, present: f.present, zero: f.zero, data: f.data, compressed: false,
    offsetBytes: f.hasOffset ? (offsetBytes ?? startBytes) : undefined, filename: undefined,
  };
}

/** A single-pass stream of the entries (a generator, as the store and layerAloneEntries give them). */
export function* once(entries: readonly MapEntry[]): Generator<MapEntry> {
  yield* entries;
}

/** Fills the gaps of a layer's entries with unallocated ones, up to `sizeBytes` (a whole map of the layer alone). */
export function tile(entries: readonly MapEntry[], sizeBytes: number): MapEntry[] {
  const out: MapEntry[] = [];
  let position = 0;
  for (const entry of entries) {
    if (entry.startBytes > position) out.push(e(position, entry.startBytes - position, 'unalloc'));
    out.push(entry);
    position = entry.startBytes + entry.lengthBytes;
  }
  if (position < sizeBytes) out.push(e(position, sizeBytes - position, 'unalloc'));
  return out;
}
