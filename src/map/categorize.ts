/**
 * SPEC §3 accounting: every map entry's bytes fall into exactly one
 * category, charged to the entry's depth (unallocated bytes are chain-level).
 * Lives in map/ so that both the map engine (per-layer figures) and the
 * application (chain totals) use the one rule.
 */
import type { MapEntry } from './map-entry.js';

/** The categories of SPEC §3. */
export type ByteCategory = 'data' | 'zero' | 'preallocated' | 'unallocated';

/** The fields of a map entry the rules look at. */
export type AccountedEntry = Pick<MapEntry, 'lengthBytes' | 'depth' | 'present' | 'zero' | 'data' | 'offsetBytes'>;

/**
 * The category of an entry, by the rules of SPEC §3 in their order.
 * `isRawLayer` tells whether the layer at the entry's depth is raw.
 */
export function categorize(entry: AccountedEntry, isRawLayer: boolean): ByteCategory {
  if (entry.data && !entry.zero) return 'data';
  const hasOffset = entry.offsetBytes !== undefined;
  if (!entry.present && !hasOffset) return 'unallocated';
  if (hasOffset && !isRawLayer) return 'preallocated';
  if (!entry.present) return 'unallocated';
  return 'zero';
}
