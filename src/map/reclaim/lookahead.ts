/**
 * A window onto a sorted, disjoint span stream: the spans overlapping a
 * range ahead of the reader, pulled lazily and dropped once the reader has
 * passed them. Memory is bounded by the spans of the widest window asked
 * for (the commit model asks for at most one mirror piece, ≤ 16 MiB, plus a
 * cluster), never by the map.
 */
import type { Span } from './spans.js';

export class SpanWindow<T> {
  private readonly buffer: Span<T>[] = [];
  private head = 0;
  private exhausted = false;
  private lastEndBytes = 0;
  /** Spans ending at or before this are never kept (see `release`). */
  private releasedBytes = 0;

  constructor(private readonly iterator: Iterator<Span<T>>) {}

  /** End of the last span pulled so far (the stream's end once `isExhaustedAfter` said so). */
  get pulledEndBytes(): number {
    return this.lastEndBytes;
  }

  /** Spans overlapping [fromBytes, toBytes), in order. */
  spansIn(fromBytes: number, toBytes: number): Span<T>[] {
    this.pullUntil(toBytes);
    const found: Span<T>[] = [];
    for (let i = this.head; i < this.buffer.length; i++) {
      const span = this.buffer[i]!;
      if (span.startBytes >= toBytes) break;
      if (span.endBytes > fromBytes) found.push(span);
    }
    return found;
  }

  /**
   * The first span ending after `positionBytes` that `keep` accepts, or
   * undefined at the stream's end. With `granuleBytes`, spans passed over
   * are released down to a multiple of it (the caller still sees every span
   * of the granule holding the one found), so a long run of them is never held.
   */
  firstAfter(positionBytes: number, keep: (span: Span<T>) => boolean, granuleBytes?: number): Span<T> | undefined {
    let i = this.head;
    for (;;) {
      for (; i < this.buffer.length; i++) {
        const span = this.buffer[i]!;
        if (span.endBytes > positionBytes && keep(span)) return span;
      }
      if (granuleBytes !== undefined && i > this.head) {
        this.release(Math.floor(this.buffer[i - 1]!.endBytes / granuleBytes) * granuleBytes);
        i = this.head; // what is left lies within one granule
      }
      if (!this.pullOne()) return undefined;
    }
  }

  /** True when no span ends after `positionBytes`. */
  isExhaustedAfter(positionBytes: number): boolean {
    return this.firstAfter(positionBytes, () => true) === undefined;
  }

  /** Forgets spans ending at or before `positionBytes`, and skips such spans when pulling later. */
  release(positionBytes: number): void {
    this.releasedBytes = Math.max(this.releasedBytes, positionBytes);
    while (this.head < this.buffer.length && this.buffer[this.head]!.endBytes <= positionBytes) this.head++;
    if (this.head > 1024 && this.head * 2 > this.buffer.length) {
      this.buffer.splice(0, this.head);
      this.head = 0;
    }
  }

  private pullUntil(toBytes: number): void {
    while (!this.exhausted && this.lastEndBytes < toBytes && this.pullOne());
  }

  private pullOne(): boolean {
    while (!this.exhausted) {
      const next = this.iterator.next();
      if (next.done === true) {
        this.exhausted = true;
        return false;
      }
      this.lastEndBytes = next.value.endBytes;
      if (next.value.endBytes <= this.releasedBytes) continue;
      this.buffer.push(next.value);
      return true;
    }
    return false;
  }
}
