/**
 * The scan's pool of map workers (map-worker.ts). The limiter bounds the
 * chains in flight; they are spread over at most `workers` threads (each
 * maps several chains at once), a worker being started when a chain is
 * dispatched and every running one is busy, so an unchanged re-scan starts
 * none. The main thread stays the single writer:
 * blocks a worker sends are stored as they arrive and acknowledged, which
 * is the backpressure that bounds memory. When a worker throws or exits,
 * which of its chains caused it is unknown: each is mapped once more on a
 * worker of its own, and a chain whose worker dies again is recorded as
 * that image's `E_INTERNAL` failure (with the cause). An abort terminates
 * the busy workers (what they mapped is dropped, as an aborted map on the
 * main thread is). The post-scan pass asks the workers for FIEMAP extent
 * maps too, so that those system calls wait on the storage in parallel.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { type Classification, extensionFormat } from '../crawl/classify.js';
import { ReadError } from '../errors.js';
import type { HostExtentMap } from '../io/extents.js';
import type { MapChainOutcome } from '../crawl/map-chain.js';
import type { ChainLayerInfo } from '../map/image-chain.js';
import type { EntryColumns } from '../map/entry-block.js';
import type { MapRequest, MapSummary, WorkerMessage } from './map-protocol.js';

/** Where a chain's map goes on the writer's side (one per attempt). */
export interface BlockSink {
  addColumns(columns: EntryColumns): void;
  /** Stores the map (hash computed by the worker); returns its id. */
  finish(digest: string): number;
  abort(): void;
}

/** What a worker made of a candidate: its classification and, for an image, the outcome of mapping it. */
export interface PooledAudit {
  classification: Classification;
  outcome: MapChainOutcome<PooledResult> | null;
}

/** A mapped chain's map id with what the worker computed. */
export interface PooledResult extends MapSummary {
  mapId: number;
}

/** The built worker next to this module (dist/map-worker.js in the bundle); null when running from sources. */
export function builtWorker(): URL | null {
  const url = new URL('./map-worker.js', import.meta.url);
  return url.protocol === 'file:' && fs.existsSync(fileURLToPath(url)) ? url : null;
}

/**
 * A worker's JavaScript heap (its tables and blocks are buffers outside it).
 * A small limit makes V8 collect often, which also frees the buffers of
 * chains done with: without it each worker let ~100 MiB of them pile up.
 */
const WORKER_HEAP_MB = 32;

interface Task {
  request: MapRequest;
  sink: (virtualSizeBytes: number, layers: readonly ChainLayerInfo[]) => BlockSink;
  resolve: (audit: PooledAudit) => void;
  reject: (error: unknown) => void;
  current: BlockSink | null;
  layers: readonly ChainLayerInfo[];
  /** The candidate's format, once a first attempt says it is an image. */
  format: string | null;
  /** Workers that died while mapping this chain. */
  deaths: number;
}

/** Aborts a task's partial map; a store error there is the task's rejection. */
function settle(task: Task, then: () => void): void {
  try {
    task.current?.abort();
  } catch (error) {
    task.reject(error);
    return;
  }
  then();
}

/** A FIEMAP request waiting for its answer. */
interface ExtentsTask {
  resolve: (extents: HostExtentMap | null) => void;
  reject: (error: unknown) => void;
}

class PoolWorker {
  readonly worker: Worker;
  readonly tasks = new Map<number, Task>();
  readonly extents = new Map<number, ExtentsTask>();
  private ended = false;

