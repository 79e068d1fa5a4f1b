/**
 * Synchronous helpers around the qemu-img / qemu-io binaries (QEMU 7.2) for
 * tests that build images live. Every command is an argv array (`Cmd`) so a
 * test can both run it and print it as a shell script for reproduction.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, fstatSync, fsyncSync, openSync, readdirSync, readSync } from 'node:fs';
import { join } from 'node:path';

export type Cmd = readonly string[];

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Fixed locale so strerror texts are the C ones in every process. */
export const TEST_ENV: NodeJS.ProcessEnv = { ...process.env, LC_ALL: 'C', LANG: 'C' };

function probe(bin: string): boolean {
  const r = spawnSync(bin, ['--version'], { stdio: 'ignore' });
  return r.status === 0;
}

/** True when both qemu-img and qemu-io are on PATH. */
export const hasQemu: boolean = probe('qemu-img') && probe('qemu-io');

/** Runs a command synchronously in `cwd` and captures its output (never throws on exit != 0). */
export function runSync(cmd: Cmd, cwd: string): RunResult {
  const [bin, ...args] = cmd;
  if (bin === undefined) throw new Error('runSync: empty command');
  const r = spawnSync(bin, args, { cwd, env: TEST_ENV, encoding: 'utf8', maxBuffer: 256 << 20 });
  if (r.error) throw r.error;
  return { stdout: r.stdout, stderr: r.stderr, code: r.status ?? 128 };
}

/** Runs a command and throws (with the command and its stderr) unless it exits 0. */
export function runOk(cmd: Cmd, cwd: string): string {
  const r = runSync(cmd, cwd);
  if (r.code !== 0) {
    throw new Error(`command failed (exit ${r.code}): ${toShell(cmd)}\n${r.stderr}${r.stdout}`);
  }
  return r.stdout;
}

// ---------------------------------------------------------------- builders

export type CreateOptions = Record<string, string | number | boolean | undefined>;

/** `qemu-img create -q -f FMT [-o k=v,..] [-b BACKING -F BFMT] FILE [SIZE]`. */
export function create(
  file: string,
  fmt: string,
  size: number | string | undefined,
  options: CreateOptions = {},
  backing?: { file: string; fmt: string },
): Cmd {
  const cmd = ['qemu-img', 'create', '-q', '-f', fmt];
  const opts = Object.entries(options)
    .filter(([, v]) => v !== undefined && v !== false)
    .map(([k, v]) => (v === true ? `${k}=on` : `${k}=${String(v)}`));
  if (opts.length > 0) cmd.push('-o', opts.join(','));
  if (backing) cmd.push('-b', backing.file, '-F', backing.fmt);
  cmd.push(file);
  if (size !== undefined) cmd.push(String(size));
  return cmd;
}

/** `qemu-io -f FMT -c OP ... FILE` (one process for all ops). */
export function io(file: string, fmt: string, ops: readonly string[]): Cmd {
  return ['qemu-io', '-f', fmt, ...ops.flatMap((op) => ['-c', op]), file];
}

/** qemu-io command strings. */
export const op = {
  write: (off: number, len: number, pattern = 0xcd): string => `write -P ${pattern} ${off} ${len}`,
  /** `write -z` (keeps allocation) or `write -z -u` (may unmap). */
  zero: (off: number, len: number, unmap = false): string =>
    `write -z${unmap ? ' -u' : ''} ${off} ${len}`,
  discard: (off: number, len: number): string => `discard ${off} ${len}`,
  /** Compressed write: whole clusters only, into clusters not yet allocated in this layer. */
  compressed: (off: number, len: number, pattern = 0xc0): string =>
    `write -c -P ${pattern} ${off} ${len}`,
};

/** `truncate -s SIZE FILE` (a raw file without qemu's written "first block"). */
export function truncate(file: string, size: number): Cmd {
  return ['truncate', '-s', String(size), file];
}

export interface MapOptions {
  output?: 'json' | 'human';
  format?: string;
  start?: number | string;
  length?: number | string;
  forceShare?: boolean;
}

