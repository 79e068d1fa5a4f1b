/**
 * Fuzz harness: seeds, run counts, and a worker thread that maps one image
 * at a time with the built library, so that a hanging case can be killed
 * (per-case timeout) and memory watched (RSS growth limit, V8 heap limit).
 *
 * Environment: FUZZ_SEED (base seed, decimal or 0x-hex), FUZZ_RUNS (cases
 * per test instead of the CI default), FUZZ_CASE_TIMEOUT_MS (default
 * 10000), FUZZ_RSS_LIMIT_MB (default 1024). Failing inputs are copied to
 * $TMPDIR/imgaudit-fuzz-failures/ and named in the assertion message.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { CLI, tempDir as makeTempDir } from '../support/imgaudit.js';
import { formatSeed, seedFromEnv } from '../support/prng.js';

export const FUZZ_SEED = seedFromEnv('FUZZ_SEED');
export const CASE_TIMEOUT_MS = Number(process.env.FUZZ_CASE_TIMEOUT_MS ?? 10_000);
export const RSS_LIMIT_BYTES = Number(process.env.FUZZ_RSS_LIMIT_MB ?? 1024) * 1024 * 1024;
export const FAILURE_DIR = path.join(os.tmpdir(), 'imgaudit-fuzz-failures');

/** Cases per test: FUZZ_RUNS when set, else the test's CI default. */
export function runs(ciDefault: number): number {
  const raw = process.env.FUZZ_RUNS;
  return raw === undefined || raw === '' ? ciDefault : Number(raw);
}

/** Fails early and clearly when dist/ is missing (the worker runs the built code). */
export function requireBuild(): void {
  if (!fs.existsSync(CLI)) throw new Error('test/fuzz needs the built library: run `npm run build` first');
}

export type Outcome =
  | { outcome: 'ok'; entries: number; rssBytes: number }
  | { outcome: 'typed'; name: string; code: string; message: string; rssBytes: number }
  | { outcome: 'other'; name: string; message: string; stack: string; rssBytes: number }
  | { outcome: 'hang' | 'crash'; message: string; rssBytes?: undefined };

export interface MapRequest { file: string; format?: string; maxDepth?: number }

const WORKER = fileURLToPath(new URL('./map-worker.mjs', import.meta.url));

/** One worker thread mapping images on request; replaced after a hang or crash. */
export class MapWorker {
  private worker: Worker | undefined;
  private nextId = 0;
  private waiting: ((value: Outcome) => void) | undefined;
  baselineRss = process.memoryUsage().rss;
  peakRss = 0;

  private async spawn(): Promise<Worker> {
    const worker = new Worker(WORKER, { resourceLimits: { maxOldGenerationSizeMb: 512 } });
    await new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
    });
    worker.on('message', (reply: Outcome) => this.waiting?.(reply));
    worker.on('error', (error) => this.waiting?.({ outcome: 'crash', message: String(error) }));
    worker.on('exit', (code) => this.waiting?.({ outcome: 'crash', message: `worker exited (${code})` }));
    this.baselineRss = Math.min(this.baselineRss, process.memoryUsage().rss);
    return worker;
  }

  async map(request: MapRequest): Promise<Outcome> {
    this.worker ??= await this.spawn();
    const worker = this.worker;
    const id = this.nextId++;
    let timer: NodeJS.Timeout | undefined;
    const reply = await new Promise<Outcome>((resolve) => {
      this.waiting = resolve;
      timer = setTimeout(() => resolve({ outcome: 'hang', message: `no answer within ${CASE_TIMEOUT_MS} ms` }), CASE_TIMEOUT_MS);
      worker.postMessage({ id, ...request });
    });
    clearTimeout(timer);
    this.waiting = undefined;
    if (reply.outcome === 'hang' || reply.outcome === 'crash') {
      this.worker = undefined;
      worker.removeAllListeners();
      await worker.terminate();
    } else {
      this.peakRss = Math.max(this.peakRss, reply.rssBytes ?? 0);
    }
    return reply;
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (worker) {
      worker.removeAllListeners();
      await worker.terminate();
    }
  }
}

/** Collects problems of a fuzz run; each names the seed, the case and a saved copy of the input. */
export class FuzzLog {
  readonly problems: string[] = [];
  readonly counts: Record<string, number> = {};
  constructor(private readonly test: string) {}

  /** Records `outcome` of case `label`; on a problem, saves `files` for reproduction. */
  record(outcome: Outcome, seed: number, label: string, files: readonly string[], worker?: MapWorker): void {
    const key = outcome.outcome === 'typed' ? `typed:${outcome.code}` : outcome.outcome;
    this.counts[key] = (this.counts[key] ?? 0) + 1;
    let problem: string | undefined;
    if (outcome.outcome === 'other') problem = `untyped ${outcome.name}: ${outcome.message}\n${outcome.stack}`;
    else if (outcome.outcome === 'hang' || outcome.outcome === 'crash') problem = `${outcome.outcome}: ${outcome.message}`;
    else if (worker && (outcome.rssBytes ?? 0) - worker.baselineRss > RSS_LIMIT_BYTES) {
      problem = `RSS grew by ${Math.round(((outcome.rssBytes ?? 0) - worker.baselineRss) / 2 ** 20)} MiB`;
    }
    if (problem !== undefined) this.problems.push(`[${this.test}] seed ${formatSeed(seed)} ${label}: ${problem}\n  input: ${saveFailure(seed, files)}`);
  }

  summary(): string {
    return `${this.test}: ${JSON.stringify(this.counts)}`;
  }
}

/** Copies failing inputs to FAILURE_DIR/<seed>/ and returns that directory. */
export function saveFailure(seed: number, files: readonly string[]): string {
  const target = path.join(FAILURE_DIR, formatSeed(seed));
  fs.mkdirSync(target, { recursive: true });
  for (const file of files) if (fs.existsSync(file)) fs.copyFileSync(file, path.join(target, path.basename(file)));
  return target;
}

/** A fresh temp directory for one fuzz file. */
export const tempDir = (name: string): string => makeTempDir(`fuzz-${name}`);
