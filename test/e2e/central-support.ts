/**
 * Helpers of the central-store tests: the built CLI run without blocking
 * the test worker (a blocked worker misses vitest's own messages during
 * the many CLI runs these tests make).
 */
import { spawn } from 'node:child_process';
import { TEST_ENV } from '../support/qemu.js';
import { CLI, type CliResult } from './scan-support.js';

/** Runs `imgaudit ARGS` to completion, asynchronously. */
export function cli(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...TEST_ENV, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (status, signal) => resolve({
      status, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'),
    }));
  });
}
