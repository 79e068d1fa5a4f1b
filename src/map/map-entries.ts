/**
 * qemu-img map's main loop (img_map, paraphrased): walk the range, merge
 * each next answer into the current entry when qemu would, and emit entries
 * as they close. An empty range still emits the initial zero-length entry.
 */
import { UsageError } from '../errors.js';
import type { ImageLayer } from '../formats/types.js';
import { chainStatus } from './chain-status.js';
import type { MapEntry } from './map-entry.js';

export interface MapRangeOptions {
  /** First guest byte (`--start-offset`), 0..2^63-1. */
  startOffsetBytes?: bigint;
  /** Cap (`--max-length`), 0..2^63-1; start + cap wraps like int64. */
  maxLengthBytes?: bigint;
  /**
   * Human mode: after an entry is emitted, a following entry that is not
   * (data && !zero) is rewritten to zero-only, so such runs coalesce more.
   */
  humanRewrite?: boolean;
  /** QEMU 8.2+: `compressed` is also a merge criterion. */
  mergeOnCompressed?: boolean;
}

/** An emitted entry; `isLast` is false while another entry follows. */
export interface EmittedEntry {
  entry: MapEntry;
  isLast: boolean;
  /** Exact start for the empty-range entry when it exceeds 2^53. */
  startExact?: bigint;
}

export function mergeable(curr: MapEntry, next: MapEntry, onCompressed: boolean): boolean {
  if (curr.lengthBytes === 0) return false;
  if (curr.zero !== next.zero || curr.data !== next.data || curr.depth !== next.depth) return false;
  if (curr.present !== next.present) return false;
  if (onCompressed && curr.compressed !== next.compressed) return false;
  if ((curr.filename === undefined) !== (next.filename === undefined)) return false;
  if ((curr.offsetBytes === undefined) !== (next.offsetBytes === undefined)) return false;
  if (curr.filename !== undefined && curr.filename !== next.filename) return false;
  if (curr.offsetBytes !== undefined && curr.offsetBytes + curr.lengthBytes !== next.offsetBytes) return false;
  return true;
}

const INT64_MAX = (1n << 63n) - 1n;

/**
 * Where the walk stops to let a prefetcher stage the tables ahead: when the
 * next guest offset reaches `atBytes`, the walk yields that offset (a number)
 * before reading on. `atBytes` may move between pauses.
 */
export interface PausePoint {
  atBytes: number;
}

/** Streams qemu-img map's entries for the chain `layers` (layers[0] = top). */
export function* mapEntries(layers: readonly ImageLayer[], options: MapRangeOptions = {}): Generator<EmittedEntry> {
  for (const item of walkEntries(layers, options, null)) if (typeof item !== 'number') yield item;
}

/** The guest range [start, end) of a map and its initial zero-length entry (--start-offset, --max-length). */
export function mapRange(virtualSizeBytes: number, options: MapRangeOptions): { start: bigint; end: bigint; empty: MapEntry } {
  const start = options.startOffsetBytes ?? 0n;
  let end = BigInt(virtualSizeBytes);
  if (options.maxLengthBytes !== undefined) {
    const capped = BigInt.asIntN(64, start + options.maxLengthBytes);
    if (capped < end) end = capped;
  }
  const empty: MapEntry = {
    startBytes: Number(start), lengthBytes: 0, depth: 0, present: false, zero: false, data: false,
    compressed: false, offsetBytes: undefined, filename: undefined,
  };
  return { start, end, empty };
}

/**
 * The merging half of the loop, whatever answers the block status: each
 * next answer, in guest order, is merged into the current entry when qemu
 * would merge it; otherwise the current entry closes and is returned.
 */
export class EntryMerger {
  private curr: MapEntry;
  private readonly onCompressed: boolean;

  constructor(empty: MapEntry, private readonly options: MapRangeOptions) {
    this.curr = empty;
    this.onCompressed = options.mergeOnCompressed === true;
  }

  /** The guest offset the next answer is asked for. */
  get nextOffset(): number {
    return this.curr.startBytes + this.curr.lengthBytes;
  }

  /** Takes the answer at `nextOffset`; returns the entry it closed, if any. */
  push(next: MapEntry): MapEntry | null {
    if (mergeable(this.curr, next, this.onCompressed)) {
      this.curr.lengthBytes += next.lengthBytes;
      return null;
    }
    const closed = this.curr.lengthBytes > 0 ? this.curr : null;
    if (closed !== null && this.options.humanRewrite === true && (!next.data || next.zero)) {
      next.data = false;
      next.zero = true;
    }
    this.curr = next;
    return closed;
  }

  /** The entry still open once the range is walked: the last one. */
  last(): MapEntry {
    return this.curr;
  }
}

/** mapEntries, pausing (yielding the guest offset reached) at `pause` when one is given. */
export function* walkEntries(layers: readonly ImageLayer[], options: MapRangeOptions, pause: PausePoint | null): Generator<EmittedEntry | number> {
  const { start, end, empty } = mapRange(layers[0]!.virtualSizeBytes, options);
  if (start > INT64_MAX || start < 0n) throw new UsageError('start offset out of range');
  if (start >= end) {
    yield { entry: empty, isLast: true, startExact: start };
    return;
  }
  if (start > BigInt(Number.MAX_SAFE_INTEGER) && start % 512n !== 0n) {
    throw new UsageError('start offsets above 2^53 must be multiples of 512');
  }
  const endBytes = Number(end);
  const merger = new EntryMerger(empty, options);
  for (let offset = merger.nextOffset; offset < endBytes; offset = merger.nextOffset) {
    if (pause !== null && offset >= pause.atBytes) yield offset;
    const closed = merger.push(chainStatus(layers, offset, endBytes - offset));
    if (closed !== null) yield { entry: closed, isLast: false };
  }
  yield { entry: merger.last(), isLast: true };
}
