/**
 * The Node versions the project is tested on besides the one running the
 * suite (the devDependency `node`, the active LTS): each is the npm
 * registry's `node` package installed once into a cache directory, outside
 * the checkout. Under CI (CI=true) a version that cannot be installed fails
 * the tier; elsewhere the tier is skipped and says so.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Major versions tested besides the suite's own: the oldest supported, and the newest. */
export const OTHER_NODE_MAJORS = [22, 26] as const;

export const IN_CI = process.env.CI === 'true';

function cacheRoot(): string {
  return path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'imgaudit', 'test-nodes');
}

/**
 * The `node` binary of `major`, installing it when missing. Returns the path,
 * or the reason it is unavailable.
 */
export function testNode(major: number): { bin: string } | { missing: string } {
  const prefix = path.join(cacheRoot(), `node-${major}`);
  const bin = path.join(prefix, 'node_modules', 'node', 'bin', 'node');
  if (!fs.existsSync(bin)) {
    fs.mkdirSync(prefix, { recursive: true });
    const npm = spawnSync('npm', ['install', '--prefix', prefix, '--no-save', '--no-audit', '--no-fund', `node@${major}`], {
      encoding: 'utf8', timeout: 300_000,
    });
    if (npm.status !== 0 || !fs.existsSync(bin)) {
      return { missing: `node@${major} could not be installed from the npm registry: ${(npm.stderr || String(npm.error)).trim().split('\n').pop()}` };
    }
  }
  const version = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  if (version.status !== 0 || !version.stdout.startsWith(`v${major}.`)) {
    return { missing: `${bin} is not Node ${major} (${version.stdout.trim() || version.stderr.trim()})` };
  }
  return { bin };
}
