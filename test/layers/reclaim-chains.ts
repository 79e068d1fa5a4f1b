/**
 * Random two-layer chains for the reclaim tier: a qcow2 or raw base file,
 * one qcow2 top committed in the tests, and sibling overlays sharing the
 * base. A recipe is a pure function of the Rng (shell lines, run with bash
 * in the chain's directory), so a failure replays from its seed.
 */
import type { Rng } from '../support/prng.js';

const KiB = 1024;
const MiB = 1024 * KiB;
export const CLUSTER_SIZES = [512, KiB, 2 * KiB, 4 * KiB, 16 * KiB, 64 * KiB, 256 * KiB, MiB, 2 * MiB];

export interface Qcow2Layout {
  clusterBytes: number;
  compat: '0.10' | '1.1';
  extendedL2: boolean;
  /** v3 only; 16 (QEMU's default) unless said. */
  refcountBits?: number;
}

/** empty: nothing written; half / nearly-full: one write over 50% / 95% of it, then random operations. */
export type BaseFill = 'random' | 'empty' | 'half' | 'nearly-full';

export interface ReclaimChain {
  base: {
    file: string; format: 'qcow2' | 'raw'; sizeBytes: number; layout: Qcow2Layout | null; hasBackingFile: boolean;
    /** How much of a qcow2 base is written before the top is made. */
    fill: BaseFill;
  };
  top: { file: string; sizeBytes: number; layout: Qcow2Layout };
  siblings: string[];
  /** bash lines that build everything. */
  lines: string[];
}

function layout(rng: Rng, allowV2: boolean): Qcow2Layout {
  const clusterBytes = rng.pick(CLUSTER_SIZES);
  const compat = allowV2 && rng.chance(0.25) ? '0.10' : '1.1';
  const extendedL2 = compat === '1.1' && clusterBytes >= 16 * KiB && rng.chance(0.3);
  return { clusterBytes, compat, extendedL2 };
}

function createQcow2(file: string, size: number, l: Qcow2Layout, backing?: { file: string; format: string }, prealloc = false): string {
  const opts = [`cluster_size=${l.clusterBytes}`, `compat=${l.compat}`];
  if (l.extendedL2) opts.push('extended_l2=on');
  if (l.refcountBits !== undefined) opts.push(`refcount_bits=${l.refcountBits}`);
  if (prealloc) opts.push('preallocation=metadata');
  const b = backing === undefined ? '' : ` -b ${backing.file} -F ${backing.format}`;
  return `qemu-img create -q -f qcow2 -o ${opts.join(',')}${b} ${file} ${size}`;
}

/** An offset/length pair inside [0, size): mostly 512-aligned, sometimes cluster-aligned, rarely byte-exact. */
function range(rng: Rng, size: number, cluster: number): [number, number] {
  const unit = rng.weighted<number>([[512, 6], [Math.min(cluster, 64 * KiB), 3], [1, 1]]);
  const length = Math.max(unit, Math.round(rng.logInt(512, Math.max(512, Math.min(size, 4 * MiB))) / unit) * unit);
  const maxStart = Math.max(0, size - length);
  const start = Math.floor(rng.int(0, maxStart) / unit) * unit;
  return [start, Math.min(length, size - start)];
}

/** qemu-io commands: data writes, zero writes with and without unmap, discards (after, maybe, one compressed cluster). */
function ops(rng: Rng, size: number, cluster: number, count: number, compressed = false): string[] {
  const cmds: string[] = [];
  const clusters = Math.floor(size / cluster);
  if (compressed && clusters > 0 && rng.chance(0.25)) cmds.push(`write -c -P ${rng.int(1, 255)} ${rng.int(0, clusters - 1) * cluster} ${cluster}`);
  for (let i = 0; i < count; i++) {
    const [off, len] = range(rng, size, cluster);
    if (len <= 0) continue;
    const kind = rng.weighted<string>([['write', 5], ['zero', 2], ['zerou', 2], ['discard', 1]]);
    if (kind === 'write') cmds.push(`write -P ${rng.int(1, 255)} ${off} ${len}`);
    else if (kind === 'zero') cmds.push(`write -z ${off} ${len}`);
    else if (kind === 'zerou') cmds.push(`write -z -u ${off} ${len}`);
    else cmds.push(`discard ${off} ${len}`);
  }
  return cmds;
}

const qemuIo = (file: string, format: string, cmds: readonly string[]): string =>
  cmds.length === 0 ? ':' : `qemu-io -f ${format} ${cmds.map((c) => `-c '${c}'`).join(' ')} ${file} >/dev/null`;

