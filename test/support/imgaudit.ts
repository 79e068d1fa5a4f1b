/**
 * Running imgaudit in tests: the built CLI (`node dist/cli.js`, spawned with
 * the C locale) and the library (src/, through vitest's TypeScript loader),
 * both reduced to qemu-img's JSON entry shape for comparisons.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ImageChain } from '../../src/map/image-chain.js';
import type { OpenChainOptions } from '../../src/map/chain.js';
import type { ModelEntry } from './qcow2-model.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = path.join(REPO_ROOT, 'dist', 'cli.js');

/** True when `npm run build` has produced dist/cli.js. */
export const hasDist: boolean = fs.existsSync(CLI);

export interface CliResult {
  stdout: string;
  stderr: string;
  code: number;
  /** True when the process was killed by the timeout. */
  timedOut: boolean;
}

/** Runs `node dist/cli.js ARGS` in `cwd` (never throws on a non-zero exit). */
export function runCli(args: readonly string[], cwd: string, timeoutMs = 60_000): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    // SIGKILL on timeout: a CLI blocked in open() on a FIFO ignores SIGTERM.
    cwd, encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 512 << 20,
    env: { ...process.env, LC_ALL: 'C', LANG: 'C' },
  });
  const timedOut = (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT';
  if (r.error && !timedOut) throw r.error;
  return { stdout: r.stdout ?? '', stderr: r.stderr ?? '', code: r.status ?? 128, timedOut };
}

/** Runs `bin ARGS` in `cwd` asynchronously, in the C locale (for concurrent tests). */
export function runAsync(bin: string, args: readonly string[], cwd: string, signal?: AbortSignal): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { cwd, env: { ...process.env, LC_ALL: 'C', LANG: 'C' }, ...(signal ? { signal, killSignal: 'SIGKILL' } : {}) });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk; });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
    child.on('error', (error) => (signal?.aborted ? resolve({ stdout, stderr, code: -1, timedOut: true }) : reject(error)));
    child.on('close', (code) => resolve({ stdout, stderr, code: code ?? 128, timedOut: false }));
  });
}

/** `node dist/cli.js ARGS`, asynchronously. */
export const runCliAsync = (args: readonly string[], cwd: string, signal?: AbortSignal): Promise<CliResult> =>
  runAsync(process.execPath, [CLI, ...args], cwd, signal);

/** The library's merged entries for `file`, in qemu-img's JSON shape. */
export function libraryMap(file: string, options: OpenChainOptions = {}): ModelEntry[] {
  const chain = ImageChain.open(file, options);
  try {
    return [...chain.entriesSync()].map((e) => ({
      start: e.startBytes, length: e.lengthBytes, depth: e.depth, present: e.present, zero: e.zero, data: e.data,
      ...(e.offsetBytes === undefined ? {} : { offset: e.offsetBytes }),
    }));
  } finally {
    chain.close();
  }
}

/** A fresh directory under the system temp directory (callers remove it). */
export function tempDir(name: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `imgaudit-${name}-`));
}
