/**
 * Staging a chain's metadata tables ahead of the walk. Each layer names the
 * tables its top-level table points to (ImageLayer.tableReads, in guest
 * order); the walk pauses at guest offsets this module chooses, and each
 * pause reads the next tables of every layer together, asynchronously
 * (HostFile.stage), bounded in bytes and count. The synchronous format code
 * then finds them staged. So one image costs about one round trip to the
 * storage per level of its tables, not one per table. No table is staged
 * twice, and a staged table the walk has passed without taking is dropped.
 * Where this thread's reads come from the page cache (a read in less than
 * 50 µs: a copy), nothing is staged: the hop to libuv's threads and back
 * would cost more than the reads.
 */
import type { ImageLayer, TableRead } from '../formats/types.js';
import { CACHED_READ_MICROS, type HostFile, type StagedRange, readsWait } from '../io/host-file.js';
import type { PausePoint } from './map-entries.js';

/** How much one chain stages ahead at most, and from which read time on. */
export interface PrefetchLimits {
  maxBytes: number;
  maxReads: number;
  /** Stage only when this thread's recent synchronous reads took at least this long (µs). */
  stageAboveMicros: number;
}

/** 8 MiB or 128 tables ahead per chain: one round trip covers ~40 scattered L2 tables, memory stays small. */
export const DEFAULT_PREFETCH_LIMITS: PrefetchLimits = { maxBytes: 8 * 1024 * 1024, maxReads: 128, stageAboveMicros: CACHED_READ_MICROS };



interface Source {
  tables: Iterator<TableRead>;
  next: TableRead | undefined;
}

/** The staging schedule of one chain walk over guest bytes [fromBytes, toBytes). */
export class ChainPrefetch {
  /** Where the walk pauses next (walkEntries); the first pause fills. */
  readonly pause: PausePoint;
  private readonly sources: Source[] = [];
  /** Staged tables not yet passed by the walk, in guest order. */
  private staged: TableRead[] = [];
  private stagedBytes = 0;
  private readonly planned = new Map<HostFile, Set<number>>();

  constructor(layers: readonly ImageLayer[], fromBytes: number, toBytes: number, private readonly limits = DEFAULT_PREFETCH_LIMITS) {
    for (const layer of layers) {
      if (layer.tableReads === undefined) continue;
      const tables = layer.tableReads(fromBytes, toBytes)[Symbol.iterator]();
      this.sources.push({ tables, next: undefined });
    }
    // Reads already taken from the page cache (the layers' own tables): walk without staging.
    if (!readsWait(limits.stageAboveMicros)) this.sources.length = 0;
    for (const source of this.sources) source.next = this.take(source);
    this.pause = { atBytes: this.sources.some((s) => s.next !== undefined) ? fromBytes : Infinity };
  }

  /** The next table of `source` not planned before (a table two L1 entries name is read once). */
  private take(source: Source): TableRead | undefined {
    for (;;) {
      const result = source.tables.next();
      if (result.done === true) return undefined;
      const table = result.value;
      let offsets = this.planned.get(table.file);
      if (offsets === undefined) this.planned.set(table.file, offsets = new Set());
      if (offsets.has(table.offsetBytes)) continue;
      offsets.add(table.offsetBytes);
      return table;
    }
  }

  /** The source whose next table starts first in guest order. */
  private earliest(): Source | undefined {
    let best: Source | undefined;
    for (const source of this.sources) {
      if (source.next !== undefined && (best === undefined || source.next.guestStartBytes < best.next!.guestStartBytes)) best = source;
    }
    return best;
  }

  /** Called at a pause at guest offset `positionBytes`: drops what was passed, stages what comes next. */
  async fill(positionBytes: number): Promise<void> {
    const kept: TableRead[] = [];
    for (const table of this.staged) {
      if (table.guestEndBytes > positionBytes) {
        kept.push(table);
      } else {
        table.file.unstage(table.offsetBytes);
        this.stagedBytes -= table.lengthBytes;
      }
    }
    this.staged = kept;
    const batch = new Map<HostFile, StagedRange[]>();
    for (let source = this.earliest(); source !== undefined; source = this.earliest()) {
      const table = source.next!;
      if (this.staged.length >= this.limits.maxReads) break;
      if (this.staged.length > 0 && this.stagedBytes + table.lengthBytes > this.limits.maxBytes) break;
      source.next = this.take(source);
      this.staged.push(table);
      this.stagedBytes += table.lengthBytes;
      let ranges = batch.get(table.file);
      if (ranges === undefined) batch.set(table.file, ranges = []);
      ranges.push({ offsetBytes: table.offsetBytes, lengthBytes: table.lengthBytes });
    }
    await Promise.all([...batch].map(([file, ranges]) => file.stage(ranges)));
    this.pause.atBytes = this.nextPause(positionBytes);
  }

  /** Half-way through what is staged (never at or before `positionBytes`); never once all is staged. */
  private nextPause(positionBytes: number): number {
    if (this.earliest() === undefined) return Infinity;
    const middle = this.staged[Math.floor(this.staged.length / 2)];
    if (middle !== undefined && middle.guestStartBytes > positionBytes) return middle.guestStartBytes;
    return Math.max(positionBytes + 1, this.staged[0]?.guestEndBytes ?? positionBytes + 1);
  }

  /** Drops whatever is still staged. */
  close(): void {
    for (const table of this.staged) table.file.unstage(table.offsetBytes);
    this.staged = [];
    this.stagedBytes = 0;
  }
}
