/**
 * A generated estate for the per-layer figures (issue 6), built with
 * qemu-img and qemu-io, and the figures expected of it computed from real
 * qemu-img output only (chain maps, maps of each layer alone through a
 * `json:` filename with `"backing": null`), `filefrag` (FIEMAP, for
 * unwritten extents) and `df`, with interval arithmetic of this file's own.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { TEST_ENV, runOk } from '../support/qemu.js';

const MiB = 1 << 20;

export interface LayerEstate {
  dir: string;
  root: string;
  outside: string;
  domains: string;
  pathList: string;
  /** Images audited as tops (relative to root). */
  images: string[];
  /** Layer files whose bytes live in other files (their true allocation is unknown). */
  readingOtherFiles: string[];
}

function sh(cwd: string, lines: readonly string[]): void {
  execFileSync('bash', ['-ec', lines.join('\n')], { cwd, env: TEST_ENV, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Builds the estate under `dir`: images/ (the root), outside/ (a base outside it), libvirt/ and a path list. */
export function buildLayerEstate(dir: string): LayerEstate {
  const root = path.join(dir, 'images');
  const outside = path.join(dir, 'outside');
  const domains = path.join(dir, 'libvirt');
  for (const d of [root, path.join(root, 'deep'), outside, domains]) fs.mkdirSync(d, { recursive: true });
  const qio = (file: string, fmt: string, ...ops: string[]) => `qemu-io -f ${fmt} ${ops.map((o) => `-c '${o}'`).join(' ')} ${file}`;
  sh(root, [
    // A base with three overlays writing overlapping and disjoint ranges.
    'qemu-img create -q -f qcow2 base.qcow2 64M',
    qio('base.qcow2', 'qcow2', 'write -P 1 0 8M', 'write -P 2 16M 8M', 'write -z 32M 4M', 'write -P 3 40M 64k'),
    'for i in 1 2 3; do qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 ov$i.qcow2; done',
    qio('ov1.qcow2', 'qcow2', 'write -P 11 0 2M', 'write -P 12 20M 1M'),
    qio('ov2.qcow2', 'qcow2', 'write -P 21 1M 2M', 'write -P 22 48M 2M', 'write -P 23 20M 512k'),
    qio('ov3.qcow2', 'qcow2', 'write -P 31 6M 4M', 'write -z 16M 1M', 'write -z -u 17M 1M'),
    // A 3-deep chain whose top hides part of both layers under it.
    'qemu-img create -q -f qcow2 deep/d2.qcow2 32M',
    qio('deep/d2.qcow2', 'qcow2', 'write -P 41 0 16M'),
    'qemu-img create -q -f qcow2 -b d2.qcow2 -F qcow2 deep/d1.qcow2',
    qio('deep/d1.qcow2', 'qcow2', 'write -P 42 4M 4M', 'write -P 43 24M 1M'),
    'qemu-img create -q -f qcow2 -b d1.qcow2 -F qcow2 deep/d0.qcow2',
    qio('deep/d0.qcow2', 'qcow2', 'write -P 44 0 6M'),
    // A raw base (sparse) under a qcow2 overlay.
    'qemu-img create -q -f raw rawbase.raw 32M',
    qio('rawbase.raw', 'raw', 'write -P 51 0 4M', 'write -P 52 10M 1M'),
    'qemu-img create -q -f qcow2 -b rawbase.raw -F raw rawov.qcow2',
    qio('rawov.qcow2', 'qcow2', 'write -P 53 2M 4M'),
    // Fallocated images, partly written.
    'qemu-img create -q -f raw -o preallocation=falloc falloc.raw 8M',
    qio('falloc.raw', 'raw', 'write -P 61 0 1M'),
    'qemu-img create -q -f qcow2 -o preallocation=falloc falloc.qcow2 8M',
    qio('falloc.qcow2', 'qcow2', 'write -P 62 0 1M'),
    // Metadata preallocation: every cluster mapped, over host holes (no space held).
    'qemu-img create -q -f qcow2 -o preallocation=metadata meta.qcow2 8M',
    qio('meta.qcow2', 'qcow2', 'write -P 63 1M 1M', 'write -z 4M 64k'),
    // Internal snapshots.
    'qemu-img create -q -f qcow2 snap.qcow2 16M',
    qio('snap.qcow2', 'qcow2', 'write -P 71 0 1M'),
    'qemu-img snapshot -c first snap.qcow2',
    qio('snap.qcow2', 'qcow2', 'write -P 72 0 512k'),
    'qemu-img snapshot -c "second one" snap.qcow2',
    // A top smaller than its base: what lies beyond the top's size is not read.
    'qemu-img create -q -f qcow2 clipbase.qcow2 32M',
    qio('clipbase.qcow2', 'qcow2', 'write -P 81 0 4M', 'write -P 82 20M 4M'),
    'qemu-img create -q -f qcow2 -b clipbase.qcow2 -F qcow2 clipov.qcow2 8M',
    qio('clipov.qcow2', 'qcow2', 'write -P 83 1M 1M'),
    // An overlay whose base lies outside the roots (mapped alone only).
    'qemu-img create -q -f qcow2 ../outside/obase.qcow2 16M',
    qio('../outside/obase.qcow2', 'qcow2', 'write -P 91 0 4M'),
    'qemu-img create -q -f qcow2 -b ../outside/obase.qcow2 -F qcow2 outov.qcow2',
    qio('outov.qcow2', 'qcow2', 'write -P 92 0 1M'),
    // Layers whose bytes live in other files: a qcow2 with an external data file, a vmdk with a flat extent.
    'qemu-img create -q -f qcow2 -o data_file=ext.data ext.qcow2 8M',
    qio('ext.qcow2', 'qcow2', 'write -P 93 0 1M'),
    'qemu-img create -q -f vmdk -o subformat=monolithicFlat flat.vmdk 8M',
    qio('flat.vmdk', 'vmdk', 'write -P 94 1M 1M'),
    'sync',
  ]);
  fs.writeFileSync(path.join(domains, 'web.xml'), `<domain type='kvm'>
  <name>web</name>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='${root}/ov1.qcow2' index='2'/>
      <backingStore type='file' index='1'>
        <format type='qcow2'/>
        <source file='${root}/./base.qcow2'/>
        <backingStore/>
      </backingStore>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='block' device='disk'>
      <source dev='/dev/vg0/web-data'/>
      <target dev='vdb' bus='virtio'/>
    </disk>
  </devices>
</domain>
`);
  fs.writeFileSync(path.join(domains, 'db.xml'), `<domain type='kvm'><name>db</name><devices>
  <disk type="file" device="disk"><source file="${root}/deep/d0.qcow2"/><target dev="vda"/></disk>
</devices></domain>
`);
  const pathList = path.join(dir, 'in-use.txt');
  fs.writeFileSync(pathList, `# kept by hand\n${root}/rawov.qcow2\n\n${root}//snap.qcow2   # the snapshot test VM\n`);
  const images = [
    'base.qcow2', 'ov1.qcow2', 'ov2.qcow2', 'ov3.qcow2', 'deep/d2.qcow2', 'deep/d1.qcow2', 'deep/d0.qcow2',
    'rawbase.raw', 'rawov.qcow2', 'falloc.raw', 'falloc.qcow2', 'meta.qcow2', 'snap.qcow2', 'clipbase.qcow2', 'clipov.qcow2', 'outov.qcow2',
    'ext.qcow2', 'flat.vmdk',
  ];
  return { dir, root, outside, domains, pathList, images, readingOtherFiles: ['ext.qcow2', 'flat.vmdk'].map((f) => path.join(root, f)) };
}

// ------------------------------------------------------------ qemu-img side

export interface QemuEntry { start: number; length: number; depth: number; present: boolean; zero: boolean; data: boolean; offset?: number }
export interface QemuLayer { filename: string; format: string; virtualSize: number }
export interface Bytes { data: number; zero: number; preallocated: number }

/** The chain of `file` as qemu-img opens it (absolute, normalised file names). */
export function qemuChain(file: string): QemuLayer[] {
  const info = JSON.parse(runOk(['qemu-img', 'info', '-U', '--backing-chain', '--output=json', file], path.dirname(file))) as
    { filename: string; format: string; 'virtual-size': number }[];
  return info.map((layer) => ({
    filename: path.resolve(path.dirname(file), layer.filename), format: layer.format, virtualSize: layer['virtual-size'],
  }));
}

/** `qemu-img map --output=json` of the chain of `file`. */
export function qemuChainMap(file: string): QemuEntry[] {
  return JSON.parse(runOk(['qemu-img', 'map', '-U', '--output=json', file], path.dirname(file))) as QemuEntry[];
}

/** `qemu-img map --output=json` of `file` opened alone (no backing file). */
export function qemuAloneMap(file: string, format: string): QemuEntry[] {
  const spec = { driver: format, ...(format === 'raw' ? {} : { backing: null }), file: { driver: 'file', filename: file } };
  return JSON.parse(runOk(['qemu-img', 'map', '-U', '--output=json', `json:${JSON.stringify(spec)}`], path.dirname(file))) as QemuEntry[];
}

/** SPEC §3 category of one entry. */
export function category(e: QemuEntry, isRaw: boolean): keyof Bytes | 'unallocated' {
  if (e.data && !e.zero) return 'data';
  if (!e.present && e.offset === undefined) return 'unallocated';
  if (e.offset !== undefined && !isRaw) return 'preallocated';
  if (!e.present) return 'unallocated';
  return 'zero';
}

// ---------------------------------------------------------- interval arithmetic

/** A half-open range [start, end). */
export type Range = [number, number];

/** Sorted, merged ranges. */
export function normalise(ranges: readonly Range[]): Range[] {
  const sorted = ranges.filter(([s, e]) => e > s).map(([s, e]): Range => [s, e]).sort((a, b) => a[0] - b[0]);
  const out: Range[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else out.push(r);
  }
  return out;
}

export function total(ranges: readonly Range[]): number {
  return normalise(ranges).reduce((sum, [s, e]) => sum + e - s, 0);
}

export function intersect(a: readonly Range[], b: readonly Range[]): Range[] {
  const out: Range[] = [];
  for (const [as, ae] of normalise(a)) for (const [bs, be] of normalise(b)) {
    const s = Math.max(as, bs);
    const e = Math.min(ae, be);
    if (e > s) out.push([s, e]);
  }
  return normalise(out);
}

export function subtract(a: readonly Range[], b: readonly Range[]): Range[] {
  let rest = normalise(a);
  for (const [bs, be] of normalise(b)) {
    rest = rest.flatMap(([s, e]): Range[] => (be <= s || bs >= e ? [[s, e]] : [[s, Math.min(bs, e)], [Math.max(be, s), e]]))
      .filter(([s, e]) => e > s);
  }
  return rest;
}

// ------------------------------------------------------------ expectations

/** Own allocation of a layer mapped alone: its present depth-0 ranges by category. */
export function ownRanges(alone: readonly QemuEntry[], isRaw: boolean): Record<keyof Bytes, Range[]> {
  const out: Record<keyof Bytes, Range[]> = { data: [], zero: [], preallocated: [] };
  for (const e of alone) {
    if (!e.present || e.depth !== 0) continue;
    const c = category(e, isRaw);
    if (c !== 'unallocated') out[c].push([e.start, e.start + e.length]);
  }
  return out;
}

export const bytesOf = (r: Record<keyof Bytes, Range[]>): Bytes => ({ data: total(r.data), zero: total(r.zero), preallocated: total(r.preallocated) });

/** Extents of `file` (host byte ranges) by `filefrag -v`, after syncing it: all of them, or the unwritten ones. */
function extentsByFilefrag(file: string, onlyUnwritten: boolean): Range[] {
  const out = execFileSync('filefrag', ['-s', '-v', file], { env: TEST_ENV, encoding: 'utf8' });
  const blockSize = Number(/\((\d+) blocks? of (\d+) bytes\)/.exec(out)?.[2] ?? /blocksize of (\d+)/.exec(out)?.[1]);
  if (!Number.isFinite(blockSize)) throw new Error(`filefrag: no block size in\n${out}`);
  const ranges: Range[] = [];
  for (const line of out.split('\n')) {
    const m = /^\s*\d+:\s+(\d+)\.\.\s*(\d+):\s+\d+\.\.\s*\d+:\s+\d+:.*?(\S*unwritten\S*)?\s*$/.exec(line);
    if (m === null || (onlyUnwritten && !line.includes('unwritten'))) continue;
    ranges.push([Number(m[1]) * blockSize, (Number(m[2]) + 1) * blockSize]);
  }
  return normalise(ranges);
}

/** Unwritten extents of `file` (host byte ranges) by `filefrag -v`, after syncing it. */
export const unwrittenByFilefrag = (file: string): Range[] => extentsByFilefrag(file, true);

/** Every extent of `file` (the host bytes that hold space; the gaps are holes) by `filefrag -v`. */
export const mappedByFilefrag = (file: string): Range[] => extentsByFilefrag(file, false);

/**
 * True allocation: the own entries' bytes whose host range lies in an
 * unwritten extent count as preallocated; preallocated bytes over host holes
 * (outside `mapped`) count as zero; the rest keep their category.
 */
export function trueBytes(alone: readonly QemuEntry[], isRaw: boolean, unwritten: readonly Range[], mapped: readonly Range[]): Bytes {
  const out: Bytes = { data: 0, zero: 0, preallocated: 0 };
  for (const e of alone) {
    if (!e.present || e.depth !== 0) continue;
    const c = category(e, isRaw);
    if (c === 'unallocated') continue;
    if (c === 'preallocated' && e.offset !== undefined) {
      const held = total(intersect([[e.offset, e.offset + e.length]], mapped));
      out.preallocated += held;
      out.zero += e.length - held;
      continue;
    }
    const hidden = e.offset === undefined ? 0 : total(intersect([[e.offset, e.offset + e.length]], unwritten));
    out.preallocated += hidden;
    out[c] += e.length - hidden;
  }
  return out;
}

/** What the chain map reads from `depth` (present entries there). */
export function readAt(chainMap: readonly QemuEntry[], depth: number): Range[] {
  return normalise(chainMap.filter((e) => e.present && e.depth === depth).map((e): Range => [e.start, e.start + e.length]));
}

/** Own allocation within [0, topSize) the chain does not read from that depth, by category. */
export function shadowedBytes(own: Record<keyof Bytes, Range[]>, chainMap: readonly QemuEntry[], depth: number, topSize: number): Bytes {
  const read = readAt(chainMap, depth);
  const clip = (r: Range[]) => total(subtract(intersect(r, [[0, topSize]]), read));
  return { data: clip(own.data), zero: clip(own.zero), preallocated: clip(own.preallocated) };
}

/** What the overlays read of a base: union, read by ≥ 2, own allocation none reads, and per overlay. */
export function sharing(baseOwn: readonly Range[], overlayReads: readonly Range[][]) {
  const union = normalise(overlayReads.flat());
  const points = [...new Set(overlayReads.flat().flat())].sort((a, b) => a - b);
  let shared = 0;
  for (let i = 0; i + 1 < points.length; i++) {
    const seg: Range = [points[i]!, points[i + 1]!];
    const readers = overlayReads.filter((r) => total(intersect(r, [seg])) > 0).length;
    if (readers >= 2) shared += seg[1] - seg[0];
  }
  return {
    read: total(union),
    shared,
    unread: total(subtract(baseOwn, union)),
    overlays: overlayReads.map((mine, i) => ({
      read: total(mine),
      unique: total(subtract(mine, overlayReads.filter((_, j) => j !== i).flat())),
    })),
  };
}

export { MiB };
