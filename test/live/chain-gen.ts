/**
 * Random backing chains for the live differential tier. A recipe is a pure
 * function of the Rng: the qemu commands that build the chain and the map
 * argument lists to compare. Sizes stay small and sparse (≤ 384 MiB virtual,
 * a few MiB of real data).
 */
import type { Rng } from '../support/prng.js';
import { create, io, op, sparsify, truncate, type Cmd } from '../support/qemu.js';

const KiB = 1024;
const MiB = 1024 * KiB;
export const CLUSTER_SIZES = [512, KiB, 2 * KiB, 4 * KiB, 16 * KiB, 64 * KiB, 256 * KiB, MiB, 2 * MiB];
const MAX_SIZE = 384 * MiB;
/** Real bytes a chain may write (data writes, compressed clusters, v2 zero writes). */
const DATA_BUDGET = 8 * MiB;
const INT64_MAX = '9223372036854775807';

export interface Layer {
  file: string;
  fmt: 'raw' | 'qcow2';
  /** Size as given to create/truncate (bytes, maybe unaligned). */
  size: number;
  /** Bytes qemu-io may touch: the 512-rounded virtual size (qcow2) or the file size (raw). */
  limit: number;
  cluster: number;
  compat: '0.10' | '1.1';
  extL2: boolean;
  prealloc: boolean;
}

export interface ChainRecipe {
  layers: Layer[];
  cmds: Cmd[];
  /** Argument lists after `map`, run in the chain directory. */
  maps: string[][];
}

const roundUp = (n: number, a: number): number => Math.ceil(n / a) * a;

function layerSize(rng: Rng, scale: number, cluster: number, raw: boolean): number {
  let size = rng.chance(0.35) ? scale : Math.round(scale * (0.25 + 1.5 * rng.float()));
  const max = raw ? MAX_SIZE : Math.min(MAX_SIZE, cluster * 32768);
  size = Math.max(512, Math.min(max, size));
  if (raw) return rng.chance(0.6) ? size : roundUp(size, 512);
  if (rng.chance(0.2)) return size; // qemu-img create rounds it up to 512
  size = roundUp(size, 512);
  if (size % cluster === 0 && cluster > 512 && rng.chance(0.85)) size += 512 * rng.int(1, cluster / 512 - 1);
  return size;
}

function makeLayers(rng: Rng, sub: boolean): Layer[] {
  const depth = rng.int(1, 4);
  const scale = rng.logInt(16 * KiB, MAX_SIZE);
  const layers: Layer[] = [];
  for (let i = 0; i < depth; i++) {
    const dir = sub && i < depth - 1 ? 'sub/' : '';
    if (i === 0 && rng.chance(0.2)) {
      const size = layerSize(rng, scale, 512, true);
      const file = `${dir}l0.raw`;
      layers.push({ file, fmt: 'raw', size, limit: size, cluster: 512, compat: '1.1', extL2: false, prealloc: false });
      continue;
    }
    const cluster = rng.pick(CLUSTER_SIZES);
    const compat = rng.chance(0.3) ? '0.10' : '1.1';
    const extL2 = compat === '1.1' && cluster >= 16 * KiB && rng.chance(0.35);
    // qemu refuses preallocation together with a backing file unless extended_l2 is on.
    const prealloc = rng.chance(0.1) && (i === 0 || extL2);
    const size = layerSize(rng, scale, cluster, false);
    const file = `${dir}l${i}.qcow2`;
    layers.push({ file, fmt: 'qcow2', size, limit: roundUp(size, 512), cluster, compat, extL2, prealloc });
  }
  return layers;
}

/** Backing name as stored in `upper`: relative to upper's directory. */
function backingName(upper: Layer, lower: Layer): string {
  const upperInSub = upper.file.startsWith('sub/');
  return upperInSub ? lower.file.slice(4) : lower.file;
}

class OpGen {
  budget = DATA_BUDGET;
  constructor(
    private readonly rng: Rng,
    private readonly anchors: number[],
  ) {}

  /** A random range inside [0, layer.limit), or undefined when none fits. */
  private range(layer: Layer, maxLen: number): [number, number] | undefined {
    const { rng } = this;
    const sub = Math.max(512, layer.cluster / (layer.extL2 ? 32 : 1));
    const grain = rng.weighted<number>([[512, 4], [layer.cluster, 3], [sub, 2], [4096, 1], [1, 1]]);
    let off = rng.chance(0.25) ? rng.int(0, layer.limit) : rng.pick(this.anchors) + rng.int(-6, 6) * grain;
    off = Math.max(0, Math.floor(off / grain) * grain);
    if (off >= layer.limit) off = Math.max(0, Math.floor((layer.limit - 1) / grain) * grain);
    const units = Math.max(1, Math.floor(maxLen / grain));
    const len = Math.min(grain * rng.logInt(1, Math.max(1, units)), layer.limit - off);
    return len > 0 ? [off, len] : undefined;
  }

  /** Host bytes a write of [off, off+len) may allocate in `layer`. */
  private cost(layer: Layer, off: number, len: number): number {
    if (layer.fmt === 'raw') return len;
    return roundUp(off + len, layer.cluster) - Math.floor(off / layer.cluster) * layer.cluster;
  }

  private spend(layer: Layer, off: number, len: number): boolean {
    const c = this.cost(layer, off, len);
    if (c > this.budget) return false;
    this.budget -= c;
    return true;
  }

