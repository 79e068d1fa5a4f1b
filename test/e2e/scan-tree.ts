/**
 * Storage trees for the scan tests, built with real qemu-img / qemu-io:
 * shared bases, overlays, a depth-3 chain, raw images and a raw base,
 * compressed clusters, metadata preallocation, subclusters, an external
 * data file, broken chains (missing, FIFO and directory backing, backing
 * outside the roots) and files that are not images.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { create, io, op, runOk } from '../support/qemu.js';

const MiB = 1 << 20;

/** A generated tree: `root` is scanned; `outside` holds a base outside it. */
export interface ScanTree {
  root: string;
  outside: string;
  /** Relative paths (under root) of the images a scan must map. */
  mapped: string[];
  /** Relative path → error code(s) a scan must record. */
  failing: Record<string, readonly string[]>;
  /** Relative paths of files a scan must not audit. */
  ignored: string[];
}

function qcow2(root: string, file: string, sizeBytes: number, options = {}, backing?: string, ops: string[] = []): void {
  fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
  const fmt = backing?.endsWith('.raw') ? 'raw' : 'qcow2';
  runOk(create(file, 'qcow2', sizeBytes, options, backing === undefined ? undefined : { file: backing, fmt }), root);
  if (ops.length > 0) runOk(io(file, 'qcow2', ops), root);
}

function unsafeOverlay(root: string, file: string, backing: string): void {
  runOk(['qemu-img', 'create', '-q', '-f', 'qcow2', '-u', '-b', backing, '-F', 'qcow2', file, String(16 * MiB)], root);
}

