/**
 * Hand-built qcow2 images (docs/interop/qcow2.txt) for tests that need
 * layouts qemu-img will not produce on request: guest offsets above 2 TiB,
 * L2 tables and data clusters at host offsets above 4 GiB, holes under
 * allocated clusters. The builder writes header, extensions, refcount table
 * and blocks, L1 and L2 tables into a sparse file (ftruncate + positioned
 * writes) and returns the layout it declared, with every host offset, so a
 * test can derive the expected map without QEMU (see qcow2-model.ts).
 *
 * Standard (non-extended) L2 entries only; refcounts are exact (every used
 * cluster has refcount 1), so `qemu-img check` accepts the result.
 */
import fs from 'node:fs';

/** What one guest cluster holds. */
export type ClusterKind = 'data' | 'zero' | 'zero-alloc';

export interface ClusterSpec {
  /** Guest byte offset, cluster-aligned. */
  guest: number;
  kind: ClusterKind;
  /** Host offset (cluster-aligned) for data / zero-alloc; allocated after the metadata if absent. */
  host?: number;
  /** Byte written over the whole host cluster; null leaves a hole. Default 0xa5 for data. */
  fill?: number | null;
}

export interface Qcow2Spec {
  virtualSize: number;
  clusterBits?: number;
  version?: 2 | 3;
  refcountOrder?: number;
  backing?: { name: string; format?: string };
  /** External data file name stored in the header (host offset = guest offset). */
  dataFile?: string;
  clusters?: ClusterSpec[];
  /** Host offsets of L2 tables by L1 index (others are allocated after the L1 table). */
  l2At?: Record<number, number>;
  /** L1 entries (default: the minimum for the virtual size). */
  l1Size?: number;
}

/** A cluster as written: host offset resolved (undefined for 'zero'). */
export interface BuiltCluster extends ClusterSpec { host?: number }

export interface BuiltQcow2 {
  path: string;
  clusterSize: number;
  virtualSize: number;
  clusters: BuiltCluster[];
  l1Offset: number;
  l1Size: number;
  l2Offsets: Map<number, number>;
  refcountTableOffset: number;
  refcountBlocks: Map<number, number>;
  /** Host clusters with refcount 1. */
  usedClusters: number;
  fileSize: number;
}

const COPIED = 1n << 63n;
const HEADER_LENGTH = 112;

class HostAllocator {
  readonly used = new Set<number>();
  private next = 0;
  constructor(private readonly clusterSize: number) {}
  reserve(offset: number, clusters = 1): number {
    if (offset % this.clusterSize !== 0) throw new Error(`builder: host offset ${offset} not cluster-aligned`);
    for (let i = 0; i < clusters; i++) {
      const index = offset / this.clusterSize + i;
      if (this.used.has(index)) throw new Error(`builder: host cluster ${index} used twice`);
      this.used.add(index);
    }
    return offset;
  }
  allocate(clusters = 1): number {
    for (;;) {
      let free = true;
      for (let i = 0; i < clusters && free; i++) free = !this.used.has(this.next + i);
      if (free) return this.reserve(this.next * this.clusterSize, clusters);
      this.next++;
    }
  }
}

/** Writes the image described by `spec` to `path` and returns its declared layout. */
export function buildQcow2(path: string, spec: Qcow2Spec): BuiltQcow2 {
  const clusterBits = spec.clusterBits ?? 16;
  const cs = 2 ** clusterBits;
  const l2Span = (cs / 8) * cs;
  const l1Size = spec.l1Size ?? Math.ceil(spec.virtualSize / l2Span);
  const order = spec.refcountOrder ?? 4;
  const perBlock = (cs * 8) / 2 ** order;
  const clusterSpecs = [...(spec.clusters ?? [])].sort((a, b) => a.guest - b.guest);

  for (let reftableClusters = 1; ; reftableClusters *= 2) {
    const alloc = new HostAllocator(cs);
    alloc.reserve(0);
    const refcountTableOffset = alloc.allocate(reftableClusters);
    const l1Offset = alloc.allocate(Math.max(1, Math.ceil((l1Size * 8) / cs)));
    for (const at of Object.values(spec.l2At ?? {})) alloc.reserve(at);
    for (const c of clusterSpecs) if (c.host !== undefined && !spec.dataFile) alloc.reserve(c.host);
    const l2Offsets = new Map<number, number>();
    for (const c of clusterSpecs) {
      const l1Index = Math.floor(c.guest / l2Span);
      if (!l2Offsets.has(l1Index)) l2Offsets.set(l1Index, spec.l2At?.[l1Index] ?? alloc.allocate());
    }
    const clusters: BuiltCluster[] = clusterSpecs.map((c) => {
      if (c.kind === 'zero') return { ...c, host: undefined };
      if (spec.dataFile) return { ...c, host: c.guest };
      return { ...c, host: c.host ?? alloc.allocate() };
    });
    const refcountBlocks = new Map<number, number>();
    for (let changed = true; changed;) {
      changed = false;
      for (const index of [...alloc.used]) {
        const block = Math.floor(index / perBlock);
        if (!refcountBlocks.has(block)) {
          refcountBlocks.set(block, alloc.allocate());
          changed = true;
        }
      }
    }
    if (Math.max(...refcountBlocks.keys()) >= (reftableClusters * cs) / 8) continue;
    const built: BuiltQcow2 = {
      path, clusterSize: cs, virtualSize: spec.virtualSize, clusters, l1Offset, l1Size, l2Offsets,
      refcountTableOffset, refcountBlocks, usedClusters: alloc.used.size,
      fileSize: (Math.max(...alloc.used) + 1) * cs,
    };
    writeImage(built, spec, clusterBits, order, reftableClusters, alloc.used);
    return built;
  }
}

