/**
 * A dry run of `qemu-img commit TOP` (QEMU 7.2): what the backing file
 * (depth 1) gains in host-backed bytes when the top is committed into it,
 * computed from the two layers' own maps by replaying the mirror job that
 * qemu-img runs (mirror-steps.ts, commit-pieces.ts, target-delta.ts).
 *
 * The replay is exact when the block-status edges no map shows (qcow2
 * L2-slice ends; extended-L2 cluster edges inside the gaps of a stream of
 * present entries only) cannot change the result: every layout still possible
 * given what the caller knows (cluster sizes, extended L2) is replayed and
 * the estimate is null unless all agree. It is also null where the result
 * depends on what lies below the backing file, on formats other than qcow2
 * and raw backing files, and on a qcow2 backing file of unknown cluster size.
 *
 * Given the qcow2 backing file's L1/refcount layout, the estimate also
 * carries the growth of its host clusters, data and metadata
 * (commit-host.ts): what the replay's copies and zero writes allocate and
 * free, with the L2 tables and refcount blocks that come with them.
 */
import type { MapEntry } from '../map-entry.js';
import { type CommitHostGrowth, L2Touches, type Qcow2HostLayout, commitHostGrowth } from './commit-host.js';
import { CommitPieces } from './commit-pieces.js';
import { possibleSliceSpansBytes } from './l2-slices.js';
import { type CutVariant, type MirrorParams, pieceSteps } from './mirror-steps.js';
import { TargetDelta, type UnitBefore } from './target-delta.js';

export interface CommitEstimate {
  /** Change of the backing file's host-backed guest bytes (negative when zero writes unmap more than copies allocate). */
  backingGrowthBytes: number;
  /** The top's disk usage, freed when the top is deleted after the commit. */
  topFreedBytes: number;
  /**
   * With `CommitBacking.layout` only: the growth of the qcow2 backing
   * file's host clusters, data and metadata (commit-host.ts); null when it
   * cannot be bounded.
   */
  host?: CommitHostGrowth | null;
}

/** The backing file (depth 1). Optional facts, when given, make more estimates exact. */
export interface CommitBacking {
  format: string;
  clusterSizeBytes: number | null;
  virtualSizeBytes: number;
  /** Has the backing file a backing file of its own? Unknown: the estimate is null wherever that could matter. */
  hasBackingFile?: boolean;
  /** qcow2 compat level ('0.10' or '1.1'). */
  qcow2Compat?: string;
  extendedL2?: boolean;
  /** qcow2: its L1 and refcount tables' layout, for the metadata the commit allocates. */
  layout?: Qcow2HostLayout;
}

/** The top (depth 0). */
export interface CommitTop {
  diskUsageBytes: number;
  /** Unknown: taken from the top's entries when the estimate does not depend on it, else null. */
  virtualSizeBytes?: number;
  /** Unknown: qcow2 assumed; any other format gives null. */
  format?: string;
  clusterSizeBytes?: number | null;
  extendedL2?: boolean;
}

const KiB = 1024;
const RAW_BLOCK_BYTES = 4 * KiB;
const SECTOR_BYTES = 512;
const EXTENDED_L2_MIN_CLUSTER_BYTES = 16 * KiB;

interface Variant {
  cuts: CutVariant;
  /** The top's virtual size: given, 'tight' (the end of its entries) or unbounded. */
  length: number | 'tight';
  delta: TargetDelta;
  risky: boolean;
  touches: L2Touches | undefined;
}

/**
 * `topOwnEntries` / `backingOwnEntries`: each layer mapped alone (or its
 * present depth-0 entries only), sorted, read once. Null when the growth
 * cannot be predicted exactly.
 */
