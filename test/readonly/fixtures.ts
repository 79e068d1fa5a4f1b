/**
 * The image set of the read-only proofs: a three-level qcow2 chain, a
 * qcow2 overlay over a raw base, a qcow2 with an external data file
 * (absolute name, so it resolves from any working directory), a compressed
 * image, a sparse raw image. Built with qemu-img/qemu-io when installed,
 * otherwise with the test builder (no compressed image then).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { buildQcow2 } from '../support/qcow2-builder.js';
import { create, hasQemu, io, runOk } from '../support/qemu.js';

const M = 1 << 20;

export interface ImageSet {
  dir: string;
  /** Top-level images to map (names relative to dir). */
  images: string[];
}

function sparseRaw(file: string, size: number, data: Array<[number, number]>): void {
  const fd = fs.openSync(file, 'w');
  try {
    fs.ftruncateSync(fd, size);
    for (const [at, length] of data) fs.writeSync(fd, Buffer.alloc(length, 0x3c), 0, length, at);
  } finally {
    fs.closeSync(fd);
  }
}

export function buildImageSet(dir: string): ImageSet {
  sparseRaw(path.join(dir, 'disk.raw'), 8 * M + 1000, [[0, 4096], [3 * M, 64 * 1024], [8 * M, 1000]]);
  if (hasQemu) {
    const q = (cmd: readonly string[]) => runOk(cmd, dir);
    q(create('base.qcow2', 'qcow2', '8M'));
    q(io('base.qcow2', 'qcow2', ['write -P 1 0 1M', 'write -z 2M 64k']));
    q(create('mid.qcow2', 'qcow2', '8M', {}, { file: 'base.qcow2', fmt: 'qcow2' }));
    q(io('mid.qcow2', 'qcow2', ['write -P 2 512k 1M', 'discard 0 64k']));
    q(create('top.qcow2', 'qcow2', '8M', {}, { file: 'mid.qcow2', fmt: 'qcow2' }));
    q(io('top.qcow2', 'qcow2', ['write -P 3 1M 64k', 'write -z 4M 64k']));
    q(create('over-raw.qcow2', 'qcow2', '8M', {}, { file: 'disk.raw', fmt: 'raw' }));
    q(io('over-raw.qcow2', 'qcow2', ['write -P 4 64k 64k']));
    q(create('df.qcow2', 'qcow2', '4M', { data_file: path.join(dir, 'df.raw') }));
    q(io('df.qcow2', 'qcow2', ['write -P 5 0 64k', 'write -z 1M 64k']));
    q(create('comp.qcow2', 'qcow2', '4M'));
    q(io('comp.qcow2', 'qcow2', ['write -c -P 6 0 64k', 'write -P 7 1M 64k']));
    return { dir, images: ['top.qcow2', 'over-raw.qcow2', 'df.qcow2', 'comp.qcow2', 'disk.raw'] };
  }
  const data = (guests: number[]) => guests.map((guest) => ({ guest, kind: 'data' as const }));
  buildQcow2(path.join(dir, 'base.qcow2'), { virtualSize: 8 * M, clusters: data([0, 65536]) });
  buildQcow2(path.join(dir, 'mid.qcow2'), { virtualSize: 8 * M, backing: { name: 'base.qcow2', format: 'qcow2' }, clusters: data([M]) });
  buildQcow2(path.join(dir, 'top.qcow2'), { virtualSize: 8 * M, backing: { name: 'mid.qcow2' }, clusters: data([2 * M]) });
  buildQcow2(path.join(dir, 'over-raw.qcow2'), { virtualSize: 8 * M, backing: { name: 'disk.raw', format: 'raw' }, clusters: data([65536]) });
  sparseRaw(path.join(dir, 'df.raw'), 4 * M, [[0, 65536]]);
  buildQcow2(path.join(dir, 'df.qcow2'), { virtualSize: 4 * M, dataFile: path.join(dir, 'df.raw'), clusters: data([0]) });
  return { dir, images: ['top.qcow2', 'over-raw.qcow2', 'df.qcow2', 'disk.raw'] };
}

export interface Fingerprint { sha256: string; size: number; mtimeNs: bigint; ctimeNs: bigint; blocks: bigint }

/** Content hash and the times a write (or a metadata change) would move, for every file in dir. */
export function fingerprints(dir: string): Map<string, Fingerprint> {
  const out = new Map<string, Fingerprint>();
  for (const name of fs.readdirSync(dir).sort()) {
    const file = path.join(dir, name);
    const stat = fs.statSync(file, { bigint: true });
    if (!stat.isFile()) continue;
    const sha256 = crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
    out.set(name, { sha256, size: Number(stat.size), mtimeNs: stat.mtimeNs, ctimeNs: stat.ctimeNs, blocks: stat.blocks });
  }
  return out;
}
