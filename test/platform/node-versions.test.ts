/**
 * The smoke tier on the other supported Node versions (22, the oldest, and
 * 26, the newest; the whole suite runs on the devDependency's Node 24): the
 * TypeScript build, better-sqlite3's lifecycle, the addon, and the built CLI
 * end to end — a scan, a report in every format, and `map` against recorded
 * qemu-img output — each run by that Node in a child vitest.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, hasDist } from '../support/imgaudit.js';
import { exec } from './exec.js';
import { IN_CI, OTHER_NODE_MAJORS, testNode } from './test-nodes.js';

const SMOKE_FILES = [
  'test/platform/sqlite-lifecycle.test.ts',
  'test/unit/io/native-addon.test.ts',
  'test/e2e/scan.e2e.test.ts',
  'test/e2e/report.e2e.test.ts',
  'test/golden/map.golden.test.ts',
];

for (const major of OTHER_NODE_MAJORS) {
  describe(`Node ${major}`, () => {
    const found = testNode(major);
    if ('missing' in found) {
      if (IN_CI) {
        it(`is installed`, () => { throw new Error(found.missing); });
      } else {
        it.skip(`smoke tier skipped: ${found.missing}`, () => {});
      }
      return;
    }
    it('builds the TypeScript sources', async () => {
      const r = await exec(found.bin, [path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json', '--noEmit'], {
        cwd: REPO_ROOT, timeoutMs: 300_000,
      });
      expect(r.status, r.stdout + r.stderr).toBe(0);
    }, 300_000);
    it.runIf(hasDist)('passes the smoke tier: sqlite lifecycle, addon, scan, report in every format, map', async () => {
      const r = await exec(found.bin, [path.join(REPO_ROOT, 'node_modules', 'vitest', 'vitest.mjs'), 'run',
        '--config', 'test/vitest.config.ts', ...SMOKE_FILES], {
        cwd: REPO_ROOT, timeoutMs: 880_000, env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' },
      });
      const tail = (r.stdout + r.stderr).split('\n').slice(-40).join('\n');
      expect(r.status, tail).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`Test Files +${SMOKE_FILES.length} passed`));
      expect(r.stdout).not.toMatch(/skipped/);
    }, 900_000);
  });
}
