/**
 * `imgaudit scan` over vmdk descriptors with extent files (built with real
 * qemu-img): the descriptor is the image, its extents (twoGbMaxExtentSparse
 * `-s00N.vmdk` with VMDK magic, twoGbMaxExtentFlat `-f00N.vmdk`,
 * monolithicFlat `-flat.vmdk`, a raw-named flat extent of a hand-written
 * descriptor) are not audited on their own: one image row per descriptor, no
 * finding for an extent, whatever order the crawl finds them in and with
 * several images audited at once. Their disk usage counts in the
 * descriptor's chain, each file once. An unchanged re-scan learns the
 * extents from the stored chains without opening any file.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { create, hasQemu, io, op, runOk } from '../support/qemu.js';
import { OPEN_COUNTER, expectedFigures, readDb, requireBuild, runCli, storedFigures } from './scan-support.js';

const MiB = 1 << 20;
const GiB = 1 << 30;

/** Descriptors (the images) and the extent files each one names. */
const IMAGES: Record<string, readonly string[]> = {
  'split/ts.vmdk': ['split/ts-s001.vmdk', 'split/ts-s002.vmdk', 'split/ts-s003.vmdk'],
  'split/tf.vmdk': ['split/tf-f001.vmdk', 'split/tf-f002.vmdk', 'split/tf-f003.vmdk'],
  // Extents in another directory than their descriptor, found first by the crawl.
  'z/mf.vmdk': ['a/mf-flat.vmdk'],
  'hand.vmdk': ['disk-extent.img'],
  'ms.vmdk': [],
  'over-ts.qcow2': [],
};

