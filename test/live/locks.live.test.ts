/**
 * Live differential tier for image locks: qemu-io and qemu-nbd hold images
 * (and backing files) for writing or reading, and `imgaudit map` must
 * refuse or map exactly as `qemu-img map` does, with and without -U,
 * --force-share, force-share=on and file.locking=off. imgaudit only probes
 * QEMU's lock bytes: after every comparison the holder still runs and still
 * holds its locks (a second qemu-io writer is still refused).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type QemuIoHolder, hasQemu, holdWithQemuIo, runOk, runSync } from '../support/qemu.js';
import { cliMissing, compareMap, describeComparison } from './differential.js';
import { hasQemuNbd, startQemuNbd } from './nbd-servers.js';

const J = '--output=json';
let dir = '';

/** qemu-io holding `file` (read-only with -r) until stopped; resolves once it has opened it. */
const qemuIo = (args: readonly string[], file: string): Promise<QemuIoHolder> => holdWithQemuIo(args, file, dir);

/** Compares every argument list and returns the failures' descriptions. */
async function compareAll(argLists: readonly (readonly string[])[]): Promise<string[]> {
  const problem = cliMissing();
  if (problem !== undefined) throw new Error(problem);
  const failures: string[] = [];
  for (const args of argLists) {
    const c = await compareMap(dir, args);
    if (c.problems.length > 0) failures.push(describeComparison(c));
  }
  return failures;
}

/** True when QEMU still refuses a second writer of `file` (the holder's lock is intact). */
function writerStillRefused(file: string, format: string): boolean {
  const r = runSync(['qemu-io', '-f', format, '-c', 'read 0 512', file], dir);
  return r.code !== 0 && /lock/.test(r.stderr);
}

describe.skipIf(!hasQemu)('images held by other processes', () => {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'imgaudit-locks-'));
    runOk(['bash', '-euo', 'pipefail', '-c', `qemu-img create -q -f qcow2 base.qcow2 4M
qemu-io -f qcow2 -c 'write -P 1 0 64k' base.qcow2 >/dev/null
qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 top.qcow2
qemu-io -f qcow2 -c 'write -P 2 1M 64k' top.qcow2 >/dev/null
qemu-img create -q -f raw disk.raw 1M
qemu-io -f raw -c 'write -P 3 0 4k' disk.raw >/dev/null
qemu-img create -q -f qcow2 -b disk.raw -F raw over-raw.qcow2
qemu-img create -q -f qcow2 -o data_file=data.raw withdata.qcow2 1M
qemu-io -f qcow2 -c 'write -P 4 0 64k' withdata.qcow2 >/dev/null`], dir);
  });
  afterAll(() => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  const topCases: string[][] = [
    [J, 'top.qcow2'], ['top.qcow2'], [J, '-U', 'top.qcow2'], ['--force-share', 'top.qcow2'],
    ['--image-opts', 'driver=qcow2,file.filename=top.qcow2'], [J, '--image-opts', 'driver=qcow2,file.filename=top.qcow2,file.locking=off'],
    [J, '--image-opts', 'driver=qcow2,file.filename=top.qcow2,force-share=on'],
    ['-U', '--image-opts', 'driver=qcow2,file.filename=top.qcow2,force-share=off'],
    [J, 'json:{"driver":"qcow2","file":{"driver":"file","filename":"top.qcow2"}}'],
    [J, '-f', 'raw', 'top.qcow2'], [J, '--image-opts', 'driver=raw,file.filename=top.qcow2,offset=64k'],
    [J, '--image-opts', 'driver=file,filename=top.qcow2'],
  ];

  it('a qemu-io writer of the top image', async () => {
    const holder = await qemuIo(['-f', 'qcow2'], 'top.qcow2');
    try {
      expect(await compareAll(topCases)).toEqual([]);
      expect(writerStillRefused('top.qcow2', 'qcow2')).toBe(true);
      expect(holder.child.exitCode).toBeNull();
    } finally {
      await holder.stop();
    }
  }, 120_000);

  it('a qemu-io reader of the top image (and of its backing file)', async () => {
    const holder = await qemuIo(['-r', '-f', 'qcow2'], 'top.qcow2');
    try {
      expect(await compareAll([[J, 'top.qcow2'], ['base.qcow2'], [J, '-U', 'top.qcow2']])).toEqual([]);
    } finally {
      await holder.stop();
    }
  }, 120_000);

  it('a qemu-io writer of the backing file', async () => {
    const holder = await qemuIo(['-f', 'qcow2'], 'base.qcow2');
    try {
      expect(await compareAll([
        [J, 'top.qcow2'], ['-U', 'top.qcow2'], [J, '--image-opts', 'driver=qcow2,file.filename=top.qcow2,file.locking=off'],
        [J, '--image-opts', 'driver=qcow2,file.filename=top.qcow2,backing.driver=qcow2,backing.file.filename=base.qcow2,backing.file.locking=off'],
        [J, '--image-opts', 'driver=qcow2,file.filename=top.qcow2,backing=null'],
      ])).toEqual([]);
      expect(writerStillRefused('base.qcow2', 'qcow2')).toBe(true);
    } finally {
      await holder.stop();
    }
  }, 120_000);

  it('a qemu-io writer of a raw image, a raw backing file and a data file', async () => {
    const raw = await qemuIo(['-f', 'raw'], 'disk.raw');
    try {
      expect(await compareAll([
        [J, 'disk.raw'], [J, '-f', 'raw', 'disk.raw'], [J, 'over-raw.qcow2'],
        [J, '--image-opts', 'driver=raw,file.filename=disk.raw,size=512k'],
      ])).toEqual([]);
    } finally {
      await raw.stop();
    }
    const data = await qemuIo(['-f', 'raw'], 'data.raw');
    try {
      expect(await compareAll([[J, 'withdata.qcow2'], ['-U', 'withdata.qcow2']])).toEqual([]);
    } finally {
      await data.stop();
    }
  }, 120_000);

  it.skipIf(!hasQemuNbd)('qemu-nbd exporting the image writable, then read-only', async () => {
    const writable = await startQemuNbd(['-f', 'qcow2', '-k', `${dir}/w.sock`, 'top.qcow2'], dir, { path: `${dir}/w.sock` });
    try {
      expect(await compareAll([...topCases, [J, `nbd+unix://?socket=${dir}/w.sock`]])).toEqual([]);
      expect(writerStillRefused('top.qcow2', 'qcow2')).toBe(true);
    } finally {
      await writable.stop();
    }
    const readOnly = await startQemuNbd(['-r', '-f', 'qcow2', '-k', `${dir}/r.sock`, 'top.qcow2'], dir, { path: `${dir}/r.sock` });
    try {
      expect(await compareAll([[J, 'top.qcow2'], ['top.qcow2']])).toEqual([]);
    } finally {
      await readOnly.stop();
    }
  }, 120_000);
});
