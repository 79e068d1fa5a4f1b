/**
 * `imgaudit prune` end to end: retention removes old runs, then the chain
 * states, maps and files no remaining run references; what later runs
 * reference is kept (their reports are unchanged and an unchanged re-scan
 * still reuses every chain); --dry-run changes nothing; a scan's lock stops it.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScanLock } from '../../src/store/scan-lock.js';
import { hasQemu, io, op, runOk } from '../support/qemu.js';
import { buildReportTree, scanTree, type ReportTree } from './report-tree.js';
import { readDb, requireBuild, runCli } from './scan-support.js';

describe.skipIf(!hasQemu)('imgaudit prune (e2e)', () => {
  let dir: string;
  let tree: ReportTree;
  let dbFile: string;
  const cli = (...args: string[]) => runCli([...args, '--db', dbFile], dir);
  const hash = () => createHash('sha256').update(fs.readFileSync(dbFile)).digest('hex');
  // Growth is a least-squares fit over the kept complete runs: pruning runs changes it by design, nothing else.
  const withoutGrowth = (_key: string, value: unknown) => (['growthPerDay', 'fillsAt', 'daysToFull'].includes(_key) ? undefined : value);
  const reportOf = (run: number) => JSON.stringify(JSON.parse(cli('report', '--run', String(run), '--format', 'json').stdout), withoutGrowth);
  const count = (sql: string) => readDb(dbFile, (db) => db.prepare(sql).pluck().get() as number);

  beforeAll(() => {
    requireBuild();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-prune-e2e-'));
    tree = buildReportTree(dir);
    dbFile = path.join(dir, 'audit.db');
    for (let i = 0; i < 4; i++) {
      if (i > 0) runOk(io('vms/vm1.qcow2', 'qcow2', [op.write((8 + i) << 20, 1 << 20, 0x70 + i)]), tree.roots[0]);
      scanTree(tree, dbFile);
    }
  }, 180_000);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('--dry-run says what would go and changes nothing', () => {
    const before = hash();
    const result = cli('prune', '--keep', '2', '--dry-run');
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^would remove 2 runs \(#1, #2\), 2 chain states, 2 maps, 2 files\nkept 2 runs\n$/);
    expect(hash()).toBe(before);
  });

  it('keeps the newest N complete runs and everything they reference', () => {
    const kept = [reportOf(3), reportOf(4)];
    const onlyOld = count(`SELECT count(*) FROM maps WHERE id IN (SELECT c.map_id FROM chains c JOIN run_images ri ON ri.chain_id = c.id
      WHERE ri.run_id <= 2) AND id NOT IN (SELECT c.map_id FROM chains c JOIN run_images ri ON ri.chain_id = c.id
      WHERE ri.run_id > 2 AND c.map_id IS NOT NULL)`);
    expect(onlyOld).toBe(2);
    const maps = count('SELECT count(*) FROM maps');
    const result = cli('prune', '--keep', '2', '--format', 'json');
    expect(result.status, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ removedRunIds: [1, 2], keptRunIds: [3, 4], isDryRun: false,
      counts: { runs: 2, maps: onlyOld } });
    expect(count('SELECT count(*) FROM maps')).toBe(maps - onlyOld);
    expect([reportOf(3), reportOf(4)]).toEqual(kept);
    expect(readDb(dbFile, (db) => [db.pragma('foreign_key_check'), db.pragma('integrity_check', { simple: true })]))
      .toEqual([[], 'ok']);
    expect(count('SELECT count(*) FROM chains WHERE id NOT IN (SELECT chain_id FROM run_images)')).toBe(0);
    expect(count('SELECT count(*) FROM map_entries WHERE map_id NOT IN (SELECT id FROM maps)')).toBe(0);
    expect(cli('report', '--run', '1').stderr).toMatch(/there is no run #1/);
  });

  it('an unchanged scan after pruning still reuses every chain', () => {
    scanTree(tree, dbFile);
    expect(count('SELECT read_count FROM runs ORDER BY id DESC LIMIT 1')).toBe(0);
    expect(count('SELECT status = \'complete\' FROM runs ORDER BY id DESC LIMIT 1')).toBe(1);
  });

  it('--older-than keeps recent runs and always the newest complete one; --vacuum shrinks the file', () => {
    expect(cli('prune', '--older-than', '1h').stdout).toMatch(/^removed no run, /);
    const result = cli('prune', '--keep', '1', '--vacuum');
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^removed 2 runs \(#3, #4\), .*\nkept 1 run\ndatabase: .* -> .*\n$/);
    expect(cli('runs', '--format', 'json').stdout).toMatch(/"id": 5/);
  });

  it('exit status 2: bad values, no policy, a scan holding the lock, no database', () => {
    expect(cli('prune', '--keep', '0').stderr).toMatch(/--keep: expected an integer from 1 to 1000000, or null, got 0/);
    expect(cli('prune', '--older-than', 'soon').stderr).toMatch(/--older-than: expected a duration such as "36h"/);
    const none = path.join(dir, 'none.json');
    fs.writeFileSync(none, JSON.stringify({ retention: { keepRuns: null, olderThan: null } }));
    expect(cli('prune', '--config', none).stderr).toMatch(/nothing to prune by: give --keep or --older-than/);
    const lock = ScanLock.acquire(dbFile); // this test process holds it, as a scan would
    try {
      const locked = cli('prune', '--keep', '1');
      expect(locked.status).toBe(2);
      expect(locked.stderr).toContain(`another scan (pid ${process.pid}) holds the database lock`);
    } finally {
      lock.release();
    }
    const missing = runCli(['prune', '--keep', '1', '--db', path.join(dir, 'none.db')], dir);
    expect([missing.status, fs.existsSync(path.join(dir, 'none.db'))]).toEqual([2, false]);
  });
});
