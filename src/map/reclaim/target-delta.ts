/**
 * What the mirror's writes do to the backing file's host-backed bytes (the
 * guest bytes its map, mapped alone, gives a host offset — or, raw, the
 * file-system blocks holding data), counted per allocation unit: the qcow2
 * cluster, or the 4 KiB file-system block of a raw file.
 *
 *   copy  → every unit it touches is host-backed after (qcow2 allocates the
 *           whole cluster, a file system the whole block);
 *   zero  → every unit it covers is not (qcow2 v3 unmaps the cluster, v2
 *           without backing file discards it, raw punches a hole);
 *   the growth to the top's size (blk_truncate) extends only the last,
 *   partial unit of a host-backed tail.
 *
 * A unit is counted once (the first operation touching it decides: a unit
 * is either copied, maybe several times, or zeroed whole — never both).
 */
import type { MirrorOp, MirrorOpKind } from './mirror-steps.js';

/** A unit's state before the commit. */
export interface UnitBefore {
  /** False when the map given cannot tell (a gap that may hide host-backed, unallocated subclusters). */
  known: boolean;
  hostBacked: boolean;
  /** Its host-backed guest bytes below the backing's old size. */
  hostBackedBytes: number;
  /** Holds a compressed cluster (qcow2): what rewriting it frees cannot be told. */
  compressed?: boolean;
}

interface PendingUnit {
  unit: number;
  kind: MirrorOpKind;
  beforeBytes: number;
  wasHostBacked: boolean;
}

export class TargetDelta {
  /** Change of the host-backed bytes over every settled unit. */
  private settledBytes = 0;
  /** The last unit touched: settled once a later one is (it then lies wholly below the new size). */
  private pending: PendingUnit | undefined;
  private lastUnit = -1;
  private oldLastUnitTouched = false;
  /** An operation touched a unit whose state the map could not tell. */
  touchedUnknown = false;
  /** An operation touched a compressed cluster. */
  touchedCompressed = false;
  /** Units a copy gives host storage they had not (qcow2: data clusters allocated). */
  allocatedUnits = 0;
  /** Units a zero write takes host storage from (qcow2: data clusters freed). */
  freedUnits = 0;
  /** Operations by guest range, for what else they touch (qcow2: the L2 tables; see commit-host.ts). */
  onOp: ((op: MirrorOp) => void) | undefined;

  constructor(
    private readonly unitBytes: number,
    private readonly oldSizeBytes: number,
    private readonly before: (unit: number) => UnitBefore,
  ) {}

  /** Operations must come in start order. */
  apply(op: MirrorOp): void {
    this.onOp?.(op);
    const U = this.unitBytes;
    const first = op.kind === 'copy' ? Math.floor(op.startBytes / U) : Math.ceil(op.startBytes / U);
    const end = op.kind === 'copy' ? Math.ceil(op.endBytes / U) : Math.floor(op.endBytes / U);
    for (let unit = Math.max(first, this.lastUnit + 1); unit < end; unit++) {
      this.settle(Number.POSITIVE_INFINITY);
      const before = this.before(unit);
      if (!before.known) this.touchedUnknown = true;
      if (before.compressed === true) this.touchedCompressed = true;
      this.pending = { unit, kind: op.kind, beforeBytes: before.hostBackedBytes, wasHostBacked: before.hostBacked };
      this.lastUnit = unit;
      if (unit === this.oldLastUnit) this.oldLastUnitTouched = true;
    }
  }

  /** The change of host-backed bytes once the backing is `newSizeBytes` long. */
  finish(newSizeBytes: number): number {
    this.settle(newSizeBytes);
    const oldLast = this.oldLastUnit;
    if (newSizeBytes > this.oldSizeBytes && oldLast >= 0 && !this.oldLastUnitTouched) {
      const before = this.before(oldLast);
      if (!before.known) this.touchedUnknown = true;
      if (before.hostBacked) this.settledBytes += this.visibleBytes(oldLast, newSizeBytes) - before.hostBackedBytes;
      this.oldLastUnitTouched = true;
    }
    return this.settledBytes;
  }

  /** The unit holding the backing's last byte before the commit (-1: empty). */
  get oldLastUnit(): number {
    return Math.ceil(this.oldSizeBytes / this.unitBytes) - 1;
  }

  private settle(newSizeBytes: number): void {
    const pending = this.pending;
    if (pending === undefined) return;
    const afterBytes = pending.kind === 'copy' ? this.visibleBytes(pending.unit, newSizeBytes) : 0;
    this.settledBytes += afterBytes - pending.beforeBytes;
    if (pending.kind === 'copy' && !pending.wasHostBacked) this.allocatedUnits++;
    if (pending.kind === 'zero' && pending.wasHostBacked) this.freedUnits++;
    this.pending = undefined;
  }

  /** Bytes of `unit` below `sizeBytes`. */
  private visibleBytes(unit: number, sizeBytes: number): number {
    return Math.max(0, Math.min(this.unitBytes, sizeBytes - unit * this.unitBytes));
  }
}
