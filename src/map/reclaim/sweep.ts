/**
 * A k-way sweep over sorted, disjoint span streams: calls `onSegment` for
 * every maximal byte range over which no stream's coverage changes and at
 * least one stream covers it. Streams are read lazily, one span ahead each;
 * a min-heap of the streams' next boundaries keeps each step O(log k).
 */
import type { Span } from './spans.js';

/** What one stream covers over a segment (undefined: nothing). */
export type SweepState<T> = readonly (Span<T> | undefined)[];

export type SegmentHandler<T> = (startBytes: number, endBytes: number, current: SweepState<T>, active: ReadonlySet<number>) => void;

interface StreamCursor<T> {
  iterator: Iterator<Span<T>>;
  /** The span the stream is in or waits for; undefined once exhausted. */
  span: Span<T> | undefined;
}

/** Binary min-heap of stream indexes keyed by their next boundary. */
class BoundaryHeap {
  private readonly items: number[] = [];
  constructor(private readonly keyOf: (index: number) => number) {}
  get size(): number { return this.items.length; }
  peek(): number | undefined { return this.items[0]; }
  push(index: number): void {
    const items = this.items;
    items.push(index);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.keyOf(items[parent]!) <= this.keyOf(items[i]!)) break;
      [items[parent], items[i]] = [items[i]!, items[parent]!];
      i = parent;
    }
  }
  pop(): number | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < items.length && this.keyOf(items[left]!) < this.keyOf(items[smallest]!)) smallest = left;
        if (right < items.length && this.keyOf(items[right]!) < this.keyOf(items[smallest]!)) smallest = right;
        if (smallest === i) break;
        [items[smallest], items[i]] = [items[i]!, items[smallest]!];
        i = smallest;
      }
    }
    return top;
  }
}

/** Sweeps `streams` from the lowest start to the highest end. */
export function sweepSpans<T>(streams: readonly Iterable<Span<T>>[], onSegment: SegmentHandler<T>): void {
  const cursors: StreamCursor<T>[] = streams.map((stream) => {
    const iterator = stream[Symbol.iterator]();
    const first = iterator.next();
    return { iterator, span: first.done === true ? undefined : first.value };
  });
  const current: (Span<T> | undefined)[] = cursors.map(() => undefined);
  const active = new Set<number>();
  // A stream's next boundary: its span's end when inside it, else its start.
  const boundaryOf = (index: number): number => {
    const cursor = cursors[index]!;
    return current[index] !== undefined ? cursor.span!.endBytes : cursor.span!.startBytes;
  };
  const heap = new BoundaryHeap(boundaryOf);
  cursors.forEach((cursor, index) => { if (cursor.span !== undefined) heap.push(index); });
  let positionBytes = 0;
  while (heap.size > 0) {
    const nextBytes = boundaryOf(heap.peek()!);
    if (active.size > 0 && nextBytes > positionBytes) onSegment(positionBytes, nextBytes, current, active);
    positionBytes = nextBytes;
    while (heap.size > 0 && boundaryOf(heap.peek()!) === positionBytes) {
      const index = heap.pop()!;
      const cursor = cursors[index]!;
      if (current[index] !== undefined) {
        current[index] = undefined;
        active.delete(index);
        const next = cursor.iterator.next();
        cursor.span = next.done === true ? undefined : next.value;
        if (cursor.span !== undefined && cursor.span.startBytes < positionBytes) {
          throw new RangeError(`sweep: stream ${index} goes back from ${positionBytes} to ${cursor.span.startBytes}`);
        }
      } else {
        current[index] = cursor.span;
        active.add(index);
      }
      if (cursor.span !== undefined) heap.push(index);
    }
  }
}
