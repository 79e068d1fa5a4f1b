/**
 * The pieces the mirror job of `qemu-img commit` works through, and the
 * chain's block status over each, composed from the top's and the backing
 * file's own maps (each layer mapped alone).
 *
 * Dirty chunks: the G-sized chunks overlapping what the top holds itself
 * (its present entries: bdrv_is_allocated_above of the top alone). A piece
 * is a run of consecutive dirty chunks, at most MIRROR_BUFFER_BYTES long,
 * starting at the first dirty chunk after the previous piece.
 */
import type { MapEntry } from '../map-entry.js';
import { SpanWindow } from './lookahead.js';
import { MIRROR_BUFFER_BYTES, type StatusSegment } from './mirror-steps.js';
import { type Span, spansOf } from './spans.js';

/** What a top entry tells the model. */
export interface TopStatus {
  present: boolean;
  data: boolean;
}

/** What a backing-file entry tells the model. */
export interface BackingStatus {
  /** False for an unallocated entry without host space: it reads like a gap (past the end, or between present entries). */
  held: boolean;
  present: boolean;
  data: boolean;
  /** Guest bytes with host storage: an offset (qcow2), data (raw: allocated in the file system). */
  hostBacked: boolean;
  /** qcow2 data without an offset: a compressed cluster (its host cluster may be shared). */
  compressed: boolean;
}

/** A piece [startBytes, endBytes) of dirty chunks. */
export interface DirtyPiece {
  startBytes: number;
  endBytes: number;
  /** The top's stream ends before `endBytes`: no entry of the top ends after it. */
  isLast: boolean;
}

/** A layer's depth-0 entries as spans; the gaps between them (present entries only given) read from below. */
function layerSpans<T>(entries: Iterable<MapEntry>, what: string, valueOf: (entry: MapEntry) => T): Iterable<Span<T>> {
  return spansOf(entries, what, (e) => e.depth === 0, valueOf);
}

const isHeld = (e: MapEntry): boolean => e.present || e.offsetBytes !== undefined;

export class CommitPieces {
  readonly top: SpanWindow<TopStatus>;
  readonly backing: SpanWindow<BackingStatus>;

  /**
   * `hiddenEdges`: spacing of the status edges gaps may hide in each
   * stream (Infinity: none; see StatusSegment.hiddenEdgeBytes).
   */
  constructor(
    topEntries: Iterable<MapEntry>,
    backingEntries: Iterable<MapEntry>,
    private readonly granularityBytes: number,
    private readonly isRawBacking: boolean,
    private readonly hiddenEdges: { topBytes: number; backingBytes: number },
  ) {
    this.top = new SpanWindow(layerSpans(topEntries, 'top map',
      (e) => ({ present: e.present, data: e.data }))[Symbol.iterator]());
    const hostBacked = isRawBacking ? (e: MapEntry) => e.data : (e: MapEntry) => e.offsetBytes !== undefined;
    this.backing = new SpanWindow(layerSpans(backingEntries, 'backing map',
      (e) => ({
        held: isHeld(e), present: e.present, data: e.data, hostBacked: hostBacked(e),
        compressed: !isRawBacking && e.present && e.data && e.offsetBytes === undefined,
      }))[Symbol.iterator]());
  }

  /** The dirty pieces in order; the caller may release both windows up to each piece's start. */
  *pieces(): Generator<DirtyPiece> {
    const G = this.granularityBytes;
    const chunksPerPiece = Math.max(1, Math.floor(MIRROR_BUFFER_BYTES / G));
    for (let searchBytes = 0; ;) {
      this.top.release(searchBytes);
      const first = this.top.firstAfter(searchBytes, (s) => s.value.present, G);
      if (first === undefined) return;
      const startBytes = Math.max(searchBytes, Math.floor(first.startBytes / G) * G);
      let endBytes = startBytes;
      for (let chunks = 0; chunks < chunksPerPiece && this.isDirty(endBytes); chunks++) endBytes += G;
      yield { startBytes, endBytes, isLast: this.top.isExhaustedAfter(endBytes) };
      searchBytes = endBytes;
    }
  }

  /** End of the top's last entry (its virtual size when every entry was given). */
  get topEndBytes(): number {
    return this.top.pulledEndBytes;
  }

  /** The chain's status over [startBytes, endBytes), one segment per answer the maps can tell apart. */
  segments(startBytes: number, endBytes: number): StatusSegment[] {
    const segments: StatusSegment[] = [];
    let position = startBytes;
    for (const span of this.top.spansIn(startBytes, endBytes)) {
      const from = Math.max(span.startBytes, startBytes);
      const to = Math.min(span.endBytes, endBytes);
      if (from > position) this.backingSegments(segments, position, from, this.hiddenEdges.topBytes);
      if (span.value.present) {
        segments.push({ startBytes: from, endBytes: to, data: span.value.data, source: 'top', hiddenEdgeBytes: Infinity });
      } else {
        // Unallocated in the top (an entry, not a gap: its edges are known).
        this.backingSegments(segments, from, to, Infinity);
      }
      position = to;
    }
    if (position < endBytes) this.backingSegments(segments, position, endBytes, this.hiddenEdges.topBytes);
    return segments;
  }

  private isDirty(chunkStartBytes: number): boolean {
    return this.top.spansIn(chunkStartBytes, chunkStartBytes + this.granularityBytes).some((s) => s.value.present);
  }

  /** Where the top holds nothing: the backing file answers, or (gaps, unallocated) what lies below it. */
  private backingSegments(segments: StatusSegment[], startBytes: number, endBytes: number, topHiddenBytes: number): void {
    const inGap = Math.min(topHiddenBytes, this.hiddenEdges.backingBytes);
    // Raw: holes and the range past the end read as zero alike, one answer. qcow2: an unallocated
    // entry and a gap (past the old end, or between present entries) are one answer too.
    const gapSource = this.isRawBacking ? 'backing' : 'below';
    const firstIndex = segments.length;
    let lastUnheld = false;
    const push = (segment: StatusSegment, unheld: boolean): void => {
      const last = segments.length > firstIndex ? segments[segments.length - 1] : undefined;
      const merges = last !== undefined && last.data === segment.data && (this.isRawBacking || (unheld && lastUnheld));
      if (merges) {
        last.endBytes = segment.endBytes;
        last.hiddenEdgeBytes = Math.min(last.hiddenEdgeBytes, segment.hiddenEdgeBytes);
      } else {
        segments.push(segment);
      }
      lastUnheld = unheld;
    };
    let position = startBytes;
    for (const span of this.backing.spansIn(startBytes, endBytes)) {
      const from = Math.max(span.startBytes, startBytes);
      const to = Math.min(span.endBytes, endBytes);
      if (from > position) push({ startBytes: position, endBytes: from, data: false, source: gapSource, hiddenEdgeBytes: inGap }, true);
      const source = span.value.present ? 'backing' : span.value.held ? 'below' : gapSource;
      push({ startBytes: from, endBytes: to, data: span.value.present && span.value.data, source, hiddenEdgeBytes: topHiddenBytes },
        !span.value.held);
      position = to;
    }
    if (position < endBytes) push({ startBytes: position, endBytes, data: false, source: gapSource, hiddenEdgeBytes: inGap }, true);
  }
}
