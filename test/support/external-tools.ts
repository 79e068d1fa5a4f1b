/**
 * The tools that check imgaudit's outputs the way their consumers read
 * them: promtool (Debian `prometheus`), Python's csv module, Java for the
 * Nu HTML Checker (npm `vnu-jar`, Debian `default-jre-headless`), headless
 * Chromium. A test that needs one calls `requireTool`: outside CI a missing
 * tool skips the test with a message naming the package to install; in CI
 * (env CI=true) it fails, so CI never passes without the real checks.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

/** True in CI (`.ci/run` runs with CI=true). */
export const IS_CI = process.env.CI === 'true';

/** True when `command --version`-like `args` runs. */
function runs(command: string, args: readonly string[]): boolean {
  const r = spawnSync(command, args, { stdio: 'ignore', timeout: 60_000 });
  return r.error === undefined && r.status === 0;
}

/** The external tools, and how to get each. */
export const TOOLS = {
  promtool: { found: () => runs('promtool', ['--version']), install: 'apt-get install prometheus' },
  python3: { found: () => runs('python3', ['--version']), install: 'apt-get install python3' },
  java: { found: () => runs('java', ['-version']), install: 'apt-get install default-jre-headless' },
  chromium: {
    found: () => ['/usr/bin/chromium', '/usr/bin/chromium-browser'].some((bin) => fs.existsSync(bin)),
    install: 'apt-get install chromium',
  },
} as const;

export type ToolName = keyof typeof TOOLS;

const seen = new Map<ToolName, boolean>();

/** Whether `name` is installed (asked once per process). */
export function hasTool(name: ToolName): boolean {
  if (!seen.has(name)) seen.set(name, TOOLS[name].found());
  return seen.get(name)!;
}

/**
 * Call first in a test that needs `name`: skips it outside CI when the tool
 * is absent (with a message saying what to install), fails it in CI.
 */
export function requireTool(context: { skip: (note?: string) => never }, name: ToolName): void {
  if (hasTool(name)) return;
  const message = `${name} is not installed (${TOOLS[name].install})`;
  if (IS_CI) throw new Error(`${message}: CI=true requires it`);
  context.skip(`${message}: skipped outside CI`);
}