/** Builds the standard tree under `dir` (which must exist and be empty). */
export function buildScanTree(dir: string): ScanTree {
  const root = path.join(dir, 'storage');
  const outside = path.join(dir, 'elsewhere');
  fs.mkdirSync(path.join(root, 'bases'), { recursive: true });
  fs.mkdirSync(path.join(root, 'vms/deep'), { recursive: true });
  fs.mkdirSync(outside, { recursive: true });

  qcow2(root, 'bases/base.qcow2', 64 * MiB, {}, undefined,
    [op.write(0, MiB, 0x11), op.write(8 * MiB, MiB, 0x12), op.zero(16 * MiB, MiB), op.write(20 * MiB, 256 * 1024, 0x13)]);
  runOk(create('bases/base.raw', 'raw', 32 * MiB), root);
  runOk(io('bases/base.raw', 'raw', [op.write(0, 2 * MiB, 0x21), op.write(10 * MiB, 64 * 1024, 0x22)]), root);

  qcow2(root, 'vms/vm1.qcow2', 64 * MiB, {}, '../bases/base.qcow2',
    [op.write(512 * 1024, MiB, 0x31), op.zero(8 * MiB, 64 * 1024)]);
  qcow2(root, 'vms/vm2.qcow2', 64 * MiB, {}, path.join(root, 'bases/base.qcow2'),
    [op.compressed(32 * MiB, 128 * 1024), op.discard(0, 64 * 1024)]);
  qcow2(root, 'vms/deep/l1.qcow2', 64 * MiB, {}, '../../bases/base.qcow2', [op.write(2 * MiB, MiB, 0x41)]);
  qcow2(root, 'vms/deep/l2.qcow2', 64 * MiB, {}, 'l1.qcow2', [op.write(3 * MiB, 64 * 1024, 0x42)]);
  qcow2(root, 'vms/deep/l3.qcow2', 64 * MiB, {}, 'l2.qcow2', [op.write(4 * MiB, 64 * 1024, 0x43), op.zero(0, 64 * 1024)]);
  qcow2(root, 'vms/on-raw.qcow2', 64 * MiB, {}, '../bases/base.raw', [op.write(MiB, 64 * 1024, 0x51)]);
  qcow2(root, 'vms/prealloc.qcow2', 32 * MiB, { preallocation: 'metadata' }, undefined, [op.write(0, 64 * 1024, 0x61)]);
  qcow2(root, 'vms/falloc.qcow2', 16 * MiB, { preallocation: 'falloc' });
  qcow2(root, 'vms/subclusters.qcow2', 16 * MiB, { extended_l2: true, cluster_size: '128k' }, undefined,
    [op.write(4096, 4096, 0x71)]);
  // QEMU 7.2 opens a relative data_file name relative to its working directory: keep it absolute.
  qcow2(root, 'vms/ext.qcow2', 16 * MiB, { data_file: path.join(root, 'vms/ext.data'), data_file_raw: true }, undefined, [op.write(0, MiB, 0x81)]);
  runOk(create('vms/disk.img', 'raw', 16 * MiB), root);
  runOk(io('vms/disk.img', 'raw', [op.write(MiB, MiB, 0x91)]), root);

  qcow2(root, '../elsewhere/base-out.qcow2', 16 * MiB, {}, undefined, [op.write(0, MiB, 0xa1)]);
  qcow2(root, 'vms/outside.qcow2', 16 * MiB, {}, '../../elsewhere/base-out.qcow2');
  unsafeOverlay(root, 'vms/broken.qcow2', 'missing.qcow2');
  spawnSync('mkfifo', [path.join(root, 'vms/pipe')]);
  unsafeOverlay(root, 'vms/fifo-backed.qcow2', 'pipe');
  fs.mkdirSync(path.join(root, 'vms/a-directory'));
  unsafeOverlay(root, 'vms/dir-backed.qcow2', 'a-directory');

  fs.writeFileSync(path.join(root, 'vms/notes.txt'), 'not an image\n');
  fs.writeFileSync(path.join(root, 'vms/fake.qcow2'), 'not a qcow2 either\n');
  fs.mkdirSync(path.join(root, 'vms/dir.img'));
  fs.symlinkSync('vm1.qcow2', path.join(root, 'vms/link.qcow2'));

  return {
    root,
    outside,
    mapped: ['bases/base.qcow2', 'bases/base.raw', 'vms/vm1.qcow2', 'vms/vm2.qcow2', 'vms/deep/l1.qcow2',
      'vms/deep/l2.qcow2', 'vms/deep/l3.qcow2', 'vms/on-raw.qcow2', 'vms/prealloc.qcow2', 'vms/falloc.qcow2',
      'vms/subclusters.qcow2', 'vms/ext.qcow2', 'vms/disk.img'],
    failing: {
      'vms/broken.qcow2': ['E_BACKING_MISSING'],
      'vms/outside.qcow2': ['E_BACKING_OUTSIDE_ROOTS'],
      'vms/fifo-backed.qcow2': ['E_NOT_REGULAR'],
      'vms/dir-backed.qcow2': ['E_NOT_REGULAR', 'E_OPEN'],
    },
    ignored: ['vms/notes.txt', 'vms/fake.qcow2', 'vms/dir.img', 'vms/link.qcow2', 'vms/ext.data', 'vms/pipe'],
  };
}

/**
 * A tree that takes seconds to scan (for signal and kill tests): copies of
 * a qcow2 with 512-byte clusters written every other cluster, so each copy's
 * map has 2 × `clusters` entries.
 */
export function buildSlowTree(dir: string, copies = 8, clusters = 60_000): string {
  const root = path.join(dir, 'slow');
  fs.mkdirSync(root, { recursive: true });
  runOk(create('big-0.qcow2', 'qcow2', clusters * 1024 + MiB, { cluster_size: 512 }), root);
  const script = Array.from({ length: clusters }, (_, i) => `write -P 7 ${i * 1024} 512\n`).join('');
  const r = spawnSync('qemu-io', ['-t', 'unsafe', 'big-0.qcow2'], { cwd: root, input: script, stdio: ['pipe', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`qemu-io failed: ${String(r.stderr)}`);
  for (let i = 1; i < copies; i++) fs.copyFileSync(path.join(root, 'big-0.qcow2'), path.join(root, `big-${i}.qcow2`));
  return root;
}