describe.skipIf(!hasQemu)('imgaudit scan: vmdk extent files belong to their descriptor (e2e)', () => {
  let dir: string;
  let root: string;
  let dbFile: string;
  const abs = (relative: string): string => path.join(root, relative);
  const scan = (...args: string[]) => runCli(['scan', '--db', dbFile, '--concurrency', '4', root, ...args], dir);
  const blocks = (relative: string): number => fs.statSync(abs(relative)).blocks * 512;
  const extents = Object.values(IMAGES).flat();

  beforeAll(() => {
    requireBuild();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-scan-vmdk-'));
    root = path.join(dir, 'storage');
    for (const sub of ['split', 'a', 'z']) fs.mkdirSync(path.join(root, sub), { recursive: true });
    const around2G = [op.write(2 * GiB - 64 * 1024, 128 * 1024, 0x11), op.write(4 * GiB + 512, 1024, 0x12), op.zero(3 * GiB, 64 * 1024)];
    runOk(create('split/ts.vmdk', 'vmdk', 5 * GiB, { subformat: 'twoGbMaxExtentSparse' }), root);
    runOk(io('split/ts.vmdk', 'vmdk', around2G), root);
    runOk(create('split/tf.vmdk', 'vmdk', 5 * GiB, { subformat: 'twoGbMaxExtentFlat' }), root);
    runOk(io('split/tf.vmdk', 'vmdk', around2G), root);
    runOk(create('a/mf.vmdk', 'vmdk', 8 * MiB, { subformat: 'monolithicFlat' }), root);
    runOk(io('a/mf.vmdk', 'vmdk', [op.write(MiB, MiB, 0x21)]), root);
    // The descriptor moves to z/ and names its extent as ../a/mf-flat.vmdk.
    const text = fs.readFileSync(abs('a/mf.vmdk'), 'latin1').replace('"mf-flat.vmdk"', '"../a/mf-flat.vmdk"');
    fs.writeFileSync(abs('z/mf.vmdk'), text, 'latin1');
    fs.rmSync(abs('a/mf.vmdk'));
    runOk(create('disk-extent.img', 'raw', 4 * MiB), root);
    runOk(io('disk-extent.img', 'raw', [op.write(0, 64 * 1024, 0x31)]), root);
    fs.writeFileSync(abs('hand.vmdk'), '# Disk DescriptorFile\nversion=1\nCID=12345678\nparentCID=ffffffff\n'
      + 'createType="monolithicFlat"\n# Extent description\nRW 8192 FLAT "disk-extent.img" 0\n');
    runOk(create('ms.vmdk', 'vmdk', 16 * MiB), root);
    runOk(io('ms.vmdk', 'vmdk', [op.write(0, MiB, 0x41)]), root);
    runOk(create('over-ts.qcow2', 'qcow2', 5 * GiB, {}, { file: 'split/ts.vmdk', fmt: 'vmdk' }), root);
    runOk(io('over-ts.qcow2', 'qcow2', [op.write(GiB, 64 * 1024, 0x51)]), root);
    // A flat extent whose descriptor is gone is still a file that is not an image.
    fs.writeFileSync(abs('orphan-flat.vmdk'), Buffer.alloc(4096, 7));
    dbFile = path.join(dir, 'audit.db');
    for (const file of extents) expect(fs.existsSync(abs(file)), file).toBe(true);
  }, 120_000);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('audits each descriptor once, never its extents, with exact figures', () => {
    const result = scan();
    expect(result.status, result.stderr).toBe(0); // orphan-flat.vmdk's E_NOT_AN_IMAGE is a warning
    for (const file of extents) expect(result.stderr).not.toContain(abs(file));
    readDb(dbFile, (db) => {
      const paths = db.prepare('SELECT path FROM run_image_states WHERE run_id = 1 ORDER BY path').pluck().all();
      expect(paths).toEqual(Object.keys(IMAGES).map(abs).sort());
      const findings = db.prepare('SELECT path, code FROM run_findings_all WHERE run_id = 1 ORDER BY path, code').all();
      expect(findings).toEqual([{ path: abs('orphan-flat.vmdk'), code: 'E_NOT_AN_IMAGE' }]);
      for (const image of Object.keys(IMAGES)) {
        expect(storedFigures(db, 1, abs(image)), image).toEqual(expectedFigures(abs(image)));
      }
      // The extents are the descriptors' extra files: their disk usage counts in the run, each file once.
      for (const [image, files] of Object.entries(IMAGES)) {
        const extra = db.prepare(`SELECT f.path FROM run_images ri JOIN images i ON i.id = ri.image_id
          JOIN chain_extra_files ce ON ce.chain_id = ri.chain_id AND ce.depth = 0 JOIN files f ON f.id = ce.file_id
          WHERE ri.run_id = 1 AND i.path = ? ORDER BY f.path`).pluck().all(abs(image));
        expect(extra, image).toEqual(files.map(abs).sort());
      }
      const run = db.prepare('SELECT image_count, error_count, disk_usage_bytes FROM runs WHERE id = 1').get();
      const everyFile = [...Object.keys(IMAGES), ...extents];
      expect(run).toEqual({ image_count: 6, error_count: 0, disk_usage_bytes: everyFile.reduce((sum, f) => sum + blocks(f), 0) });
    });
  });

  it('unchanged re-scan: the same rows, extents known from the stored chains, no file opened', () => {
    fs.rmSync(abs('orphan-flat.vmdk')); // not an image: it would be probed again
    const opened = path.join(dir, 'opened.txt');
    const result = runCli(['scan', '--db', dbFile, '--concurrency', '4', root], dir,
      { IMGAUDIT_COUNT_UNDER: root, IMGAUDIT_COUNT_OUT: opened }, ['--import', OPEN_COUNTER]);
    expect(result.status, result.stderr).toBe(0);
    expect(fs.readFileSync(opened, 'utf8')).toBe('');
    readDb(dbFile, (db) => {
      expect(db.prepare('SELECT image_count, new_count, changed_count, read_count FROM runs WHERE id = 2').get())
        .toEqual({ image_count: 6, new_count: 0, changed_count: 0, read_count: 0 });
      expect(db.prepare('SELECT count(*) FROM run_findings_all WHERE run_id = 2').pluck().get()).toBe(0);
    });
  });

  it('a changed extent re-reads its descriptor, which still hides its extents; --full too', () => {
    runOk(io('split/ts.vmdk', 'vmdk', [op.write(64 * 1024, 64 * 1024, 0x61)]), root); // writes into ts-s001.vmdk
    expect(scan().status).toBe(0);
    expect(scan('--full').status).toBe(0);
    readDb(dbFile, (db) => {
      for (const runId of [3, 4]) {
        const paths = db.prepare('SELECT path FROM run_image_states WHERE run_id = ? ORDER BY path').pluck().all(runId);
        expect(paths, `run ${runId}`).toEqual(Object.keys(IMAGES).map(abs).sort());
        expect(storedFigures(db, runId, abs('split/ts.vmdk'))).toEqual(expectedFigures(abs('split/ts.vmdk')));
      }
      expect(db.prepare('SELECT read_count FROM runs WHERE id = 3').pluck().get()).toBe(2); // ts.vmdk and the qcow2 over it
    });
  });
});
