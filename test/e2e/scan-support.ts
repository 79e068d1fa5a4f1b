/**
 * Helpers for the scan tests: run the built CLI, read the database, and
 * compute the figures SPEC §3 expects from real `qemu-img map` output (an
 * implementation independent of imgaudit's).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { TEST_ENV, runOk } from '../support/qemu.js';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The built CLI; LIVE_CLI points at another build, as in the live tier (test/live/differential.ts). */
export const CLI = process.env.LIVE_CLI ? path.resolve(process.env.LIVE_CLI) : path.join(REPO, 'dist/cli.js');
export const OPEN_COUNTER = path.join(REPO, 'test/e2e/scan-open-counter.mjs');

/** Fails with a clear message when the CLI was not built. */
export function requireBuild(): void {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} does not exist: run \`npm run build\` first`);
}

export interface CliResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `imgaudit ARGS` to completion. `nodeArgs` go before the script (e.g. --import). */
export function runCli(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}, nodeArgs: string[] = []): CliResult {
  const r = spawnSync(process.execPath, [...nodeArgs, CLI, ...args], { cwd, env: { ...TEST_ENV, ...env }, encoding: 'utf8' });
  if (r.error) throw r.error;
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** Starts `imgaudit ARGS` in the background. */
export function startCli(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], { cwd, env: { ...TEST_ENV, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * The map workers' pause hook (src/app/map-worker.ts): the worker mapping a
 * chain whose path contains `name` creates `marker` and waits until it is
 * removed, after the chain's first entry (`pause`) or first full block
 * (`pause-block`).
 */
export function pauseHook(kind: 'pause' | 'pause-block', name: string, marker: string): NodeJS.ProcessEnv {
  return { IMGAUDIT_TEST_WORKER_FAULT: `${kind}:${name}:${marker}` };
}

/** Waits for a child to exit; resolves with its status, signal and stderr. */
export function exited(child: ChildProcess): Promise<{ status: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  return new Promise((resolve) => child.on('exit', (status, signal) => resolve({ status, signal, stderr })));
}

/** Polls `predicate` every 5 ms until it holds (or throws after `timeoutMs`). */
export async function waitFor(predicate: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Runs `query` on a read-only connection to `dbFile` (undefined if the database is not there yet). */
export function readDb<T>(dbFile: string, query: (db: Database.Database) => T): T {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    return query(db);
  } finally {
    db.close();
  }
}

/** Per-depth figures and chain-level unallocated bytes. */
export interface Figures {
  virtualSizeBytes: number;
  unallocatedBytes: number;
  byDepth: { depth: number; dataBytes: number; zeroBytes: number; preallocatedBytes: number }[];
}

interface QemuEntry {
  start: number; length: number; depth: number; present: boolean; zero: boolean; data: boolean; offset?: number;
}

/** SPEC §3 applied to `qemu-img map --output=json` of `file` (formats from `qemu-img info --backing-chain`). */
export function expectedFigures(file: string): Figures {
  const cwd = path.dirname(file);
  const chain = JSON.parse(runOk(['qemu-img', 'info', '-U', '--backing-chain', '--output=json', file], cwd)) as
    { format: string; 'virtual-size': number }[];
  const entries = JSON.parse(runOk(['qemu-img', 'map', '-U', '--output=json', file], cwd)) as QemuEntry[];
  const byDepth = chain.map((_, depth) => ({ depth, dataBytes: 0, zeroBytes: 0, preallocatedBytes: 0 }));
  let unallocatedBytes = 0;
  for (const e of entries) {
    const layer = byDepth[e.depth]!;
    const isRaw = chain[e.depth]!.format === 'raw';
    if (e.data && !e.zero) layer.dataBytes += e.length;
    else if (!e.present && e.offset === undefined) unallocatedBytes += e.length;
    else if (e.offset !== undefined && !isRaw) layer.preallocatedBytes += e.length;
    else if (!e.present) unallocatedBytes += e.length;
    else layer.zeroBytes += e.length;
  }
  return { virtualSizeBytes: chain[0]!['virtual-size'], unallocatedBytes, byDepth };
}

/** The figures the database holds for `imagePath` in run `runId`. */
export function storedFigures(db: Database.Database, runId: number, imagePath: string): Figures {
  const state = db.prepare('SELECT virtual_size_bytes, unallocated_bytes FROM run_image_states WHERE run_id = ? AND path = ?')
    .get(runId, imagePath) as { virtual_size_bytes: number; unallocated_bytes: number } | undefined;
  if (state === undefined) throw new Error(`${imagePath} is not in run ${runId}`);
  const byDepth = db.prepare(`SELECT depth, data_bytes AS dataBytes, zero_bytes AS zeroBytes,
    preallocated_bytes AS preallocatedBytes FROM run_image_depths WHERE run_id = ? AND path = ? ORDER BY depth`)
    .all(runId, imagePath) as Figures['byDepth'];
  return { virtualSizeBytes: state.virtual_size_bytes, unallocatedBytes: state.unallocated_bytes, byDepth };
}