export function generateReclaimChain(rng: Rng): ReclaimChain {
  const lines: string[] = [];
  const isRaw = rng.chance(0.35);
  const baseSize = rng.logInt(64 * KiB, 48 * MiB);
  let base: ReclaimChain['base'];
  if (isRaw) {
    const size = rng.chance(0.5) ? baseSize : Math.ceil(baseSize / 512) * 512;
    base = { file: 'base.raw', format: 'raw', sizeBytes: size, layout: null, hasBackingFile: false, fill: 'random' };
    lines.push(`truncate -s ${size} base.raw`);
    lines.push(qemuIo('base.raw', 'raw', ops(rng, size, 4 * KiB, rng.int(0, 6))));
    // No unwritten extents (their SEEK_DATA answer depends on the page cache).
    lines.push('cp --sparse=always base.raw base.tmp && mv base.tmp base.raw');
  } else {
    const l = layout(rng, true);
    // Other refcount widths change how many clusters a refcount block covers.
    if (l.compat === '1.1' && rng.chance(0.25)) l.refcountBits = rng.pick([1, 2, 4, 8, 32, 64]);
    const size = Math.ceil(baseSize / 512) * 512;
    // Sometimes a three-layer chain: the backing file has a backing file of its own.
    const hasBackingFile = rng.chance(0.2);
    const fill = rng.weighted<BaseFill>([['random', 4], ['empty', 2], ['half', 2], ['nearly-full', 2]]);
    base = { file: 'base.qcow2', format: 'qcow2', sizeBytes: size, layout: l, hasBackingFile, fill };
    if (hasBackingFile) {
      const lowerSize = rng.chance(0.5) ? size : Math.ceil(size * (0.5 + rng.float()) / 512) * 512;
      lines.push(createQcow2('lower.qcow2', lowerSize, layout(rng, true)));
      lines.push(qemuIo('lower.qcow2', 'qcow2', ops(rng, lowerSize, 64 * KiB, rng.int(1, 6))));
    }
    const prealloc = !hasBackingFile && rng.chance(0.1);
    lines.push(createQcow2('base.qcow2', size, l, hasBackingFile ? { file: 'lower.qcow2', format: 'qcow2' } : undefined, prealloc));
    if (fill === 'half' || fill === 'nearly-full') {
      const written = Math.floor((size * (fill === 'half' ? 0.5 : 0.95)) / 512) * 512;
      const start = Math.floor(rng.int(0, size - written) / 512) * 512;
      lines.push(qemuIo('base.qcow2', 'qcow2', [`write -P ${rng.int(1, 255)} ${start} ${written}`]));
    }
    // A compressed write needs a cluster not yet allocated.
    if (fill !== 'empty') lines.push(qemuIo('base.qcow2', 'qcow2', ops(rng, size, l.clusterBytes, rng.int(0, 6), !prealloc && fill === 'random')));
  }
  const qemuBaseSize = Math.ceil(base.sizeBytes / 512) * 512;
  const topSize = rng.weighted<number>([
    [qemuBaseSize, 5],
    [Math.ceil(qemuBaseSize * (1 + rng.float()) / 512) * 512, 2],
    [Math.max(512, Math.floor(qemuBaseSize * (0.3 + 0.6 * rng.float()) / 512) * 512), 2],
  ]);
  const topLayout = layout(rng, true);
  const top = { file: 'top.qcow2', sizeBytes: topSize, layout: topLayout };
  const backing = { file: base.file, format: base.format };
  const topPrealloc = topLayout.extendedL2 && rng.chance(0.3); // with a backing file, only extended L2 allows it
  lines.push(createQcow2(top.file, topSize, topLayout, backing, topPrealloc));
  lines.push(qemuIo(top.file, 'qcow2', ops(rng, topSize, topLayout.clusterBytes, rng.int(1, 10), !topPrealloc)));
  const siblings: string[] = [];
  for (let i = 0, n = rng.int(1, 3); i < n; i++) {
    const file = `sib${i}.qcow2`;
    const l = layout(rng, false);
    const size = rng.chance(0.7) ? qemuBaseSize : topSize;
    lines.push(createQcow2(file, size, l, backing));
    lines.push(qemuIo(file, 'qcow2', ops(rng, size, l.clusterBytes, rng.int(0, 8))));
    siblings.push(file);
  }
  return { base, top, siblings, lines };
}
