/**
 * Faults around `imgaudit scan`: bad configuration and flags, unusable
 * database paths, unknown migrations, two scans at once, SIGINT/SIGTERM and
 * kill -9 in the middle of a scan, and images that change while mapped.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasQemu } from '../support/qemu.js';
import { buildSlowTree } from './scan-tree.js';
import { exited, pauseHook, readDb, requireBuild, runCli, startCli, waitFor } from './scan-support.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-scan-faults-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
let n = 0;
const freshDb = (): string => path.join(dir, `db-${n++}.db`);

describe('scan refuses to run (exit 2, nothing written)', () => {
  beforeAll(requireBuild);
  const images = path.join(dir, 'empty-root');
  fs.mkdirSync(images, { recursive: true });

  const cases: [string, () => string[], RegExp][] = [
    ['unknown config key', () => ['--config', write('typo.json', { roots: [images], concurency: 2 })],
      /typo.json: 'concurency': unknown key \(did you mean 'concurrency'\?\)/],
    ['bad config value', () => ['--config', write('bad.json', { roots: [images], retention: { keepRuns: -1 } })],
      /bad.json: 'retention.keepRuns': expected an integer from 1 to 1000000, or null, got -1/],
    ['malformed config file', () => ['--config', write('broken.json', '{"roots": [')], /broken.json' is not valid JSON/],
    ['missing config file', () => ['--config', path.join(dir, 'none.json'), images], /cannot read config file .*none.json': ENOENT/],
    ['bad flag value', () => ['--concurrency', '0', images], /--concurrency: expected an integer from 1 to 256, got 0/],
    ['bad --fail-on', () => ['--fail-on', 'fatal', images], /Invalid values:[\s\S]*fail-on/],
    ['unknown flag', () => ['--concurency', '2', images], /Unknown argument: concurency/],
    ['no roots', () => [], /no roots to scan/],
  ];
  function write(name: string, content: unknown): string {
    const file = path.join(dir, name);
    fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
    return file;
  }
  for (const [title, args, message] of cases) {
    it(title, () => {
      const db = freshDb();
      const result = runCli(['scan', '--db', db, ...args()], dir);
      expect(result.status, result.stderr).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(fs.existsSync(db)).toBe(false);
      expect(fs.existsSync(`${db}.lock`)).toBe(false);
    });
  }

  it('database under a file, in a missing directory, on a read-only file system', () => {
    const file = path.join(dir, 'a-file');
    fs.writeFileSync(file, '');
    for (const db of [path.join(file, 'x.db'), path.join(dir, 'no/such/dir/x.db'), '/proc/imgaudit-test.db']) {
      const result = runCli(['scan', '--db', db, images], dir);
      expect(result.status, db).toBe(2);
      expect(result.stderr).toMatch(/^imgaudit: cannot create lock file '.*x?\.db\.lock': E[A-Z]+/);
    }
  });

  it('database written by a newer imgaudit (unknown migration)', () => {
    const db = freshDb();
    expect(runCli(['scan', '--db', db, images], dir).status).toBe(0);
    const rw = new Database(db);
    rw.prepare("INSERT INTO _migrations VALUES ('9999_add_future.sql', 'x', 'now')").run();
    rw.close();
    const result = runCli(['scan', '--db', db, images], dir);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/the database has migration '9999_add_future.sql', which this imgaudit does not know/);
    expect(readDb(db, (d) => d.prepare('SELECT count(*) FROM runs').pluck().get())).toBe(1);
  });
});

describe.skipIf(!hasQemu)('scan under signals, kills and a concurrent scan', () => {
  let slow: string;
  beforeAll(() => {
    requireBuild();
    slow = buildSlowTree(dir);
  }, 120_000);

  const runCount = (db: string, sql: string): number => (fs.existsSync(db) ? readDb(db, (d) => {
    try {
      return d.prepare(sql).pluck().get() as number;
    } catch {
      return 0; // schema not there yet
    }
  }) : 0);

  // The map workers' pause hook holds one chain (big-7) in the middle of its map, so
  // that the signal surely arrives while the scan maps in parallel.
  const marker = (): string => path.join(dir, `paused-${n}`);

  it('a second scan fails fast naming the holder; SIGTERM interrupts the first (143)', async () => {
    const db = freshDb();
    const paused = marker();
    const first = startCli(['scan', '--db', db, '-j', '8', slow], dir, pauseHook('pause', 'big-7', paused));
    const firstDone = exited(first);
    await waitFor(() => runCount(db, "SELECT count(*) FROM runs WHERE status = 'running'") === 1, 'the first scan to start');
    const second = runCli(['scan', '--db', db, slow], dir);
    expect(second.status).toBe(2);
    expect(second.stderr).toContain(`another scan (pid ${first.pid}) holds the database lock '${db}.lock'`);
    await waitFor(() => runCount(db, 'SELECT count(*) FROM run_images') >= 1 && fs.existsSync(paused), 'an image committed, big-7 paused');
    first.kill('SIGTERM');
    const { status } = await firstDone;
    expect(status).toBe(143);
    expect(fs.existsSync(`${db}.lock`)).toBe(false);
    readDb(db, (d) => {
      const run = d.prepare('SELECT status, finished_at, image_count FROM runs').get() as { status: string; finished_at: string | null; image_count: number };
      expect(run.status).toBe('interrupted');
      expect(run.finished_at).not.toBeNull();
      expect(run.image_count).toBeGreaterThanOrEqual(1);
      expect(run.image_count).toBeLessThan(8);
      expect(d.prepare('SELECT count(*) FROM maps WHERE hash IS NULL').pluck().get()).toBe(0);
    });
  }, 60_000);

  it('SIGINT interrupts with 130', async () => {
    const db = freshDb();
    const paused = marker();
    const child = startCli(['scan', '--db', db, '-j', '8', slow], dir, pauseHook('pause', 'big-7', paused));
    const done = exited(child);
    await waitFor(() => runCount(db, 'SELECT count(*) FROM run_images') >= 1 && fs.existsSync(paused), 'an image committed, big-7 paused');
    child.kill('SIGINT');
    expect((await done).status).toBe(130);
    expect(readDb(db, (d) => d.prepare('SELECT status FROM runs').pluck().get())).toBe('interrupted');
  }, 60_000);

  it('kill -9 mid-map leaves a consistent database; the next scan marks the run interrupted and proceeds', async () => {
    const db = freshDb();
    const paused = marker();
    const child = startCli(['scan', '--db', db, '-j', '8', slow], dir, pauseHook('pause-block', 'big-7', paused));
    const done = exited(child);
    await waitFor(() => runCount(db, 'SELECT count(*) FROM run_images') >= 1 && fs.existsSync(paused)
      && runCount(db, 'SELECT count(*) FROM maps WHERE hash IS NULL') >= 1, 'a large map being written');
    child.kill('SIGKILL');
    expect((await done).signal).toBe('SIGKILL');
    readDb(db, (d) => {
      expect(d.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(d.prepare('SELECT status FROM runs').pluck().all()).toEqual(['running']);
    });
    const again = runCli(['scan', '--db', db, slow], dir);
    expect(again.status, again.stderr).toBe(0);
    readDb(db, (d) => {
      expect(d.prepare('SELECT id, status FROM runs ORDER BY id').all()).toEqual([
        { id: 1, status: 'interrupted' }, { id: 2, status: 'complete' }]);
      expect(d.prepare('SELECT image_count FROM runs WHERE id = 2').pluck().get()).toBe(8);
      expect(d.prepare('SELECT count(*) FROM maps WHERE hash IS NULL').pluck().get()).toBe(0);
      expect(d.prepare('SELECT count(*) FROM maps').pluck().get()).toBe(1);
      expect(d.pragma('foreign_key_check')).toEqual([]);
    });
  }, 60_000);
});