export function estimateCommit(
  topOwnEntries: Iterable<MapEntry>,
  backingOwnEntries: Iterable<MapEntry>,
  backing: CommitBacking,
  top: CommitTop,
): CommitEstimate | null {
  const isRaw = backing.format === 'raw';
  if (!isRaw && backing.format !== 'qcow2') return null;
  if (top.format !== undefined && top.format !== 'qcow2') return null;
  if (!isRaw && !isClusterSize(backing.clusterSizeBytes)) return null;
  const clusterBytes = isRaw ? null : backing.clusterSizeBytes!;
  const params: MirrorParams = {
    granularityBytes: clusterBytes === null ? 64 * KiB : Math.min(64 * KiB, Math.max(4 * KiB, clusterBytes)),
    targetClusterBytes: clusterBytes,
  };
  // A raw file has no backing file; a qcow2 one may.
  const mayHaveBacking = !isRaw && backing.hasBackingFile !== false;
  const zeroMayWrite = mayHaveBacking && backing.qcow2Compat !== '1.1';
  const oldSizeBytes = backing.virtualSizeBytes;
  const unitBytes = clusterBytes ?? RAW_BLOCK_BYTES;
  const hiddenEdges = hiddenEdgeSpacings(top, backing, isRaw);
  const pieces = new CommitPieces(topOwnEntries, backingOwnEntries, params.granularityBytes, isRaw, hiddenEdges);
  const unitBefore = unitStates(pieces, unitBytes, oldSizeBytes, isRaw, hiddenEdges.backingBytes !== Infinity);
  const alignedByG = params.targetClusterBytes === null || params.targetClusterBytes <= params.granularityBytes;
  const variants = makeVariants(top, backing, params, isRaw, alignedByG, hiddenEdges);
  const lengths: (number | 'tight')[] = top.virtualSizeBytes !== undefined ? [top.virtualSizeBytes] : ['tight', Number.POSITIVE_INFINITY];
  const layout = isRaw || backing.extendedL2 === undefined ? undefined : backing.layout;
  const runs: Variant[] = variants.flatMap((cuts) => lengths.map((length) => {
    const delta = new TargetDelta(unitBytes, oldSizeBytes, unitBefore.get);
    const touches = layout === undefined ? undefined : new L2Touches(layout, backing.extendedL2 === true);
    delta.onOp = touches?.onOp;
    return { cuts, length, risky: false, delta, touches };
  }));
  const keepFromBytes = Math.max(0, (Math.ceil(oldSizeBytes / unitBytes) - 1) * unitBytes);
  for (const piece of pieces.pieces()) {
    // Keep the backing's spans from the first unit this piece can touch (and the old last unit, for `finish`).
    pieces.backing.release(Math.min(Math.floor(piece.startBytes / unitBytes) * unitBytes, keepFromBytes));
    const segments = pieces.segments(piece.startBytes, piece.endBytes);
    for (const run of runs) {
      const lengthBytes = run.length === 'tight'
        ? (piece.isLast ? Math.ceil(pieces.topEndBytes / SECTOR_BYTES) * SECTOR_BYTES : Number.POSITIVE_INFINITY)
        : run.length;
      const steps = pieceSteps(segments, piece.startBytes, piece.endBytes, lengthBytes, params, run.cuts);
      for (const op of steps.ops) {
        run.delta.apply(op);
        if (op.kind === 'zero' && zeroMayWrite) run.risky = true;
      }
      if (steps.queriedBelowBacking && mayHaveBacking) run.risky = true;
      // Hidden edges are replayed as a variant when their effect is monotone (alignedByG), else they void the estimate.
      if (steps.crossedHiddenEdge && !alignedByG) run.risky = true;
    }
    unitBefore.forget();
  }
  const topEndBytes = Math.ceil(pieces.topEndBytes / SECTOR_BYTES) * SECTOR_BYTES;
  let growthBytes: number | undefined;
  const hostResults: (CommitHostGrowth | null)[] = [];
  for (const run of runs) {
    const lengthBytes = run.length === 'tight' ? topEndBytes : run.length;
    const newSizeBytes = Math.max(oldSizeBytes, lengthBytes);
    // Growing a backing file that has a backing file may zero-fill the new range (bdrv_co_truncate).
    if (newSizeBytes > oldSizeBytes && mayHaveBacking) return null;
    const delta = run.delta.finish(newSizeBytes);
    if (run.risky || run.delta.touchedUnknown || (growthBytes !== undefined && delta !== growthBytes)) return null;
    growthBytes = delta;
    if (layout !== undefined && run.touches !== undefined) {
      // A rewritten compressed cluster frees what its host cluster's other compressed clusters leave: unknown.
      hostResults.push(run.delta.touchedCompressed ? null : commitHostGrowth(layout, backing.extendedL2 === true, run.touches,
        run.delta.allocatedUnits, run.delta.freedUnits, newSizeBytes));
    }
  }
  if (growthBytes === undefined) return null;
  const estimate: CommitEstimate = { backingGrowthBytes: growthBytes, topFreedBytes: top.diskUsageBytes };
  // Every layout still possible must agree on the host figures too.
  if (layout !== undefined) {
    const first = JSON.stringify(hostResults[0] ?? null);
    estimate.host = hostResults.every((r) => JSON.stringify(r) === first) ? hostResults[0] ?? null : null;
  }
  return estimate;
}

