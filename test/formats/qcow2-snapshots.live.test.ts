/**
 * qcow2 internal snapshots in the layer metadata (ChainLayerInfo.snapshots):
 * made with `qemu-img snapshot -c`, compared with what `qemu-img info
 * --output=json` reads from the same table; vm_state_size (32-bit and the
 * 64-bit extra-data field) patched in and compared too; tables QEMU would
 * refuse are listed up to the faulty entry and flagged, never a crash.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageChain } from '../../src/map/image-chain.js';
import { hasQemu, TEST_ENV } from '../support/qemu.js';

let dir: string;
beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-snap-')); });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const run = (args: string[]): string => execFileSync(args[0]!, args.slice(1), { cwd: dir, env: TEST_ENV, encoding: 'utf8' });

interface QemuSnapshot { id: string; name: string; 'date-sec': number; 'date-nsec': number; 'vm-state-size': number }

/** The snapshots as qemu-img info reads them, in our shape. */
function qemuSnapshots(file: string) {
  const info = JSON.parse(run(['qemu-img', 'info', '--output=json', file])) as { snapshots?: QemuSnapshot[] };
  return (info.snapshots ?? []).map((s) => ({
    id: s.id, name: s.name, createdAtMs: s['date-sec'] * 1000 + Math.floor(s['date-nsec'] / 1e6), vmStateBytes: s['vm-state-size'],
  }));
}

function ourLayers(file: string) {
  const chain = ImageChain.open(path.join(dir, file));
  try {
    return chain.layers;
  } finally {
    chain.close();
  }
}

/** The table offset and count from the header. */
function table(file: string): { count: number; offset: number } {
  const head = Buffer.alloc(72);
  const fd = fs.openSync(path.join(dir, file), 'r');
  fs.readSync(fd, head, 0, 72, 0);
  fs.closeSync(fd);
  return { count: head.readUInt32BE(60), offset: Number(head.readBigUInt64BE(64)) };
}

function patch(file: string, offset: number, bytes: Buffer): void {
  const fd = fs.openSync(path.join(dir, file), 'r+');
  fs.writeSync(fd, bytes, 0, bytes.length, offset);
  fs.closeSync(fd);
}

describe.skipIf(!hasQemu)('qcow2 internal snapshots', () => {
  it('lists snapshots made by qemu-img snapshot -c as qemu-img info reads them', () => {
    run(['qemu-img', 'create', '-q', '-f', 'qcow2', 'base.raw.qcow2', '8M']);
    run(['qemu-img', 'create', '-q', '-f', 'qcow2', 's.qcow2', '8M']);
    run(['qemu-io', '-f', 'qcow2', '-c', 'write 0 64k', 's.qcow2']);
    run(['qemu-img', 'snapshot', '-c', 'first', 's.qcow2']);
    run(['qemu-io', '-f', 'qcow2', '-c', 'write 1M 64k', 's.qcow2']);
    run(['qemu-img', 'snapshot', '-c', 'before upgrade — ünïcode', 's.qcow2']);
    run(['qemu-img', 'snapshot', '-c', 'third', 's.qcow2']);
    run(['qemu-img', 'snapshot', '-d', 'third', 's.qcow2']);
    run(['qemu-img', 'snapshot', '-c', 'fourth', 's.qcow2']);
    const ours = ourLayers('s.qcow2')[0]!.snapshots;
    expect(ours.map((s) => s.name)).toEqual(['first', 'before upgrade — ünïcode', 'fourth']);
    expect(ours.map((s) => s.id)).toEqual(['1', '2', '3']); // QEMU gives the next ID after the highest
    expect(ours).toEqual(qemuSnapshots('s.qcow2'));
    const now = Date.now();
    for (const s of ours) expect(Math.abs(now - s.createdAtMs)).toBeLessThan(10 * 60_000);
    expect(ourLayers('base.raw.qcow2')[0]!.snapshots).toEqual([]);
  });

  it('reads vm_state_size, and vm_state_size_large from the extra data', () => {
    run(['qemu-img', 'create', '-q', '-f', 'qcow2', 'vm.qcow2', '8M']);
    run(['qemu-img', 'snapshot', '-c', 'a', 'vm.qcow2']);
    run(['qemu-img', 'snapshot', '-c', 'b', 'vm.qcow2']);
    const { count, offset } = table('vm.qcow2');
    expect(count).toBe(2);
    // Entry 0: extra_data_size = 24 (QEMU writes vm_state_size_large, disk_size, icount): set the large field.
    const head = Buffer.alloc(40);
    const fd = fs.openSync(path.join(dir, 'vm.qcow2'), 'r');
    fs.readSync(fd, head, 0, 40, offset);
    fs.closeSync(fd);
    expect(head.readUInt32BE(36)).toBeGreaterThanOrEqual(8);
    const large = Buffer.alloc(8);
    large.writeBigUInt64BE(6n * 2n ** 32n + 12345n);
    patch('vm.qcow2', offset + 40, large);
    const ours = ourLayers('vm.qcow2')[0]!.snapshots;
    expect(ours[0]!.vmStateBytes).toBe(6 * 2 ** 32 + 12345);
    expect(ours[1]!.vmStateBytes).toBe(0);
    expect(ours).toEqual(qemuSnapshots('vm.qcow2'));
  });

  it('flags a table QEMU refuses (too much extra data), lists the entries before it, and still maps', () => {
    run(['qemu-img', 'create', '-q', '-f', 'qcow2', 'bad.qcow2', '8M']);
    run(['qemu-img', 'snapshot', '-c', 'ok', 'bad.qcow2']);
    run(['qemu-img', 'snapshot', '-c', 'bad', 'bad.qcow2']);
    const { offset } = table('bad.qcow2');
    const first = ourLayers('bad.qcow2')[0]!.snapshots;
    expect(first).toHaveLength(2);
    // The second entry starts after the first: 40 + 24 extra + "1" + "ok", rounded up to 8.
    const second = offset + Math.ceil((40 + 24 + 1 + 2) / 8) * 8;
    const size = Buffer.alloc(4);
    size.writeUInt32BE(4096);
    patch('bad.qcow2', second + 36, size);
    const layer = ourLayers('bad.qcow2')[0]!;
    expect(layer.snapshots.map((s) => s.name)).toEqual(['ok']);
    expect(layer.flags).toContain('snapshot_table_invalid');
    expect(() => run(['qemu-img', 'info', 'bad.qcow2'])).toThrow(/Too much extra metadata in snapshot table entry 1/);
  });

  it('reads ID and name sizes past the end of the file as zeroes, like QEMU', () => {
    run(['qemu-img', 'create', '-q', '-f', 'qcow2', 'long.qcow2', '8M']);
    run(['qemu-img', 'snapshot', '-c', 'x', 'long.qcow2']);
    const { offset } = table('long.qcow2');
    const sizes = Buffer.alloc(4);
    sizes.writeUInt16BE(0xffff, 0);
    sizes.writeUInt16BE(0xffff, 2);
    patch('long.qcow2', offset + 12, sizes);
    const ours = ourLayers('long.qcow2')[0]!.snapshots;
    expect(ours).toHaveLength(1);
    expect(ours).toEqual(qemuSnapshots('long.qcow2'));
  });
});
