/**
 * Processes run as on a hypervisor without a toolchain: PATH is a directory
 * of links to a few named tools (a shell, coreutils, the chosen `node`), so
 * python3, make and the C compilers are not found. Also builds the small
 * estate the install smoke tests scan: a qcow2 overlay over a sparse raw
 * base, made without QEMU.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { buildQcow2 } from '../support/qcow2-builder.js';

const TOOLS = ['sh', 'bash', 'env', 'cat', 'ls', 'mkdir', 'rm', 'cp', 'mv', 'ln', 'dirname', 'readlink', 'uname', 'tar', 'gzip', 'chmod', 'sed', 'grep', 'git'];

/** A PATH holding only TOOLS and `node` (a link to `nodeBin`), never a compiler. */
export function toolchainFreePath(dir: string, nodeBin: string | null): string {
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin, { recursive: true });
  for (const tool of TOOLS) {
    const found = execFileSync('sh', ['-c', `command -v ${tool} || true`], { encoding: 'utf8' }).trim();
    if (found !== '') fs.symlinkSync(found, path.join(bin, tool));
  }
  if (nodeBin !== null) fs.symlinkSync(nodeBin, path.join(bin, 'node'));
  for (const absent of ['python3', 'python', 'make', 'cc', 'gcc', 'g++', 'c++', 'clang']) {
    if (fs.existsSync(path.join(bin, absent))) throw new Error(`sandbox PATH has ${absent}`);
  }
  return bin;
}

/** images/base.img (raw: 1 MiB of data at 1 GiB in a 2 GiB sparse file) and images/top.qcow2 over it. */
export function smallEstate(dir: string): { root: string; base: string; top: string } {
  const root = path.join(dir, 'images');
  fs.mkdirSync(root, { recursive: true });
  const base = path.join(root, 'base.img');
  const fd = fs.openSync(base, 'w');
  fs.ftruncateSync(fd, 2 ** 31);
  fs.writeSync(fd, Buffer.alloc(1 << 20, 0xab), 0, 1 << 20, 2 ** 30);
  fs.closeSync(fd);
  const top = path.join(root, 'top.qcow2');
  buildQcow2(top, {
    virtualSize: 2 ** 31,
    backing: { name: 'base.img', format: 'raw' },
    clusters: [{ guest: 0, kind: 'data', fill: 0x11 }, { guest: 2 ** 30 + (1 << 20), kind: 'data', fill: 0x22 }],
  });
  return { root, base, top };
}
