/**
 * Valid seed images for the fuzzers, written into a temp directory: built
 * with qemu-img/qemu-io when installed (many features), otherwise with the
 * test builder. Backing and data files are shared by every mutated case:
 * `fz-base.raw` (backing, relative name) and `fz-data.raw` (absolute name).
 */
import fs from 'node:fs';
import path from 'node:path';
import { buildQcow2 } from '../support/qcow2-builder.js';
import { create, hasQemu, io, runOk } from '../support/qemu.js';

export interface Base { name: string; image: Buffer }

const M = 1 << 20;

function qemuBases(dir: string): string[] {
  const made: string[] = [];
  const make = (name: string, size: number | string, options: Record<string, string | number | boolean>,
    ops: string[], backing?: { file: string; fmt: string }) => {
    runOk(create(name, 'qcow2', size, options, backing), dir);
    if (ops.length > 0) runOk(io(name, 'qcow2', ops), dir);
    made.push(name);
  };
  const common = ['write -P 0x11 0 64k', 'write -P 0x22 1M 128k', 'write -z 2M 64k', 'write -c -P 0x33 4M 64k', 'discard 1M 64k'];
  make('v3.qcow2', '8M', {}, common);
  make('v2.qcow2', '8M', { compat: '0.10' }, ['write -P 0x11 0 64k', 'write -P 0x22 3M 64k', 'write -c 5M 64k']);
  make('c512.qcow2', '1M', { cluster_size: 512 }, ['write 0 4k', 'write -z 8k 1k', 'write 300k 3k']);
  make('c2m.qcow2', '64M', { cluster_size: 2 * M }, ['write 0 4k', 'write -z 4M 2M', 'write 40M 1M']);
  make('extl2.qcow2', '8M', { extended_l2: true }, ['write 8k 4k', 'write -z 64k 8k', 'write 1M 64k', 'write -z 2M 64k']);
  make('rc1.qcow2', '4M', { refcount_bits: 1 }, ['write 0 64k', 'write 2M 64k']);
  make('rc64.qcow2', '4M', { refcount_bits: 64 }, ['write 0 64k', 'write 2M 64k']);
  make('prealloc.qcow2', '16M', { preallocation: 'metadata' }, ['write 1M 64k']);
  fs.writeFileSync(path.join(dir, 'fz-base.raw'), Buffer.alloc(6 * M, 0x44));
  make('overlay.qcow2', '8M', {}, ['write 64k 64k', 'write -z 128k 64k'], { file: 'fz-base.raw', fmt: 'raw' });
  make('datafile.qcow2', '4M', { data_file: path.join(dir, 'fz-data.raw') }, ['write 0 64k', 'write -z 1M 64k']);
  return made;
}

function builderBases(dir: string): string[] {
  fs.writeFileSync(path.join(dir, 'fz-base.raw'), Buffer.alloc(6 * M, 0x44));
  const data = (guests: number[]) => guests.map((guest) => ({ guest, kind: 'data' as const }));
  buildQcow2(path.join(dir, 'v3.qcow2'), { virtualSize: 8 * M, clusters: [...data([0, 1 * M]), { guest: 2 * M, kind: 'zero' }] });
  buildQcow2(path.join(dir, 'v2.qcow2'), { virtualSize: 8 * M, version: 2, clusters: data([0, 3 * M]) });
  buildQcow2(path.join(dir, 'c512.qcow2'), { virtualSize: M, clusterBits: 9, clusters: data([0, 512, 8192]) });
  buildQcow2(path.join(dir, 'rc1.qcow2'), { virtualSize: 4 * M, refcountOrder: 0, clusters: data([0, 2 * M]) });
  buildQcow2(path.join(dir, 'overlay.qcow2'), {
    virtualSize: 8 * M, backing: { name: 'fz-base.raw', format: 'raw' }, clusters: data([65536]),
  });
  return ['v3.qcow2', 'v2.qcow2', 'c512.qcow2', 'rc1.qcow2', 'overlay.qcow2'];
}

/** Creates the seed images in `dir` and returns their bytes. */
export function makeBases(dir: string): Base[] {
  const names = hasQemu ? qemuBases(dir) : builderBases(dir);
  return names.map((name) => ({ name, image: fs.readFileSync(path.join(dir, name)) }));
}
