/**
 * A base file read directly by several overlays (it is at depth 1 in each
 * overlay's chain map): what they read of it together, what two or more of
 * them read, what none reads of its own allocation, and per overlay what it
 * reads and what it alone reads — the bytes that overlay holds on to.
 * One k-way sweep over the base's own map and the overlays' chain maps,
 * O(log k) per boundary whatever the number of overlays.
 */
import type { MapEntry } from '../map-entry.js';
import { presentAt, type Span, spansOf } from './spans.js';
import { sweepSpans } from './sweep.js';

/** One overlay's share of a base. */
export interface OverlayShare {
  /** Bytes its chain reads from the base (present entries at depth 1). */
  readBytes: number;
  /** ... that no other overlay reads. */
  uniqueBytes: number;
}

export interface BaseSharing {
  /** Union of what the overlays read from the base. */
  readBytes: number;
  /** Bytes read by two or more overlays. */
  sharedBytes: number;
  /** Own allocation of the base (present depth-0 entries mapped alone) no overlay reads. */
  unreadBytes: number;
  /** In the order of `overlayChains`. */
  overlays: OverlayShare[];
}

const BASE = 0;

/** `baseOwnEntries`: the base mapped alone; `overlayChains`: each overlay's chain map. */
export function baseSharing(baseOwnEntries: Iterable<MapEntry>, overlayChains: Iterable<MapEntry>[]): BaseSharing {
  const result: BaseSharing = {
    readBytes: 0,
    sharedBytes: 0,
    unreadBytes: 0,
    overlays: overlayChains.map(() => ({ readBytes: 0, uniqueBytes: 0 })),
  };
  const base = spansOf(baseOwnEntries, 'base own allocation', presentAt(0), () => BASE);
  const overlays = overlayChains.map((entries, i) => counted(spansOf(entries, `overlay ${i} chain map`, presentAt(1), () => i + 1), result.overlays[i]!));
  sweepSpans<number>([base, ...overlays], (startBytes, endBytes, current, active) => {
    const lengthBytes = endBytes - startBytes;
    const baseCovers = current[BASE] !== undefined;
    const readers = active.size - (baseCovers ? 1 : 0);
    if (readers === 0) {
      result.unreadBytes += lengthBytes;
      return;
    }
    result.readBytes += lengthBytes;
    if (readers >= 2) {
      result.sharedBytes += lengthBytes;
      return;
    }
    for (const index of active) {
      if (index !== BASE) result.overlays[index - 1]!.uniqueBytes += lengthBytes;
    }
  });
  return result;
}

/** Passes spans through, adding their lengths to the overlay's readBytes. */
function* counted(spans: Iterable<Span<number>>, share: OverlayShare): Generator<Span<number>> {
  for (const span of spans) {
    share.readBytes += span.endBytes - span.startBytes;
    yield span;
  }
}