function isClusterSize(value: number | null): boolean {
  return value !== null && Number.isSafeInteger(value) && value >= 512 && value <= 2 * 1024 * KiB && (value & (value - 1)) === 0;
}

/**
 * Edges a stream of present entries only can hide: where the allocated but
 * unallocated subclusters of an extended-L2 cluster end — at multiples of
 * that layer's cluster size (16 KiB at least). Infinity when the layer
 * cannot have extended L2 entries.
 */
function hiddenEdgeSpacings(top: CommitTop, backing: CommitBacking, isRaw: boolean): { topBytes: number; backingBytes: number } {
  const spacing = (clusterBytes: number | null | undefined, extendedL2: boolean | undefined): number =>
    extendedL2 === false || (clusterBytes != null && clusterBytes < EXTENDED_L2_MIN_CLUSTER_BYTES)
      ? Number.POSITIVE_INFINITY : clusterBytes ?? EXTENDED_L2_MIN_CLUSTER_BYTES;
  return {
    topBytes: spacing(top.clusterSizeBytes, top.extendedL2),
    backingBytes: isRaw ? Number.POSITIVE_INFINITY : spacing(backing.clusterSizeBytes, backing.extendedL2),
  };
}

/**
 * The layouts to replay: every possible pair of L2-slice spans, with and
 * without cuts at possible hidden edges. When zero writes need no alignment
 * beyond G (raw, or clusters ≤ G), cuts at multiples of G cannot change the
 * result (such spans collapse into "no cut") and a cut can only turn a
 * zeroed chunk into a copied one, so "all hidden edges" and "none" bound
 * every case in between.
 */
function makeVariants(
  top: CommitTop, backing: CommitBacking, params: MirrorParams, isRaw: boolean, alignedByG: boolean,
  hiddenEdges: { topBytes: number; backingBytes: number },
): CutVariant[] {
  const G = params.granularityBytes;
  const normalise = (span: number): number => (alignedByG && span % G === 0 ? Number.POSITIVE_INFINITY : span);
  const topSpans = new Set(possibleSliceSpansBytes(top.clusterSizeBytes, top.extendedL2).map(normalise));
  const backingSpans = isRaw ? new Set([Number.POSITIVE_INFINITY])
    : new Set(possibleSliceSpansBytes(backing.clusterSizeBytes, backing.extendedL2).map(normalise));
  const hiddenMatters = alignedByG && (normalise(hiddenEdges.topBytes) !== Infinity || normalise(hiddenEdges.backingBytes) !== Infinity);
  const variants: CutVariant[] = [];
  for (const topSliceBytes of topSpans) {
    for (const backingSliceBytes of backingSpans) {
      variants.push({ topSliceBytes, backingSliceBytes, cutHiddenEdges: false });
      if (hiddenMatters) variants.push({ topSliceBytes, backingSliceBytes, cutHiddenEdges: true });
    }
  }
  return variants;
}

/**
 * The backing file's units before the commit, looked up in its map window
 * (memoised per piece). `gapsMayHideClusters`: a gap in the stream may be a
 * qcow2 cluster allocated with every subcluster unallocated (extended L2,
 * present entries only given): such a unit's state is unknown.
 */
function unitStates(pieces: CommitPieces, unitBytes: number, oldSizeBytes: number, isRaw: boolean, gapsMayHideClusters: boolean) {
  let memo = new Map<number, UnitBefore>();
  const get = (unit: number): UnitBefore => {
    let state = memo.get(unit);
    if (state !== undefined) return state;
    const from = unit * unitBytes;
    const to = Math.min(from + unitBytes, oldSizeBytes);
    let hostBackedBytes = 0;
    let hostBacked = false;
    let coveredBytes = 0;
    let compressed = false;
    if (to > from) {
      for (const span of pieces.backing.spansIn(from, to)) {
        const overlapBytes = Math.min(span.endBytes, to) - Math.max(span.startBytes, from);
        coveredBytes += overlapBytes;
        if (span.value.compressed) compressed = true;
        if (!span.value.hostBacked) continue;
        hostBacked = true;
        hostBackedBytes += overlapBytes;
      }
    }
    // A qcow2 cluster is host-backed whole, even where only part of it is listed (present entries only).
    if (hostBacked && !isRaw) hostBackedBytes = to - from;
    const known = hostBacked || !gapsMayHideClusters || coveredBytes === Math.max(0, to - from);
    state = { known, hostBacked, hostBackedBytes, compressed };
    memo.set(unit, state);
    return state;
  };
  return { get, forget: () => { memo = new Map(); } };
}
