/**
 * better-sqlite3 survives many open/prepare/close cycles, with statements and
 * databases left to the garbage collector, on the Node running the suite
 * (better-sqlite3 12 aborted here on Node 24 in its destructors).
 */
import path from 'node:path';
import { expect, it } from 'vitest';
import { REPO_ROOT } from '../support/imgaudit.js';
import { exec } from './exec.js';

// 10,000 cycles: better-sqlite3 12.11.1 aborts (exit 134) on Node 24 from about 5,000.
it(`better-sqlite3 open/prepare/close cycles end cleanly on Node ${process.versions.node}`, async () => {
  const r = await exec(process.execPath, ['--expose-gc', path.join(REPO_ROOT, 'test', 'platform', 'sqlite-lifecycle.mjs'), '10000'], {
    cwd: REPO_ROOT, timeoutMs: 280_000,
  });
  expect(r.signal, r.stderr).toBeNull();
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout).toBe('ok 10000\n');
}, 300_000);
