/**
 * The storage tree the report, diff, query and prune tests audit, built with
 * real qemu-img / qemu-io, and the known changes between its two scans:
 * grow (vm1 written), add (vm3), remove (vm2, the only user of old.qcow2)
 * and re-base (rb.qcow2 onto spare.qcow2). Two roots: storage/, storage2/.
 */
import fs from 'node:fs';
import path from 'node:path';
import { create, io, op, runOk, settle } from '../support/qemu.js';
import { runCli } from './scan-support.js';

const MiB = 1 << 20;

export interface ReportTree {
  dir: string;
  roots: [string, string];
  /** Absolute paths of the images the first scan maps. */
  mapped: string[];
  /** Absolute paths of the images whose chain cannot be mapped. */
  broken: string[];
}

function qcow2(root: string, file: string, sizeBytes: number, ops: string[], backing?: string, options = {}): void {
  fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
  const fmt = backing?.endsWith('.raw') ? 'raw' : 'qcow2';
  runOk(create(file, 'qcow2', sizeBytes, options, backing === undefined ? undefined : { file: backing, fmt }), root);
  if (ops.length > 0) runOk(io(file, 'qcow2', ops), root);
}

/** Builds the tree under `dir` (an empty directory). */
export function buildReportTree(dir: string): ReportTree {
  const a = path.join(dir, 'storage');
  const b = path.join(dir, 'storage2');
  fs.mkdirSync(path.join(a, 'bases'), { recursive: true });
  fs.mkdirSync(path.join(a, 'vms/deep'), { recursive: true });
  fs.mkdirSync(b, { recursive: true });
  qcow2(a, 'bases/base.qcow2', 64 * MiB, [op.write(0, MiB, 0x11), op.zero(16 * MiB, MiB), op.write(20 * MiB, 256 * 1024, 0x12)]);
  qcow2(a, 'bases/old.qcow2', 32 * MiB, [op.write(0, 512 * 1024, 0x13)]);
  qcow2(a, 'bases/spare.qcow2', 64 * MiB, [op.write(8 * MiB, MiB, 0x14)]);
  runOk(create('bases/base.raw', 'raw', 32 * MiB), a);
  runOk(io('bases/base.raw', 'raw', [op.write(0, 2 * MiB, 0x15)]), a);
  qcow2(a, 'vms/vm1.qcow2', 64 * MiB, [op.write(512 * 1024, MiB, 0x21), op.zero(8 * MiB, 64 * 1024)], '../bases/base.qcow2');
  qcow2(a, 'vms/vm2.qcow2', 32 * MiB, [op.write(MiB, 128 * 1024, 0x22)], '../bases/old.qcow2');
  qcow2(a, 'vms/rb.qcow2', 64 * MiB, [op.write(2 * MiB, 64 * 1024, 0x23)], '../bases/base.qcow2');
  qcow2(a, 'vms/on-raw.qcow2', 32 * MiB, [op.write(MiB, 64 * 1024, 0x24)], '../bases/base.raw');
  qcow2(a, 'vms/deep/l1.qcow2', 64 * MiB, [op.write(2 * MiB, MiB, 0x31)], '../../bases/base.qcow2');
  qcow2(a, 'vms/deep/l2.qcow2', 64 * MiB, [op.write(3 * MiB, 64 * 1024, 0x32)], 'l1.qcow2');
  qcow2(a, 'vms/deep/l3.qcow2', 64 * MiB, [op.write(4 * MiB, 64 * 1024, 0x33), op.zero(0, 64 * 1024)], 'l2.qcow2');
  qcow2(a, 'vms/prealloc.qcow2', 32 * MiB, [op.write(0, 64 * 1024, 0x41)], undefined, { preallocation: 'metadata' });
  runOk(['qemu-img', 'create', '-q', '-f', 'qcow2', '-u', '-b', 'missing.qcow2', '-F', 'qcow2', 'vms/broken.qcow2', String(16 * MiB)], a);
  runOk(create('disk.img', 'raw', 16 * MiB), b);
  runOk(io('disk.img', 'raw', [op.write(MiB, MiB, 0x51)]), b);
  qcow2(b, 'data.qcow2', 16 * MiB, [op.write(0, MiB, 0x52)]);
  const mapped = ['bases/base.qcow2', 'bases/old.qcow2', 'bases/spare.qcow2', 'bases/base.raw', 'vms/vm1.qcow2', 'vms/vm2.qcow2',
    'vms/rb.qcow2', 'vms/on-raw.qcow2', 'vms/deep/l1.qcow2', 'vms/deep/l2.qcow2', 'vms/deep/l3.qcow2', 'vms/prealloc.qcow2']
    .map((file) => path.join(a, file)).concat([path.join(b, 'disk.img'), path.join(b, 'data.qcow2')]);
  return { dir, roots: [a, b], mapped, broken: [path.join(a, 'vms/broken.qcow2')] };
}

/** The known changes between the two scans. */
export function changeReportTree(tree: ReportTree): void {
  const a = tree.roots[0];
  runOk(io('vms/vm1.qcow2', 'qcow2', [op.write(4 * MiB, 2 * MiB, 0x61)]), a);
  qcow2(a, 'vms/vm3.qcow2', 64 * MiB, [op.write(0, 64 * 1024, 0x62)], '../bases/base.qcow2');
  fs.rmSync(path.join(a, 'vms/vm2.qcow2'));
  runOk(['qemu-img', 'rebase', '-u', '-b', '../bases/spare.qcow2', '-F', 'qcow2', 'vms/rb.qcow2'], a);
  const vm2 = tree.mapped.indexOf(path.join(a, 'vms/vm2.qcow2'));
  tree.mapped.splice(vm2, 1);
  tree.mapped.push(path.join(a, 'vms/vm3.qcow2'));
}

/** `imgaudit scan` of the tree's roots into `dbFile` (after settling writeback), which must succeed. */
export function scanTree(tree: ReportTree, dbFile: string): void {
  for (const root of tree.roots) settle(root);
  const result = runCli(['scan', '--db', dbFile, '--fail-on', 'never', ...tree.roots], tree.dir);
  if (result.status !== 0) throw new Error(`scan failed (${result.status}): ${result.stderr}`);
}
