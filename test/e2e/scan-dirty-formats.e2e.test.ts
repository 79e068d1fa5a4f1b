/**
 * Images not closed cleanly in the formats besides qcow2 (built the way it
 * happens: qemu-io aborts after a write): a qed image keeps its need-check
 * feature bit, a parallels image its in-use mark. QEMU still maps both
 * read-only (it checks a qed image, and refuses a parallels image, only on a
 * read-write open), so the scan maps them exactly and records the same
 * warning as for qcow2's dirty bit, E_IMAGE_DIRTY, also when the image is
 * a backing file.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { create, hasQemu, io, op, runOk } from '../support/qemu.js';
import { expectedFigures, readDb, requireBuild, runCli, storedFigures } from './scan-support.js';

const MiB = 1 << 20;

/** Writes and aborts: the image is left as a crash leaves it. */
function abortAfterWrite(root: string, file: string, fmt: string): void {
  spawnSync('qemu-io', ['-f', fmt, '-c', 'write -P 9 0 64k', '-c', 'abort', file], { cwd: root, stdio: 'ignore' });
}

describe.skipIf(!hasQemu)('imgaudit scan: qed need-check and parallels in-use are dirty images (e2e)', () => {
  let dir: string;
  let root: string;
  let dbFile: string;
  const abs = (relative: string): string => path.join(root, relative);

  beforeAll(() => {
    requireBuild();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-scan-dirty-'));
    root = path.join(dir, 'storage');
    fs.mkdirSync(root);
    for (const [file, fmt] of [['dirty.qed', 'qed'], ['clean.qed', 'qed'], ['dirty.hdd', 'parallels'], ['clean.hdd', 'parallels']] as const) {
      runOk(create(file, fmt, 16 * MiB), root);
      runOk(io(file, fmt, [op.write(MiB, 64 * 1024, 0x11)]), root);
      if (file.startsWith('dirty')) abortAfterWrite(root, file, fmt);
    }
    // The header bits these tests rely on (what qemu-io's abort leaves behind).
    const bytes = (file: string) => fs.readFileSync(abs(file));
    expect(bytes('dirty.qed').readBigUInt64LE(16) & 2n).toBe(2n);
    expect(bytes('clean.qed').readBigUInt64LE(16) & 2n).toBe(0n);
    expect(bytes('dirty.hdd').readUInt32LE(44)).toBe(0x746f6e59);
    expect(bytes('clean.hdd').readUInt32LE(44)).toBe(0);
    runOk(create('over.qcow2', 'qcow2', 16 * MiB, {}, { file: 'dirty.qed', fmt: 'qed' }), root);
    dbFile = path.join(dir, 'audit.db');
  }, 120_000);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('maps them exactly and records E_IMAGE_DIRTY (a warning) for each layer not closed cleanly', () => {
    const result = runCli(['scan', '--db', dbFile, '--include', '**/*.qed', '--include', '**/*.hdd', '--include', '**/*.qcow2', root], dir);
    expect(result.status, result.stderr).toBe(0);
    readDb(dbFile, (db) => {
      for (const image of ['dirty.qed', 'clean.qed', 'dirty.hdd', 'clean.hdd', 'over.qcow2']) {
        expect(storedFigures(db, 1, abs(image)), image).toEqual(expectedFigures(abs(image)));
      }
      const findings = db.prepare(`SELECT path, code, severity, depth, message FROM run_findings_all
        WHERE run_id = 1 ORDER BY path`).all() as { path: string; code: string; severity: string; depth: number; message: string }[];
      expect(findings.map(({ path: p, code, severity, depth }) => [path.relative(root, p), code, severity, depth])).toEqual([
        ['dirty.hdd', 'E_IMAGE_DIRTY', 'warning', 0],
        ['dirty.qed', 'E_IMAGE_DIRTY', 'warning', 0],
        ['over.qcow2', 'E_IMAGE_DIRTY', 'warning', 1],
      ]);
      expect(findings[0]!.message).toBe(`${abs('dirty.hdd')}: the in-use mark is set (not closed cleanly; QEMU refuses to open it read-write until qemu-img check -r all repairs it)`);
      expect(findings[1]!.message).toBe(`${abs('dirty.qed')}: the need-check bit is set (not closed cleanly; QEMU checks it when it opens it read-write: qemu-img check -r all)`);
      expect(findings[2]!.message).toContain('dirty.qed: the need-check bit is set');
      const flags = db.prepare('SELECT path, flags FROM files ORDER BY path').all() as { path: string; flags: string }[];
      expect(Object.fromEntries(flags.map((f) => [path.relative(root, f.path), JSON.parse(f.flags) as string[]]))).toMatchObject({
        'dirty.qed': ['dirty'], 'clean.qed': [], 'dirty.hdd': ['dirty'], 'clean.hdd': [],
      });
    });
    const check = runCli(['check', '--db', dbFile, '--format', 'json', '--fail-on', 'warning'], dir);
    expect(check.status).toBe(1);
    const codes = (JSON.parse(check.stdout) as { findings: { code: string; path: string }[] }).findings
      .map((f) => `${f.code} ${path.relative(root, f.path)}`);
    expect(codes).toEqual(expect.arrayContaining(['E_IMAGE_DIRTY dirty.hdd', 'E_IMAGE_DIRTY dirty.qed', 'E_IMAGE_DIRTY over.qcow2']));
  });
});
