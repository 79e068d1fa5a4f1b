/**
 * Shadowed bytes of one layer of a chain (issue #6): the layer's own
 * allocation (its present depth-0 entries when mapped alone) within the
 * top's virtual size, minus what the chain's map reads from it (its present
 * entries at the layer's depth), per SPEC §3 category of the own entry.
 * Exact per byte: an interval intersection of the two streams.
 */
import { type ByteCategory, categorize } from '../categorize.js';
import type { MapEntry } from '../map-entry.js';
import { presentAt, spansOf } from './spans.js';
import { sweepSpans } from './sweep.js';

/** What upper layers hide of a layer's own allocation, by SPEC §3 category. */
export interface ShadowedBytes {
  dataBytes: number;
  zeroBytes: number;
  preallocatedBytes: number;
}

const OWN = 0;
const VISIBLE = 1;

/**
 * `ownEntries`: the layer mapped alone (or as the top of its own chain);
 * `chainEntries`: the map of the chain it sits in at `depth`; both sorted
 * by start and read once. `isRawLayer` selects SPEC §3's raw rules.
 */
export function shadowedBytes(
  ownEntries: Iterable<MapEntry>,
  chainEntries: Iterable<MapEntry>,
  depth: number,
  isRawLayer: boolean,
  topVirtualSizeBytes: number,
): ShadowedBytes {
  const shadowed: ShadowedBytes = { dataBytes: 0, zeroBytes: 0, preallocatedBytes: 0 };
  const own = spansOf<ByteCategory>(ownEntries, 'own allocation', presentAt(0), (e) => categorize(e, isRawLayer), topVirtualSizeBytes);
  const visible = spansOf<ByteCategory>(chainEntries, 'chain map', presentAt(depth), () => 'data', topVirtualSizeBytes);
  sweepSpans<ByteCategory>([own, visible], (startBytes, endBytes, current) => {
    const ownSpan = current[OWN];
    if (ownSpan === undefined || current[VISIBLE] !== undefined) return;
    const lengthBytes = endBytes - startBytes;
    switch (ownSpan.value) {
      case 'data': shadowed.dataBytes += lengthBytes; break;
      case 'zero': shadowed.zeroBytes += lengthBytes; break;
      case 'preallocated': shadowed.preallocatedBytes += lengthBytes; break;
      case 'unallocated': break; // never for a present entry
    }
  });
  return shadowed;
}