function headerCluster(built: BuiltQcow2, spec: Qcow2Spec, clusterBits: number, order: number, reftableClusters: number): Buffer {
  const head = Buffer.alloc(built.clusterSize);
  const v3 = (spec.version ?? 3) === 3;
  head.writeUInt32BE(0x514649fb, 0);
  head.writeUInt32BE(v3 ? 3 : 2, 4);
  head.writeUInt32BE(clusterBits, 20);
  head.writeBigUInt64BE(BigInt(spec.virtualSize), 24);
  head.writeUInt32BE(built.l1Size, 36);
  head.writeBigUInt64BE(BigInt(built.l1Offset), 40);
  head.writeBigUInt64BE(BigInt(built.refcountTableOffset), 48);
  head.writeUInt32BE(reftableClusters, 56);
  let at = 72;
  if (v3) {
    if (spec.dataFile) head.writeBigUInt64BE(1n << 2n, 72);
    head.writeUInt32BE(order, 96);
    head.writeUInt32BE(HEADER_LENGTH, 100);
    at = HEADER_LENGTH;
    const extension = (type: number, body: Buffer) => {
      head.writeUInt32BE(type, at);
      head.writeUInt32BE(body.length, at + 4);
      body.copy(head, at + 8);
      at += 8 + ((body.length + 7) & ~7);
    };
    if (spec.backing?.format) extension(0xe2792aca, Buffer.from(spec.backing.format, 'latin1'));
    if (spec.dataFile) extension(0x44415441, Buffer.from(spec.dataFile, 'latin1'));
    extension(0, Buffer.alloc(0));
  } else if (order !== 4) {
    throw new Error('builder: v2 images have 16-bit refcounts');
  }
  if (spec.backing) {
    const name = Buffer.from(spec.backing.name, 'latin1');
    head.writeBigUInt64BE(BigInt(at), 8);
    head.writeUInt32BE(name.length, 16);
    name.copy(head, at);
  }
  return head;
}

function writeImage(built: BuiltQcow2, spec: Qcow2Spec, clusterBits: number, order: number,
  reftableClusters: number, used: Set<number>): void {
  const cs = built.clusterSize;
  const l2Span = (cs / 8) * cs;
  const fd = fs.openSync(built.path, 'w');
  const put = (buffer: Buffer, offset: number) => {
    for (let done = 0; done < buffer.length;) done += fs.writeSync(fd, buffer, done, buffer.length - done, offset + done);
  };
  try {
    fs.ftruncateSync(fd, built.fileSize);
    put(headerCluster(built, spec, clusterBits, order, reftableClusters), 0);
    const reftable = Buffer.alloc(reftableClusters * cs);
    for (const [block, offset] of built.refcountBlocks) reftable.writeBigUInt64BE(BigInt(offset), block * 8);
    put(reftable, built.refcountTableOffset);
    const perBlock = (cs * 8) / 2 ** order;
    for (const [block, offset] of built.refcountBlocks) {
      const table = Buffer.alloc(cs);
      for (let i = 0; i < perBlock; i++) if (used.has(block * perBlock + i)) setRefcountOne(table, i, order);
      put(table, offset);
    }
    const l1 = Buffer.alloc(Math.max(cs, Math.ceil((built.l1Size * 8) / cs) * cs));
    const l2Tables = new Map<number, Buffer>();
    for (const [index, offset] of built.l2Offsets) {
      l1.writeBigUInt64BE(BigInt(offset) | COPIED, index * 8);
      l2Tables.set(index, Buffer.alloc(cs));
    }
    for (const c of built.clusters) {
      const table = l2Tables.get(Math.floor(c.guest / l2Span))!;
      const entry = c.kind === 'zero' ? 1n : BigInt(c.host!) | COPIED | (c.kind === 'zero-alloc' ? 1n : 0n);
      table.writeBigUInt64BE(entry, ((c.guest % l2Span) / cs) * 8);
      const fill = c.fill === undefined ? (c.kind === 'data' ? 0xa5 : null) : c.fill;
      if (fill !== null && !spec.dataFile) put(Buffer.alloc(cs, fill), c.host!);
    }
    put(l1, built.l1Offset);
    for (const [index, table] of l2Tables) put(table, built.l2Offsets.get(index)!);
    fs.fsyncSync(fd); // st_blocks (the preallocation heuristic's input) settles before anyone maps
  } finally {
    fs.closeSync(fd);
  }
}

/** Sets entry `index` of a refcount block to 1 (sub-byte widths are LSB-first, as QEMU reads them). */
function setRefcountOne(block: Buffer, index: number, order: number): void {
  if (order >= 3) {
    const width = 2 ** (order - 3);
    block[index * width + width - 1] = 1;
    return;
  }
  const bits = 2 ** order;
  const perByte = 8 / bits;
  block[Math.floor(index / perByte)]! |= 1 << (bits * (index % perByte));
}