  /** `dedicated`: a worker for one chain whose previous worker died (no other chain joins it). */
  constructor(url: URL, private readonly pool: MapPool, readonly dedicated = false) {
    this.worker = new Worker(url, { resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB } });
    this.worker.on('message', (message: WorkerMessage) => this.onMessage(message));
    this.worker.on('error', (error) => this.fail(`internal error: map worker failed: ${error.message}`));
    this.worker.on('exit', (code) => this.fail(`internal error: map worker exited (status ${code})`));
  }

  run(task: Task): void {
    this.tasks.set(task.request.id, task);
    this.worker.postMessage(task.request);
  }

  /** Work in flight on this worker. */
  get load(): number {
    return this.tasks.size + this.extents.size;
  }

  askExtents(id: number, path: string, waiter: ExtentsTask): void {
    this.extents.set(id, waiter);
    this.worker.postMessage({ kind: 'extents', id, path });
  }

  private onMessage(message: WorkerMessage): void {
    if (message.kind === 'extents') {
      const waiter = this.extents.get(message.id);
      this.extents.delete(message.id);
      if (message.error === null) waiter?.resolve(message.extents);
      else waiter?.reject(new ReadError(message.error.message));
      return;
    }
    const task = this.tasks.get(message.id);
    if (task === undefined) return;
    try {
      if (message.kind === 'attempt') {
        task.current?.abort();
        task.layers = message.layers;
        task.format ??= message.layers[0]?.format ?? null;
        task.current = task.sink(message.virtualSizeBytes, message.layers);
      } else if (message.kind === 'block') {
        task.current!.addColumns(message.columns);
        this.worker.postMessage({ kind: 'ack' });
      } else {
        this.tasks.delete(message.id);
        if (this.dedicated) this.end();
        const { outcome, classification } = message;
        if (outcome?.kind === 'mapped') {
          if (message.last !== null) task.current!.addColumns(message.last);
          const mapId = task.current!.finish(outcome.result.digest);
          task.resolve({ classification, outcome: { ...outcome, layers: task.layers, result: { ...outcome.result, mapId } } });
        } else {
          settle(task, () => task.resolve({ classification, outcome }));
        }
      }
    } catch (error) {
      // The store failed: the run stops; this worker's other chains go with it.
      this.tasks.delete(message.id);
      settle(task, () => task.reject(error));
      this.abort(error);
    }
  }

  /** The worker died: its chains are mapped again, each on a worker of its own, or fail the second time. */
  private fail(message: string): void {
    if (this.ended) return;
    this.end();
    for (const task of this.drain()) {
      if (++task.deaths < 2) {
        settle(task, () => {
          task.current = null;
          this.pool.retry(task);
        });
        continue;
      }
      const classification: Classification = task.format === null
        ? { kind: 'unreadable', code: 'E_INTERNAL', message }
        : { kind: 'image', format: task.format, extensionFormat: extensionFormat(task.request.file) };
      const outcome = classification.kind === 'image'
        ? { kind: 'failed' as const, layers: task.layers, code: 'E_INTERNAL', message, errno: null, depth: null } : null;
      settle(task, () => task.resolve({ classification, outcome }));
    }
  }

  private drain(reason: unknown = new ReadError('extent map unknown: its map worker died')): Task[] {
    const tasks = [...this.tasks.values()];
    this.tasks.clear();
    for (const waiter of this.extents.values()) waiter.reject(reason);
    this.extents.clear();
    return tasks;
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.pool.forget(this);
    void this.worker.terminate();
  }

  /** Terminates the worker; its chains reject with `reason`. */
  abort(reason: unknown): void {
    this.end();
    for (const task of this.drain(reason)) settle(task, () => task.reject(reason));
  }
}

/** The chains in flight, spread over up to `workers` threads started on demand. */
export class MapPool {
  private readonly running = new Set<PoolWorker>();
  private nextId = 1;

  constructor(private readonly workers: number, private readonly url: URL, signal: AbortSignal) {
    signal.addEventListener('abort', () => {
      for (const worker of [...this.running]) worker.abort(signal.reason);
    }, { once: true });
  }

  /** The least busy shared worker, or a new one while there are fewer than `workers` and all are busy. */
  private pick(): PoolWorker {
    let worker: PoolWorker | undefined;
    let shared = 0;
    for (const candidate of this.running) {
      if (candidate.dedicated) continue;
      shared++;
      if (worker === undefined || candidate.load < worker.load) worker = candidate;
    }
    if (worker === undefined || (worker.load > 0 && shared < this.workers)) {
      worker = new PoolWorker(this.url, this);
      this.running.add(worker);
    }
    return worker;
  }

  /** The extent map of `path` (io/extents hostExtents), computed on a worker. */
  extents(path: string): Promise<HostExtentMap | null> {
    return new Promise((resolve, reject) => this.pick().askExtents(this.nextId++, path, { resolve, reject }));
  }

  /** Maps one chain on a worker. */
  map(request: Omit<MapRequest, 'id'>, sink: Task['sink']): Promise<PooledAudit> {
    return new Promise((resolve, reject) => {
      const worker = this.pick();
      worker.run({ request: { ...request, id: this.nextId++ }, sink, resolve, reject, current: null, layers: [], format: null, deaths: 0 });
    });
  }

  /** Maps `task` again on a worker of its own (its worker died). */
  retry(task: Task): void {
    const worker = new PoolWorker(this.url, this, true);
    this.running.add(worker);
    worker.run(task);
  }

  forget(worker: PoolWorker): void {
    this.running.delete(worker);
  }

  /** Stops every worker. */
  close(): void {
    for (const worker of [...this.running]) worker.end();
  }
}
