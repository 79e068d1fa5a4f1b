/**
 * "In use" in the scan: with qemu-io holding one image for writing (and so
 * its backing file for reading) and another for reading, `imgaudit scan`
 * maps every image (it never refuses one for a lock, and leaves the
 * holders' locks alone), records who held each image (JSON `inUse`, the
 * `--by image` column, the run_images_in_use view), and notes the chain
 * mapped while a writer held it. A base no chain reads any more is an unused
 * base unless a process holds it open.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type QemuIoHolder, hasQemu, holdWithQemuIo, runOk, runSync } from '../support/qemu.js';
import { tempDir } from '../support/imgaudit.js';
import { requireBuild, runCli } from './scan-support.js';

let dir = '';
let root = '';
const holders: QemuIoHolder[] = [];

async function hold(args: readonly string[], file: string): Promise<QemuIoHolder> {
  const holder = await holdWithQemuIo(args, file, root);
  holders.push(holder);
  return holder;
}

const db = (): string => path.join(dir, 'a.db');
const report = (...args: string[]) => runCli(['report', '--db', db(), ...args], dir);
const inUseOf = (json: string): Record<string, unknown> =>
  Object.fromEntries((JSON.parse(json) as { images: { path: string; inUse: unknown }[] }).images.map((i) => [path.basename(i.path), i.inUse]));
const findings = (): string[] => {
  const r = runCli(['check', '--db', db(), '--format', 'json'], dir);
  return (JSON.parse(r.stdout) as { findings: { code: string; path: string }[] }).findings.map((f) => `${f.code} ${path.basename(f.path)}`);
};

describe.skipIf(!hasQemu)('scan: images held open by other processes', () => {
  beforeAll(() => {
    requireBuild();
    dir = tempDir('in-use');
    root = path.join(dir, 'root');
    fs.mkdirSync(root);
    runOk(['bash', '-euo', 'pipefail', '-c', `qemu-img create -q -f qcow2 base.qcow2 4M
qemu-io -f qcow2 -c 'write -P 1 0 64k' base.qcow2 >/dev/null
qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 vm.qcow2
qemu-img create -q -f qcow2 idle.qcow2 1M
qemu-img create -q -f qcow2 spare.qcow2 1M`], root);
  });
  afterAll(async () => {
    for (const holder of holders) await holder.stop();
    if (dir !== '') fs.rmSync(dir, { recursive: true, force: true });
  });

  it('records writers and readers, notes the chain mapped under a writer, and leaves their locks alone', async () => {
    const writer = await hold(['-f', 'qcow2'], 'vm.qcow2');
    const reader = await hold(['-r', '-f', 'qcow2'], 'idle.qcow2');
    const scan = runCli(['scan', root, '--db', db(), '--quiet'], dir);
    expect({ status: scan.status, stderr: scan.stderr }).toEqual({ status: 0, stderr: '' });
    expect(inUseOf(report('--format', 'json').stdout)).toEqual({
      'base.qcow2': 'read', 'idle.qcow2': 'read', 'spare.qcow2': null, 'vm.qcow2': 'write',
    });
    const table = report('--by', 'image').stdout;
    expect(table).toMatch(/vm\.qcow2 .*\n {4}held open for writing\n/);
    expect(table).toMatch(/idle\.qcow2 .*\n {4}held open for reading\n/);
    expect(table).not.toMatch(/spare\.qcow2 .*\n {4}held open/);
    const csv = report('--by', 'image', '--format', 'csv').stdout;
    expect(csv.split('\r\n')[0]).toMatch(/,in_use$/);
    expect(csv).toMatch(/vm\.qcow2,.*,held open for writing\r\n/);
    const view = runCli(['query', '--db', db(), '--format', 'json', 'SELECT path, in_use FROM run_images_in_use ORDER BY path'], dir);
    expect((JSON.parse(view.stdout) as { path: string; in_use: string }[]).map((r) => `${path.basename(r.path)} ${r.in_use}`))
      .toEqual(['base.qcow2 read', 'idle.qcow2 read', 'vm.qcow2 write']);
    expect(findings().filter((f) => f.startsWith('E_IMAGE_IN_USE'))).toEqual(['E_IMAGE_IN_USE vm.qcow2']);
    // The holders still run and still hold their locks: a second writer is refused.
    expect(writer.child.exitCode).toBeNull();
    const second = runSync(['qemu-io', '-f', 'qcow2', '-c', 'read 0 512', 'vm.qcow2'], root);
    expect(second.stderr).toMatch(/Failed to get "write" lock|Failed to get shared "write" lock/);
    await writer.stop();
    await reader.stop();
  }, 120_000);

  it('a re-scan without holders reuses the maps and records nobody', () => {
    const scan = runCli(['scan', root, '--db', db(), '--quiet'], dir);
    expect(scan.status).toBe(0);
    expect(inUseOf(report('--format', 'json').stdout)).toEqual({
      'base.qcow2': null, 'idle.qcow2': null, 'spare.qcow2': null, 'vm.qcow2': null,
    });
    expect(findings().filter((f) => f.startsWith('E_IMAGE_IN_USE'))).toEqual([]);
  });

  it('a base no chain reads any more is unused, unless a process holds it open', async () => {
    fs.rmSync(path.join(root, 'vm.qcow2'));
    expect(runCli(['scan', root, '--db', db(), '--quiet'], dir).status).toBe(0);
    expect(findings()).toContain('E_BASE_UNUSED base.qcow2');
    const reader = await hold(['-r', '-f', 'qcow2'], 'base.qcow2');
    expect(runCli(['scan', root, '--db', db(), '--quiet'], dir).status).toBe(0);
    expect(findings()).not.toContain('E_BASE_UNUSED base.qcow2');
    await reader.stop();
  }, 120_000);
});
