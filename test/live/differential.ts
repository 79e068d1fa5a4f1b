/**
 * The differential oracle of the live tier: run `qemu-img map ARGS` and
 * `node dist/cli.js map ARGS` in the same directory and require identical
 * stdout (bytes), exit code and stderr (with `qemu-img: ` → `imgaudit: `).
 * Failures carry a shell script that rebuilds the images and re-runs the maps.
 */
import { execFile, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pLimit from 'p-limit';
import { TEST_ENV, toShell, type Cmd, type RunResult } from '../support/qemu.js';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** The built CLI; LIVE_CLI=path overrides it (e.g. a shim, to test the harness itself). */
export const CLI = process.env.LIVE_CLI ? resolve(process.env.LIVE_CLI) : join(REPO, 'dist/cli.js');
export const cliMissing = (): string | undefined =>
  existsSync(CLI) ? undefined : `${CLI} does not exist: run \`npm run build\` first`;

/** At most this many imgaudit processes at once (2 cores in CI); qemu-img map runs take milliseconds. */
const limit = pLimit(Math.max(1, Number(process.env.LIVE_JOBS ?? 2)));
const PROCESS_TIMEOUT_MS = 60_000;

/** Spawns a process; stdout/stderr decoded as latin1 so every byte survives the comparison. */
function spawnAsync(bin: string, args: readonly string[], cwd: string): Promise<RunResult> {
  return new Promise((done) => {
    execFile(
      bin,
      args,
      { cwd, env: TEST_ENV, encoding: 'latin1', maxBuffer: 512 << 20, timeout: PROCESS_TIMEOUT_MS },
      (err, stdout, stderr) => {
        let code = 0;
        if (err) {
          const e = err as NodeJS.ErrnoException & { code?: unknown; signal?: string | null };
          if (typeof e.code === 'number') code = e.code;
          else {
            code = -1;
            stderr += `\n[test harness: ${e.signal ? `killed by ${e.signal}` : String(e.code ?? e.message)}]`;
          }
        }
        done({ stdout, stderr, code });
      },
    );
  });
}

export interface Comparison {
  args: string[];
  qemu: RunResult;
  ours: RunResult;
  problems: string[];
}

/** qemu-img's stderr as imgaudit must print it. */
export const expectedStderr = (qemuStderr: string): string => qemuStderr.replace(/^qemu-img: /gm, 'imgaudit: ');

/** Runs both implementations with the same ARGS in `cwd` and compares them. */
export async function compareMap(cwd: string, args: readonly string[]): Promise<Comparison> {
  const [qemu, ours] = await Promise.all([
    spawnAsync('qemu-img', ['map', ...args], cwd),
    limit(() => spawnAsync(process.execPath, [CLI, 'map', ...args], cwd)),
  ]);
  const problems: string[] = [];
  if (/^Node\.js v\d/m.test(ours.stderr)) problems.push('imgaudit crashed (uncaught exception, see stderr)');
  if (qemu.code !== ours.code) problems.push(`exit code: qemu-img ${qemu.code}, imgaudit ${ours.code}`);
  if (qemu.stdout !== ours.stdout) problems.push('stdout differs');
  if (expectedStderr(qemu.stderr) !== ours.stderr) problems.push('stderr differs');
  return { args: [...args], qemu, ours, problems };
}

const MAX_DIFF_LINES = Number(process.env.LIVE_DIFF_LINES ?? 300);

/** `diff -u` of two texts (labels qemu-img / imgaudit), capped at MAX_DIFF_LINES lines. */
export function unifiedDiff(expected: string, actual: string, what: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'imgaudit-diff-'));
  try {
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    writeFileSync(a, expected, 'latin1');
    writeFileSync(b, actual, 'latin1');
    const r = spawnSync('diff', ['-u', '--label', `qemu-img ${what}`, '--label', `imgaudit ${what}`, a, b], {
      encoding: 'latin1',
    });
    const lines = r.stdout.split('\n');
    if (lines.length <= MAX_DIFF_LINES) return r.stdout;
    return `${lines.slice(0, MAX_DIFF_LINES).join('\n')}\n… (${lines.length - MAX_DIFF_LINES} more diff lines)\n`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Human-readable account of one failed comparison. */
export function describeComparison(c: Comparison): string {
  const out = [`=== imgaudit map ${c.args.map((a) => toShell([a])).join(' ')}: ${c.problems.join('; ')}`];
  if (c.qemu.stdout !== c.ours.stdout) out.push(unifiedDiff(c.qemu.stdout, c.ours.stdout, 'stdout'));
  const want = expectedStderr(c.qemu.stderr);
  if (want !== c.ours.stderr) out.push(unifiedDiff(want, c.ours.stderr, 'stderr (qemu-img: -> imgaudit:)'));
  return out.join('\n');
}

const COMPARE_FN = `cmp_map() {  # usage: cmp_map ARGS...  (prints the differences, if any)
  set +e
  qemu-img map "$@" >q.out 2>q.err; qc=$?
  $IMGAUDIT map "$@" >i.out 2>i.err; ic=$?
  sed 's/^qemu-img: /imgaudit: /' q.err >q.err.expected
  echo "### map $*  (exit: qemu-img $qc, imgaudit $ic)"
  diff -u --label qemu-img --label imgaudit q.out i.out
  diff -u --label qemu-img.stderr --label imgaudit.stderr q.err.expected i.err
  rm -f q.out q.err q.err.expected i.out i.err
  set -e
}`;

/** One step of a repro script: a shell line, an argv command, or a map comparison. */
export type ReproStep = string | Cmd | { map: readonly string[] };

const isCmd = (s: Cmd | { map: readonly string[] }): s is Cmd => Array.isArray(s);

/** A standalone script: rebuild the images in a fresh directory, comparing the maps on the way. */
export function reproScript(title: string, steps: readonly ReproStep[]): string {
  const render = (s: ReproStep): string => {
    if (typeof s === 'string') return s;
    if (isCmd(s)) return toShell(s);
    return `cmp_map ${s.map.map((a) => toShell([a])).join(' ')}`;
  };
  return [
    '#!/bin/sh',
    `# ${title}`,
    'set -e',
    `IMGAUDIT=\${IMGAUDIT:-"node ${CLI}"}`,
    COMPARE_FN,
    'cd "$(mktemp -d)"; echo "workdir: $PWD"',
    ...steps.map(render),
    '',
  ].join('\n');
}

/** Per-file scratch space: one directory per case, removed on success unless LIVE_KEEP=1. */
export class Workspace {
  readonly root = mkdtempSync(join(tmpdir(), 'imgaudit-live-'));
  private readonly keep = process.env.LIVE_KEEP === '1';

  caseDir(name: string): string {
    const dir = join(this.root, name);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  passed(dir: string): void {
    if (!this.keep) rmSync(dir, { recursive: true, force: true });
  }

  finish(): void {
    if (readdirSync(this.root).length === 0) rmSync(this.root, { recursive: true, force: true });
  }
}

/**
 * Throws one error describing every failed comparison of a case (and keeps its
 * directory with repro.sh); also appends it to $LIVE_REPORT when set.
 */
export function assertAllMatch(
  header: string,
  dir: string,
  script: string,
  comparisons: readonly Comparison[],
  ws: Workspace,
): void {
  const failed = comparisons.filter((c) => c.problems.length > 0);
  if (failed.length === 0) {
    ws.passed(dir);
    return;
  }
  writeFileSync(join(dir, 'repro.sh'), script, { mode: 0o755 });
  const message = [
    `${header}: ${failed.length} of ${comparisons.length} maps differ from qemu-img`,
    `kept: ${dir} (repro.sh rebuilds the images in a fresh dir and diffs every map)`,
    '----- repro.sh -----',
    script,
    '----- differences -----',
    ...failed.map(describeComparison),
  ].join('\n');
  if (process.env.LIVE_REPORT) appendFileSync(process.env.LIVE_REPORT, `${message}\n\n`);
  throw new Error(message);
}
