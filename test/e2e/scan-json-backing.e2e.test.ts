/**
 * Backing files named by `json:` options in a scan: followed when they name
 * a local file inside the roots (the layer is the file, with its bytes at
 * depth 1), refused as before when outside the roots (unless configured)
 * or when they name an NBD export or another protocol.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasQemu, runOk } from '../support/qemu.js';
import { tempDir } from '../support/imgaudit.js';
import { requireBuild, runCli } from './scan-support.js';

let dir = '';

describe.skipIf(!hasQemu)('scan: json: backing names', () => {
  beforeAll(() => {
    requireBuild();
    dir = tempDir('json-backing');
    const json = (file: string): string => `json:{"driver":"qcow2","file":{"driver":"file","filename":"${path.join(dir, file)}"}}`;
    runOk(['bash', '-euo', 'pipefail', '-c', `mkdir root out
qemu-img create -q -f qcow2 root/base.qcow2 1M
qemu-io -f qcow2 -c 'write -P 1 0 64k' root/base.qcow2 >/dev/null
qemu-img create -q -f qcow2 out/ext.qcow2 1M
qemu-img create -q -f qcow2 -u -b '${json('root/base.qcow2')}' -F qcow2 root/in.qcow2 1M
qemu-img create -q -f qcow2 -u -b '${json('out/ext.qcow2')}' -F qcow2 root/outside.qcow2 1M
qemu-img create -q -f qcow2 -u -b 'nbd+unix:///x?socket=${dir}/none.sock' -F raw root/nbd.qcow2 1M`], dir);
  });
  afterAll(() => {
    if (dir !== '') fs.rmSync(dir, { recursive: true, force: true });
  });

  it('follows local names inside the roots, refuses the others', () => {
    const scan = runCli(['scan', path.join(dir, 'root'), '--db', path.join(dir, 'a.db'), '--quiet'], dir);
    expect(scan.status, scan.stderr).toBe(1);
    const report = JSON.parse(runCli(['report', '--db', path.join(dir, 'a.db'), '--format', 'json'], dir).stdout) as {
      images: { path: string; chainLength: number; byDepth: { depth: number; data: number }[]; error: { code: string } | null }[];
    };
    const byName = Object.fromEntries(report.images.map((i) => [path.basename(i.path), i]));
    expect(byName['in.qcow2']).toMatchObject({ chainLength: 2, error: null });
    expect(byName['in.qcow2']!.byDepth).toContainEqual({ depth: 1, data: 65536, zero: 0, preallocated: 0 });
    expect(byName['outside.qcow2']!.error?.code).toBe('E_BACKING_OUTSIDE_ROOTS');
    expect(byName['nbd.qcow2']!.error?.code).toBe('E_PROTOCOL_BACKING');
  });
});
