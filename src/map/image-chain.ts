/**
 * The library API the scanner and the CLI use: open an image with its
 * backing chain, read per-layer metadata, and stream qemu-img map's merged
 * entries without holding them in memory.
 *
 * ### Example
 * ```ts
 * const chain = ImageChain.open('vm.qcow2');
 * try {
 *   for await (const entry of chain.entries()) console.log(entry);
 * } finally {
 *   chain.close();
 * }
 * ```
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { ImageLayer, LayerSnapshot } from '../formats/types.js';
import type { HostFile } from '../io/host-file.js';
import { type OpenChainOptions, openChain } from './chain.js';
import { type EmittedEntry, type MapRangeOptions, mapEntries, walkEntries } from './map-entries.js';
import { ChainPrefetch, type PrefetchLimits } from './prefetch.js';
import type { MapEntry } from './map-entry.js';

/** Identity and size of a host file, for change detection and disk usage. */
export interface FileIdentity {
  path: string;
  dev: number;
  ino: number;
  sizeBytes: number;
  /** st_blocks × 512. */
  allocatedBytes: number;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

/** Metadata of one chain layer (depth = index). */
export interface ChainLayerInfo {
  depth: number;
  /** Name as opened (resolved backing path for depth ≥ 1). */
  filename: string;
  format: string;
  virtualSizeBytes: number;
  /** Backing name exactly as stored in this layer, or null. */
  backingName: string | null;
  backingFormat: string | null;
  clusterSizeBytes: number | null;
  version: string | null;
  flags: string[];
  file: FileIdentity;
  /** Data files / extents this layer reads besides its own file. */
  extraFiles: FileIdentity[];
  /** Internal snapshots stored in this layer (qcow2); empty for other formats. */
  snapshots: { id: string; name: string; createdAtMs: number; vmStateBytes: number }[];
}

/** Entries between two yields to the event loop in `entries()`. */
const ENTRIES_PER_TURN = 4096;

/** Identity and size of an opened host file. */
export function fileIdentity(file: HostFile): FileIdentity {
  return {
    path: file.filename, dev: file.dev, ino: file.ino, sizeBytes: file.sizeBytes,
    allocatedBytes: file.allocatedBytes, mtimeNs: file.mtimeNs, ctimeNs: file.ctimeNs,
  };
}

/** Metadata of one opened layer at `depth`. */
export function describeLayer(layer: ImageLayer, depth: number): ChainLayerInfo {
  return {
    depth,
    filename: layer.filename,
    format: layer.format,
    virtualSizeBytes: layer.virtualSizeBytes,
    backingName: layer.backing?.name ?? null,
    backingFormat: layer.backing?.format ?? null,
    clusterSizeBytes: layer.details.clusterSizeBytes ?? null,
    version: layer.details.version ?? null,
    flags: layer.details.flags ?? [],
    file: fileIdentity(layer.file),
    extraFiles: layer.extraFiles.map(fileIdentity),
    snapshots: (layer.details.snapshots ?? []).map((s: LayerSnapshot) => ({ ...s })),
  };
}

export class ImageChain {
  /** Layer metadata; layers[0] is the image itself. */
  readonly layers: readonly ChainLayerInfo[];
  private readonly opened: ReturnType<typeof openChain>;

  private constructor(opened: ReturnType<typeof openChain>) {
    this.opened = opened;
    this.layers = opened.layers.map(describeLayer);
  }

  /** Opens `filename` read-only with its backing chain (throws ImgauditError subclasses). */
  static open(filename: string, options: OpenChainOptions = {}): ImageChain {
    return new ImageChain(openChain(filename, options));
  }

  get virtualSizeBytes(): number {
    return this.opened.layers[0]!.virtualSizeBytes;
  }

  /** qemu-img map's entries with end-of-stream markers (for exact printing). */
  emitted(range: MapRangeOptions = {}): Generator<EmittedEntry> {
    return mapEntries(this.opened.layers, range);
  }

  /**
   * qemu-img map's entries with end-of-stream markers, the chain's tables
   * staged ahead of the walk (map/prefetch.ts): `onEntry` is called for
   * each entry, and awaited when it returns a promise (backpressure).
   */
  async forEachEmitted(
    range: MapRangeOptions, onEntry: (emitted: EmittedEntry) => void | Promise<void>, limits?: PrefetchLimits,
  ): Promise<void> {
    const start = Number(range.startOffsetBytes ?? 0n);
    const prefetch = new ChainPrefetch(this.opened.layers, Math.min(start, this.virtualSizeBytes), this.virtualSizeBytes, limits);
    try {
      for (const item of walkEntries(this.opened.layers, range, prefetch.pause)) {
        if (typeof item === 'number') {
          await prefetch.fill(item);
          continue;
        }
        const pending = onEntry(item);
        if (pending !== undefined) await pending;
      }
    } finally {
      prefetch.close();
    }
  }

  /** Merged map entries, synchronously. */
  *entriesSync(range: MapRangeOptions = {}): Generator<MapEntry> {
    for (const emitted of mapEntries(this.opened.layers, range)) yield emitted.entry;
  }

  /** Merged map entries, yielding to the event loop now and then. */
  async *entries(range: MapRangeOptions = {}): AsyncGenerator<MapEntry> {
    let sinceYield = 0;
    for (const emitted of mapEntries(this.opened.layers, range)) {
      yield emitted.entry;
      if (++sinceYield >= ENTRIES_PER_TURN) {
        sinceYield = 0;
        await yieldToEventLoop();
      }
    }
  }

  close(): void {
    this.opened.close();
  }
}