  /** Compressed writes: whole (or the last, partial) clusters not yet allocated in this layer. */
  compressed(layer: Layer): string[] {
    if (layer.fmt !== 'qcow2' || layer.prealloc || !this.rng.chance(0.3)) return [];
    const clusters = Math.ceil(layer.limit / layer.cluster);
    const picked = new Set<number>();
    const n = this.rng.int(1, Math.min(3, clusters));
    for (let k = 0; k < n * 3 && picked.size < n; k++) {
      const near = Math.floor(this.rng.pick(this.anchors) / layer.cluster) + this.rng.int(-2, 2);
      picked.add(Math.min(clusters - 1, Math.max(0, this.rng.chance(0.3) ? this.rng.int(0, clusters - 1) : near)));
    }
    const ops: string[] = [];
    for (const c of [...picked].sort((a, b) => a - b)) {
      const off = c * layer.cluster;
      const len = Math.min(layer.cluster, layer.limit - off);
      if (this.spend(layer, off, len)) ops.push(op.compressed(off, len, this.rng.int(1, 255)));
    }
    return ops;
  }

  /** One random data write, zero write (with/without unmap) or discard. */
  one(layer: Layer): string | undefined {
    const { rng } = this;
    const kind = rng.weighted<'write' | 'zero' | 'zeroU' | 'discard'>([
      ['write', 5], ['zero', 2], ['zeroU', 2], ['discard', 2],
    ]);
    const cheap = kind === 'discard' || (kind !== 'write' && (layer.fmt === 'raw' || layer.compat === '1.1'));
    const r = this.range(layer, cheap && rng.chance(0.5) ? layer.limit : Math.min(MiB, 4 * layer.cluster));
    if (r === undefined) return undefined;
    const [off, len] = r;
    if (!cheap && !this.spend(layer, off, len)) return undefined;
    if (kind === 'write') return op.write(off, len, rng.int(1, 255));
    if (kind === 'discard') return op.discard(off, len);
    return op.zero(off, len, kind === 'zeroU');
  }
}

/** A random `-s`/`-l` window over an image of `size` bytes (512-rounded virtual size). */
function windowArgs(rng: Rng, size: number, anchors: number[]): string[] {
  const start = rng.weighted<() => number>([
    [() => rng.int(0, size >> 9) * 512, 3],
    [() => rng.int(0, size), 3],
    [() => rng.pick(anchors), 2],
    [() => 0, 1],
    [() => size + rng.int(0, 65536), 1],
  ])();
  const long = rng.chance(0.5);
  const args = [...(long ? [`--start-offset=${start}`] : ['-s', String(start)])];
  const length = rng.weighted<() => string | undefined>([
    [() => undefined, 3],
    [() => String(rng.logInt(1, Math.max(1, size))), 4],
    [() => '0', 1],
    [() => INT64_MAX, 1],
  ])();
  if (length !== undefined) args.push(...(long ? [`--max-length=${length}`] : ['-l', length]));
  return args;
}

export function generateChain(rng: Rng): ChainRecipe {
  const sub = rng.chance(0.2);
  const layers = makeLayers(rng, sub);
  const anchors = [0, ...layers.map((l) => l.size), ...layers.map((l) => rng.int(0, l.limit))];
  const gen = new OpGen(rng, anchors);
  const cmds: Cmd[] = sub ? [['mkdir', '-p', 'sub']] : [];
  const deferred: Cmd[] = [];
  layers.forEach((layer, i) => {
    const lower = layers[i - 1];
    if (layer.fmt === 'raw') cmds.push(truncate(layer.file, layer.size));
    else {
      const opts = {
        cluster_size: layer.cluster,
        compat: layer.compat,
        extended_l2: layer.extL2,
        preallocation: layer.prealloc ? 'metadata' : undefined,
      };
      const backing = lower && { file: backingName(layer, lower), fmt: lower.fmt };
      cmds.push(create(layer.file, 'qcow2', layer.size, opts, backing));
    }
    const now = gen.compressed(layer);
    const later: string[] = [];
    const n = rng.int(0, 7);
    for (let k = 0; k < n; k++) {
      const o = gen.one(layer);
      if (o !== undefined) (rng.chance(0.7) ? now : later).push(o);
    }
    if (now.length > 0) cmds.push(io(layer.file, layer.fmt, now));
    if (later.length > 0) deferred.push(io(layer.file, layer.fmt, later));
  });
  cmds.push(...deferred);
  // ext4 unwritten extents (zero writes, qcow2 COW) make SEEK_DATA depend on the page cache.
  for (const layer of layers) cmds.push(...sparsify(layer.file));

  const top = layers[layers.length - 1] as Layer;
  const fmtArgs = (l: Layer): string[] => (rng.chance(0.5) ? ['-f', l.fmt] : []);
  // Human output: sometimes by default (no --output), sometimes spelled out.
  const both = (pre: string[], file: string): string[][] => [
    [...pre, '--output=json', file],
    [...pre, ...(rng.chance(0.3) ? [] : ['--output=human']), file],
  ];
  const topPre = [...fmtArgs(top), ...(rng.chance(0.2) ? ['-U'] : [])];
  const maps = both(topPre, top.file);
  if (layers.length > 1) {
    const lower = layers[rng.int(0, layers.length - 2)] as Layer;
    maps.push(...both(fmtArgs(lower), lower.file));
  }
  const win = windowArgs(rng, roundUp(top.size, 512), anchors);
  maps.push([...topPre, `--output=${rng.pick(['json', 'human'])}`, ...win, top.file]);
  return { layers, cmds, maps };
}