/** Arguments after `map` (shared verbatim by qemu-img and imgaudit). */
export function mapArgs(file: string, o: MapOptions = {}): string[] {
  const args: string[] = [];
  if (o.format !== undefined) args.push('-f', o.format);
  if (o.output !== undefined) args.push(`--output=${o.output}`);
  if (o.start !== undefined) args.push('-s', String(o.start));
  if (o.length !== undefined) args.push('-l', String(o.length));
  if (o.forceShare) args.push('-U');
  args.push(file);
  return args;
}

/** Runs `qemu-img map ARGS` in `cwd`. */
export function qemuMap(args: readonly string[], cwd: string): RunResult {
  return runSync(['qemu-img', 'map', ...args], cwd);
}

/** Virtual size in bytes as qemu-img reports it. */
export function virtualSize(file: string, cwd: string, fmt?: string): number {
  const args = ['qemu-img', 'info', '-U', '--output=json', ...(fmt ? ['-f', fmt] : []), file];
  const info = JSON.parse(runOk(args, cwd)) as { 'virtual-size': number };
  return info['virtual-size'];
}

/**
 * Makes the kernel state of every regular file under `dir` the same for every
 * map run that follows: fsync (writeback can otherwise change extents and
 * st_blocks — the input of qcow2's metadata-preallocation heuristic — between
 * two runs), then read its first and last 4 KiB. On ext4 an *unwritten* extent
 * answers SEEK_DATA as data once its pages are cached, and probing a format
 * reads block 0; without the read, one run's probe changes what the next sees.
 * (Random chains also rewrite their files without unwritten extents, see
 * `sparsify`, because metadata reads' readahead can cache such pages too.)
 */
export function settle(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) settle(path);
    else if (entry.isFile()) settleFile(path);
  }
}

function settleFile(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
    const size = fstatSync(fd).size;
    const buf = Buffer.alloc(4096);
    readSync(fd, buf, 0, 4096, 0);
    if (size > 4096) readSync(fd, buf, 0, 4096, size - 4096);
  } finally {
    closeSync(fd);
  }
}

/** The shell equivalent of `settle('.')`, for repro scripts. */
export const SETTLE_SHELL = [
  'for f in $(find . -type f); do  # settle: same kernel state for every map run',
  '  sync "$f"; head -c 4096 "$f" >/dev/null; tail -c 4096 "$f" >/dev/null',
  'done',
].join('\n');

/**
 * Rewrites a file with holes wherever it reads as zeroes (no unwritten extents
 * left), so SEEK_DATA answers no longer depend on the page cache.
 */
export function sparsify(file: string): Cmd[] {
  return [
    ['cp', '--sparse=always', file, `${file}.tmp`],
    ['mv', `${file}.tmp`, file],
  ];
}

// ---------------------------------------------------------------- shell text

/** Quotes one word for POSIX sh (only when needed). */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** One command as a shell line; qemu-io's chatter is discarded as the tests do. */
export function toShell(cmd: Cmd): string {
  const line = cmd.map(shellQuote).join(' ');
  return cmd[0] === 'qemu-io' ? `${line} >/dev/null` : line;
}

/**
 * Splits a simple shell line into words: whitespace separates, '…' and "…"
 * quote (no escapes, no expansions).
 */
export function splitShell(line: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (c === "'" || c === '"') {
      const end = line.indexOf(c, i + 1);
      if (end < 0) throw new Error(`unterminated quote in: ${line}`);
      cur += line.slice(i + 1, end);
      inWord = true;
      i = end;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (inWord) words.push(cur);
  return words;
}

/** A qemu-io process holding an image open (with its locks) until `stop`. */
export interface QemuIoHolder {
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts `qemu-io ARGS FILE` in `cwd`; resolves once it has opened the image (its prompt shows). */
export async function holdWithQemuIo(args: readonly string[], file: string, cwd: string): Promise<QemuIoHolder> {
  const child = spawn('qemu-io', [...args, file], { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let seen = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes('qemu-io> ')) resolve();
    });
    child.stdin!.write('\n');
    child.once('exit', (code) => reject(new Error(`qemu-io exited early (${code})`)));
  });
  return {
    child,
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.stdin!.end('quit\n');
    }),
  };
}
