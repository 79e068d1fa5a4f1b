/**
 * `imgaudit scan` end to end on a generated storage tree: per-image,
 * per-depth bytes in the database equal SPEC §3 applied to real
 * `qemu-img map` output; errors are recorded and the run goes on; a second
 * scan after changes sees exactly those changes; an unchanged re-scan opens
 * no file of the tree; `--full` re-reads; history stays small.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasQemu, io, op, runOk } from '../support/qemu.js';
import { buildScanTree, type ScanTree } from './scan-tree.js';
import {
  OPEN_COUNTER, expectedFigures, readDb, requireBuild, runCli, storedFigures,
} from './scan-support.js';

describe.skipIf(!hasQemu)('imgaudit scan (e2e)', () => {
  let dir: string;
  let tree: ScanTree;
  let dbFile: string;
  const abs = (relative: string): string => path.join(tree.root, relative);
  const scan = (...args: string[]) => runCli(['scan', '--db', dbFile, tree.root, ...args], dir);
  const lastRun = () => readDb(dbFile, (db) => db.prepare('SELECT * FROM runs ORDER BY id DESC LIMIT 1').get() as Record<string, number | string>);

  beforeAll(() => {
    requireBuild();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-scan-e2e-'));
    tree = buildScanTree(dir);
    dbFile = path.join(dir, 'audit.db');
  }, 120_000);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('first scan: figures equal SPEC §3 over qemu-img map; errors recorded; exit 1', () => {
    const result = scan();
    expect(result.stdout).toBe('');
    expect(result.status, result.stderr).toBe(1);
    for (const [file, codes] of Object.entries(tree.failing)) {
      expect(result.stderr).toMatch(new RegExp(`imgaudit: error: .*${path.basename(file)}.*\\[(${codes.join('|')})\\]`));
    }
    expect(result.stderr).toMatch(/^imgaudit: scan #1 complete: 17 images \(17 new, 0 changed, 0 unchanged\), 4 errors, /m);
    readDb(dbFile, (db) => {
      for (const file of tree.mapped) {
        const stored = storedFigures(db, 1, abs(file));
        expect(stored, file).toEqual(expectedFigures(abs(file)));
        const sum = stored.byDepth.reduce((s, d) => s + d.dataBytes + d.zeroBytes + d.preallocatedBytes, stored.unallocatedBytes);
        expect(sum, file).toBe(stored.virtualSizeBytes);
      }
      const errors = db.prepare('SELECT path, error_code FROM run_image_states WHERE run_id = 1 AND error_code IS NOT NULL').all() as
        { path: string; error_code: string }[];
      expect(Object.fromEntries(errors.map((e) => [path.relative(tree.root, e.path), e.error_code])))
        .toEqual(Object.fromEntries(Object.entries(tree.failing).map(([file, codes]) =>
          [file, expect.toSatisfy((code: string) => codes.includes(code))])));
      const paths = (db.prepare('SELECT path FROM run_image_states WHERE run_id = 1').pluck().all() as string[]);
      for (const file of tree.ignored) expect(paths).not.toContain(abs(file));
      expect(db.prepare("SELECT code FROM run_findings_all WHERE run_id = 1 AND path = ?").pluck().all(abs('vms/fake.qcow2')))
        .toEqual(['E_NOT_AN_IMAGE']);
      const run = db.prepare('SELECT * FROM runs WHERE id = 1').get() as Record<string, number | string>;
      expect(run).toMatchObject({ status: 'complete', image_count: 17, error_count: 4, new_count: 17, read_count: 13 });
      const deep = db.prepare('SELECT depth, layer_path FROM run_image_depths WHERE run_id = 1 AND path = ? ORDER BY depth').all(abs('vms/deep/l3.qcow2'));
      expect(deep).toHaveLength(4);
      const base = db.prepare('SELECT chain_count FROM run_base_usage WHERE run_id = 1 AND base_path LIKE ?').pluck().get('%bases/base.qcow2');
      expect(base).toBe(5); // vm1, vm2 and the three chains of deep/
      const extra = db.prepare(`SELECT f.path FROM chain_extra_files ce JOIN files f ON f.id = ce.file_id`).pluck().all();
      expect(extra).toEqual([abs('vms/ext.data')]);
    });
  });

  it('unchanged re-scan opens no file of the tree and adds no map, chain or file', () => {
    const counts = () => readDb(dbFile, (db) => ['maps', 'map_entries', 'chains', 'files', 'chain_layers']
      .map((table) => db.prepare(`SELECT count(*) FROM ${table}`).pluck().get()));
    const before = counts();
    const opened = path.join(dir, 'opened.txt');
    // Leave out the files that are not images: every file is a candidate, and those that are not
    // images are probed again (they could have become images): one sector each.
    fs.rmSync(abs('vms/fake.qcow2'));
    const notImages = tree.ignored.map(abs);
    const result = runCli(['scan', '--db', dbFile, tree.root, '--fail-on', 'never'], dir,
      { IMGAUDIT_COUNT_UNDER: tree.root, IMGAUDIT_COUNT_OUT: opened }, ['--import', OPEN_COUNTER]);
    expect(result.status, result.stderr).toBe(0);
    // Under cron (stderr not a terminal) and exit 0: error lines only, no progress, no summary.
    const lines = result.stderr.split('\n').filter(Boolean);
    expect(lines).toHaveLength(4);
    for (const line of lines) expect(line).toMatch(/^imgaudit: error: .* \[E_[A-Z_]+\]$/);
    const failingTops = Object.keys(tree.failing).map(abs);
    const openedFiles = fs.readFileSync(opened, 'utf8').split('\n').filter(Boolean);
    // Chains that could not be mapped are retried every run; nothing else is opened.
    expect(openedFiles.filter((file) => !failingTops.includes(file) && !file.includes('missing') && !file.endsWith('pipe')
      && !file.endsWith('a-directory') && !notImages.includes(file))).toEqual([]);
    expect(lastRun()).toMatchObject({ status: 'complete', image_count: 17, new_count: 0, changed_count: 0, read_count: 0 });
    expect(counts()).toEqual(before);
  });

  it('second scan after changes: one changed, one new, one removed, figures still exact', () => {
    runOk(io('vms/vm1.qcow2', 'qcow2', [op.write(40 << 20, 1 << 20, 0x99)]), tree.root);
    runOk(['qemu-img', 'create', '-q', '-f', 'qcow2', '-b', 'vm1.qcow2', '-F', 'qcow2', 'vms/vm3.qcow2'], tree.root);
    runOk(io('vms/vm3.qcow2', 'qcow2', [op.write(0, 64 * 1024, 0x98)]), tree.root);
    fs.rmSync(abs('vms/vm2.qcow2'));
    const result = scan();
    expect(result.status, result.stderr).toBe(1);
    const run = lastRun();
    expect(run).toMatchObject({ status: 'complete', image_count: 17, new_count: 1, changed_count: 1, read_count: 2 });
    readDb(dbFile, (db) => {
      const runId = run.id as number;
      const changes = db.prepare("SELECT path, change FROM run_image_states WHERE run_id = ? AND change <> 'unchanged' ORDER BY path").all(runId);
      expect(changes).toEqual([{ path: abs('vms/vm1.qcow2'), change: 'changed' }, { path: abs('vms/vm3.qcow2'), change: 'new' }]);
      for (const file of ['vms/vm1.qcow2', 'vms/vm3.qcow2', 'vms/deep/l3.qcow2']) {
        expect(storedFigures(db, runId, abs(file)), file).toEqual(expectedFigures(abs(file)));
      }
      expect(db.prepare('SELECT count(*) FROM run_image_states WHERE run_id = ? AND path = ?').pluck().get(runId, abs('vms/vm2.qcow2'))).toBe(0);
      const growth = db.prepare('SELECT data_growth_bytes, is_changed FROM image_growth WHERE to_run_id = ? AND path = ?').get(runId, abs('vms/vm1.qcow2'));
      expect(growth).toEqual({ data_growth_bytes: 1 << 20, is_changed: 1 });
    });
  });

  it('--full re-reads every chain and finds nothing changed', () => {
    const result = scan('--full', '--quiet');
    expect(result.status).toBe(1);
    expect(result.stderr).toBe('');
    expect(lastRun()).toMatchObject({ is_full: 1, image_count: 17, new_count: 0, changed_count: 0, read_count: 13 });
  });

  it('follows backing files outside the roots when allowed, with exact figures', () => {
    const result = scan('--follow-backing-outside-roots', '--progress');
    expect(result.status, result.stderr).toBe(1);
    expect(result.stderr).not.toMatch(/E_BACKING_OUTSIDE_ROOTS/);
    expect(result.stderr).toMatch(/scan: \d+\/\d+\+? files, \d+ read, [\d.]+ (B|KiB|MiB|GiB) mapped, [\d.]+ files\/s/);
    expect(result.stderr).toMatch(/imgaudit: scan #\d+ complete: 17 images \(0 new, 1 changed, 16 unchanged\), 3 errors, \d+ read \([\d.]+ (MiB|GiB)\) in [\d.]+ m?s\n$/);
    const run = lastRun();
    expect(run).toMatchObject({ error_count: 3 });
    readDb(dbFile, (db) => {
      expect(storedFigures(db, run.id as number, abs('vms/outside.qcow2'))).toEqual(expectedFigures(abs('vms/outside.qcow2')));
    });
  });

  it('keeps history small: repeated unchanged scans add only run rows, run_images rows and totals', () => {
    const sizes = () => readDb(dbFile, (db) => Object.fromEntries(['maps', 'map_entries', 'chains', 'files', 'chain_layers', 'images']
      .map((table) => [table, db.prepare(`SELECT count(*) FROM ${table}`).pluck().get()])));
    scan('--quiet');
    const before = sizes();
    for (let i = 0; i < 5; i++) expect(scan('--quiet', '--fail-on', 'never').status).toBe(0);
    expect(sizes()).toEqual(before);
    readDb(dbFile, (db) => {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(db.pragma('foreign_key_check')).toEqual([]);
    });
  });
});
