/**
 * Independent computations for the reclaim tier, from qemu-img's own
 * output: cells cut at every entry edge of `qemu-img map --output=json`
 * (no interval code of src/ involved), SPEC §3's rules restated, and the
 * host-backed bytes of a layer mapped alone.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { MapEntry } from '../../src/map/map-entry.js';
import { runOk } from '../support/qemu.js';
import { aloneSpec, parseQemuMap, type QemuEntry } from './support.js';

/** qemu-img's map of `file` (a chain, or alone with `alone`). */
export function qemuMapEntries(dir: string, file: string, format: string, alone: boolean): QemuEntry[] {
  const spec = alone ? aloneSpec(file, format) : file;
  return parseQemuMap(runOk(['qemu-img', 'map', '--output=json', ...(alone ? [] : ['-f', format]), spec], dir));
}

export function toMapEntry(e: QemuEntry): MapEntry {
  return {
    startBytes: e.start, lengthBytes: e.length, depth: e.depth, present: e.present, zero: e.zero, data: e.data,
    compressed: false, offsetBytes: e.offset, filename: undefined,
  };
}

/** SPEC §3, restated: the category of an entry. */
export function specCategory(e: QemuEntry, isRaw: boolean): 'data' | 'zero' | 'preallocated' | 'unallocated' {
  if (e.data && !e.zero) return 'data';
  if (!e.present && e.offset === undefined) return 'unallocated';
  if (e.offset !== undefined && !isRaw) return 'preallocated';
  if (!e.present) return 'unallocated';
  return 'zero';
}

/** A byte range over which no map given to `cells` changes, with each map's entry there. */
export interface Cell {
  start: number;
  end: number;
  entries: (QemuEntry | undefined)[];
}

/**
 * Cuts [0, end) at every entry edge of every map and looks each cell up in
 * each map (plain linear scans: independent of src/map/reclaim's sweep).
 */
export function cells(maps: readonly QemuEntry[][], end: number): Cell[] {
  const edges = new Set<number>([0, end]);
  for (const m of maps) for (const e of m) { edges.add(Math.min(e.start, end)); edges.add(Math.min(e.start + e.length, end)); }
  const sorted = [...edges].sort((a, b) => a - b);
  const cursor = maps.map(() => 0);
  const out: Cell[] = [];
  for (let i = 0; i + 1 < sorted.length; i++) {
    const start = sorted[i]!;
    const entries = maps.map((m, k) => {
      while (cursor[k]! < m.length && m[cursor[k]!]!.start + m[cursor[k]!]!.length <= start) cursor[k]!++;
      const e = m[cursor[k]!];
      return e !== undefined && e.start <= start ? e : undefined;
    });
    out.push({ start, end: sorted[i + 1]!, entries });
  }
  return out;
}

/** Host-backed guest bytes of a layer alone: qcow2, entries with an offset; raw, data (SEEK_DATA) entries. */
export function hostBackedBytes(dir: string, file: string, format: string): number {
  const entries = qemuMapEntries(dir, file, format, true);
  return entries.reduce((sum, e) => sum + ((format === 'raw' ? e.data : e.offset !== undefined) ? e.length : 0), 0);
}

/** st_blocks × 512 of a file. */
export function diskUsageBytes(dir: string, file: string): number {
  return fs.statSync(path.join(dir, file)).blocks * 512;
}

/** Copies a directory's files keeping holes. */
export function copySparse(fromDir: string, toDir: string): void {
  fs.mkdirSync(toDir, { recursive: true });
  for (const name of fs.readdirSync(fromDir)) {
    if (fs.statSync(path.join(fromDir, name)).isFile()) runOk(['cp', '--sparse=always', name, path.join(toDir, name)], fromDir);
  }
}

/** What `qemu-img check --output=json` says of a qcow2 file: image end offset and data clusters. */
export function qemuCheck(dir: string, file: string): { imageEndOffset: number; allocatedClusters: number } {
  const out = JSON.parse(runOk(['qemu-img', 'check', '--output=json', '-f', 'qcow2', file], dir)) as Record<string, unknown>;
  // qemu-img leaves out the counts that are 0.
  return { imageEndOffset: Number(out['image-end-offset'] ?? 0), allocatedClusters: Number(out['allocated-clusters'] ?? 0) };
}

/**
 * Host clusters of a qcow2 file with a nonzero refcount (data and
 * metadata), read straight from its header, refcount table and blocks:
 * qemu-img check counts data clusters only.
 */
export function refcountedClusters(dir: string, file: string): number {
  const buf = fs.readFileSync(path.join(dir, file));
  const version = buf.readUInt32BE(4);
  const clusterBits = buf.readUInt32BE(20);
  const clusterBytes = 2 ** clusterBits;
  const tableOffset = Number(buf.readBigUInt64BE(48));
  const tableClusters = buf.readUInt32BE(56);
  const bits = 2 ** (version >= 3 ? buf.readUInt32BE(96) : 4);
  const perBlock = (clusterBytes * 8) / bits;
  let count = 0;
  for (let index = 0; index < (tableClusters * clusterBytes) / 8; index++) {
    const block = Number(buf.readBigUInt64BE(tableOffset + index * 8) & ~0x1ffn);
    if (block === 0) continue;
    for (let i = 0; i < perBlock; i++) {
      let value = 0n;
      if (bits >= 8) {
        for (let b = 0; b < bits / 8; b++) value = value * 256n + BigInt(buf[block + (i * bits) / 8 + b] ?? 0);
      } else {
        value = BigInt(((buf[block + Math.floor((i * bits) / 8)] ?? 0) >> ((i * bits) % 8)) & ((1 << bits) - 1));
      }
      if (value !== 0n) count++;
    }
  }
  return count;
}
