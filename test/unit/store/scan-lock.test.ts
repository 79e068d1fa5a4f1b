/**
 * The scan lock: a kernel lock on the resolved database path. One holder
 * across processes and across symbolic-link aliases, the holder's pid in the
 * message, free again the moment the holder dies (kill -9), and no double
 * holder when a releasing process unlinks the file another is about to lock
 * (fault injection: the second process pauses between opening and locking).
 * Other processes run test/unit/store/lock-holder.mjs on the built dist/.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ScanLock, resolvedDatabasePath } from '../../../src/store/scan-lock.js';
import { LockError } from '../../../src/store/store-error.js';

const HOLDER = fileURLToPath(new URL('./lock-holder.mjs', import.meta.url));
const DIST = fileURLToPath(new URL('../../../dist/store/scan-lock.js', import.meta.url));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-lock-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

interface Holder {
  child: ChildProcess;
  /** Resolves with the next line the child prints. */
  next(): Promise<string>;
  /** Sends one line (resumes a pause, or releases a held lock). */
  resume(): void;
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

function holder(mode: 'hold' | 'pause', db: string): Holder {
  const child = spawn(process.execPath, [HOLDER, mode, db], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(child);
  const lines: string[] = [];
  const waiting: ((line: string) => void)[] = [];
  let partial = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    partial += chunk.toString();
    for (let at = partial.indexOf('\n'); at >= 0; at = partial.indexOf('\n')) {
      const line = partial.slice(0, at);
      partial = partial.slice(at + 1);
      const waiter = waiting.shift();
      if (waiter === undefined) lines.push(line); else waiter(line);
    }
  });
  return {
    child,
    next: () => (lines.length > 0 ? Promise.resolve(lines.shift()!) : new Promise((resolve) => waiting.push(resolve))),
    resume: () => child.stdin!.write('\n'),
  };
}

const exitOf = (child: ChildProcess): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.on('exit', () => resolve()));

describe('ScanLock', () => {
  beforeAll(() => {
    if (!fs.existsSync(DIST)) throw new Error(`${DIST} does not exist: run \`npm run build\` first`);
  });

  it('is exclusive across processes and names the holder; free again once released', async () => {
    const db = path.join(dir, 'a.db');
    const other = holder('hold', db);
    expect(await other.next()).toBe('held');
    expect(() => ScanLock.acquire(db)).toThrow(LockError);
    expect(() => ScanLock.acquire(db)).toThrow(`another scan (pid ${other.child.pid}) holds the database lock '${db}.lock'`);
    other.resume();
    expect(await other.next()).toBe('released');
    await exitOf(other.child);
    const lock = ScanLock.acquire(db);
    lock.release();
    lock.release();
    expect(fs.existsSync(`${db}.lock`)).toBe(false);
  });

  it('is free the moment its holder is killed (kill -9): nothing stale to wait for', async () => {
    const db = path.join(dir, 'b.db');
    const other = holder('hold', db);
    expect(await other.next()).toBe('held');
    other.child.kill('SIGKILL');
    await exitOf(other.child);
    expect(fs.existsSync(`${db}.lock`)).toBe(true); // left behind, and harmless
    ScanLock.acquire(db).release();
  });

  it('an empty lock file left by a crash or a full disk blocks nothing', () => {
    const db = path.join(dir, 'c.db');
    fs.writeFileSync(`${db}.lock`, '');
    ScanLock.acquire(db).release();
  });

  it('a symbolic link to the database, or to its directory, names the same lock', async () => {
    const real = path.join(dir, 'real');
    fs.mkdirSync(real);
    const db = path.join(real, 'd.db');
    fs.writeFileSync(db, '');
    fs.symlinkSync(db, path.join(dir, 'alias.db'));
    fs.symlinkSync(real, path.join(dir, 'real-link'));
    const other = holder('hold', db);
    expect(await other.next()).toBe('held');
    for (const alias of [path.join(dir, 'alias.db'), path.join(dir, 'real-link', 'd.db'), path.join(dir, 'real-link', '..', 'real', 'd.db')]) {
      expect(resolvedDatabasePath(alias)).toBe(db);
      expect(() => ScanLock.acquire(alias), alias).toThrow(`another scan (pid ${other.child.pid})`);
    }
    // A database that does not exist yet resolves through its directory.
    expect(resolvedDatabasePath(path.join(dir, 'real-link', 'new.db'))).toBe(path.join(real, 'new.db'));
  });

  it('no double holder when the file is unlinked between another process\'s open and its lock', async () => {
    const db = path.join(dir, 'e.db');
    const late = holder('pause', db);
    expect(await late.next()).toBe('paused'); // it has the lock file open, not yet locked
    ScanLock.acquire(db).release(); // this process takes and releases: the file is unlinked
    expect(fs.existsSync(`${db}.lock`)).toBe(false);
    const current = holder('hold', db); // a new lock file, held
    expect(await current.next()).toBe('held');
    late.resume(); // locks the unlinked file, sees it is not the lock file any more, tries again
    expect(await late.next()).toBe(`error: another scan (pid ${current.child.pid}) holds the database lock '${db}.lock'`);
  });

  it('a planted symbolic link or FIFO at the lock name is refused, not followed or blocked on', () => {
    const db = path.join(dir, 'f.db');
    fs.symlinkSync(path.join(dir, 'elsewhere'), `${db}.lock`);
    expect(() => ScanLock.acquire(db)).toThrow(`cannot create lock file '${db}.lock': ELOOP`);
    expect(fs.existsSync(path.join(dir, 'elsewhere'))).toBe(false);
    const db2 = path.join(dir, 'g.db');
    const fifo = spawn('mkfifo', [`${db2}.lock`]);
    return exitOf(fifo).then(() => {
      expect(() => ScanLock.acquire(db2)).toThrow(`lock file '${db2}.lock' is not a regular file`);
    });
  });

  it('fails clearly where the lock cannot be created', () => {
    const file = path.join(dir, 'plain-file');
    fs.writeFileSync(file, '');
    expect(() => ScanLock.acquire(path.join(file, 'x.db'))).toThrow(`cannot create lock file '${file}/x.db.lock': ENOTDIR`);
    expect(() => ScanLock.acquire(path.join(dir, 'no/such/dir/x.db'))).toThrow(/cannot create lock file .*: ENOENT/);
  });
});
