/**
 * The only importer of p-limit: a bounded pool of in-flight tasks with
 * backpressure, so the producer (the crawl) never queues more than a few
 * tasks per slot and memory stays flat in the number of images. The first
 * task that throws fails the pool: no further task starts, and `idle`
 * rethrows its error.
 */
import pLimit, { type LimitFunction } from 'p-limit';

/** Tasks queued per slot before `whenReady` makes the producer wait. */
const QUEUED_PER_SLOT = 2;

/** At most `concurrency` tasks at once, with a bounded queue (see the module comment). */
export class Limiter {
  private readonly limit: LimitFunction;
  private readonly pending = new Set<Promise<void>>();
  private failure: { error: unknown } | null = null;

  constructor(readonly concurrency: number) {
    this.limit = pLimit(concurrency);
  }

  /** True once a task has thrown. */
  get hasFailed(): boolean {
    return this.failure !== null;
  }

  /** Resolves once another task may be queued. */
  async whenReady(): Promise<void> {
    while (this.pending.size >= this.concurrency * QUEUED_PER_SLOT) await Promise.race(this.pending);
  }

  /** Queues `task` (skipped when the pool has failed meanwhile). */
  run(task: () => Promise<void>): void {
    const promise: Promise<void> = this.limit(async () => {
      if (this.failure !== null) return;
      try {
        await task();
      } catch (error) {
        this.failure ??= { error };
      }
    }).finally(() => this.pending.delete(promise));
    this.pending.add(promise);
  }

  /** Resolves when every queued task has settled; rethrows the first task error. */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
    if (this.failure !== null) throw this.failure.error;
  }
}
