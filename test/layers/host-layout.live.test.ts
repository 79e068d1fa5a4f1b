/**
 * readQcow2HostLayout on files qemu-img made: refcounted clusters and end
 * against qemu-img check and the oracle's refcount scan, L1 entries in use
 * against the L2 tables qemu-io's writes need, and the files whose
 * refcounts a commit's allocator would not see as plain.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readQcow2HostLayoutAt } from '../../src/formats/qcow2/host-layout.js';
import { hasQemu, runOk } from '../support/qemu.js';
import { qemuCheck, refcountedClusters } from './reclaim-oracle.js';
import { shell, tempDir } from './support.js';

const MiB = 1024 * 1024;

describe.skipIf(!hasQemu)('readQcow2HostLayout', () => {
  const dir = tempDir('host-layout');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const layoutOf = (file: string) => readQcow2HostLayoutAt(path.join(dir, file))!;

  it.each([
    ['64 KiB clusters', 'cluster_size=65536', 65536],
    ['512-byte clusters, 1-bit refcounts', 'cluster_size=512,refcount_bits=1', 512],
    ['4 KiB clusters, compat 0.10 (16-bit refcounts)', 'cluster_size=4096,compat=0.10', 4096],
    ['16 KiB clusters, 64-bit refcounts', 'cluster_size=16384,refcount_bits=64', 16384],
    ['32 KiB clusters, extended L2, 8-bit refcounts', 'cluster_size=32768,extended_l2=on,refcount_bits=8', 32768],
  ])('%s: clusters in use, end and L1 entries in use', (_, options, clusterBytes) => {
    const file = `f-${clusterBytes}-${options.length}.qcow2`;
    // Writes in L2 ranges 0 and 3 (an L1 entry maps clusterBytes² / 8 bytes, / 16 with extended L2).
    const span = (clusterBytes * clusterBytes) / (options.includes('extended_l2=on') ? 16 : 8);
    shell(dir, [`qemu-img create -q -f qcow2 -o ${options} ${file} ${4 * span + MiB}`,
      `qemu-io -f qcow2 -c 'write 0 ${clusterBytes}' -c 'write ${3 * span} ${clusterBytes}' ${file} >/dev/null`]);
    const layout = layoutOf(file);
    const check = qemuCheck(dir, file);
    expect(layout.allocatedClusters).toBe(refcountedClusters(dir, file));
    expect(layout.endCluster * clusterBytes).toBe(check.imageEndOffset);
    expect(layout.usedL1).toEqual([[0, 1], [3, 4]]);
    expect(layout.plain).toBe(true);
  });

  it('not plain: an internal snapshot (shared clusters, L1 entries without COPIED)', () => {
    shell(dir, ['qemu-img create -q -f qcow2 snap.qcow2 4M', "qemu-io -f qcow2 -c 'write 0 64k' snap.qcow2 >/dev/null",
      'qemu-img snapshot -c s1 snap.qcow2']);
    expect(layoutOf('snap.qcow2').plain).toBe(false);
    // Deleting the snapshot makes the refcounts plain again.
    runOk(['qemu-img', 'snapshot', '-d', 's1', 'snap.qcow2'], dir);
    expect(layoutOf('snap.qcow2').plain).toBe(true);
  });

  it('not plain: a persistent bitmap (stored again when the file is closed)', () => {
    shell(dir, ['qemu-img create -q -f qcow2 bm.qcow2 4M', 'qemu-img bitmap --add bm.qcow2 b0']);
    expect(layoutOf('bm.qcow2').plain).toBe(false);
  });
});
