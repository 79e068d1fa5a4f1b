/**
 * The copy loop of QEMU 7.2's mirror job (block/mirror.c mirror_iteration),
 * which `qemu-img commit` runs as an active commit of the top into its
 * backing file: over one piece of consecutive dirty chunks, ask the chain's
 * block status at the current offset and either copy (read from the chain,
 * write to the backing) or write zeroes (with MAY_UNMAP) to the backing.
 *
 *   status DATA        → copy max(G, ⌊min(extent, 1 MiB) / G⌋·G)
 *   status not DATA    → n = ⌊extent / G⌋·G; n < G: copy G;
 *                        n ≥ G and [offset, offset + n) cluster-aligned in
 *                        the backing (always for raw): write zeroes; else copy n
 *
 * `extent` is how far the block status answer reaches from the offset: to
 * the next change in the maps, cut at L2-slice boundaries of the qcow2
 * layer answering (invisible in a map, hence `CutVariant`), at the piece's
 * end and at the top's end — and, when only present entries were given, maybe
 * at an extended-L2 cluster edge inside a gap (`hiddenEdgeBytes`). Every
 * operation is clipped to the top's end.
 */

/** What the chain answers over a range of a piece, and which layer answers. */
export interface StatusSegment {
  startBytes: number;
  endBytes: number;
  data: boolean;
  /** 'top': the top holds it; 'backing': the backing file does (or reads it as zero); 'below': neither holds it. */
  source: 'top' | 'backing' | 'below';
  /**
   * Spacing of status edges the maps may not show inside this segment
   * (Infinity: none): a gap in a stream of present entries only can hide
   * where an extended-L2 layer's allocated-but-unallocated subclusters end.
   */
  hiddenEdgeBytes: number;
}

export type MirrorOpKind = 'copy' | 'zero';

export interface MirrorOp {
  kind: MirrorOpKind;
  startBytes: number;
  endBytes: number;
}

/** Fixed parameters of one commit. */
export interface MirrorParams {
  /** Dirty-bitmap granularity G: the backing's cluster size clamped to [4 KiB, 64 KiB]; 64 KiB without one. */
  granularityBytes: number;
  /** The backing's cluster size for zero-write alignment; null: no clusters (raw). */
  targetClusterBytes: number | null;
}

/** Where the status answers of qcow2 layers end without a visible change: every multiple of the layer's L2-slice span. */
export interface CutVariant {
  topSliceBytes: number;
  backingSliceBytes: number;
  /** Cut answers at every possible hidden edge too (see StatusSegment.hiddenEdgeBytes). */
  cutHiddenEdges: boolean;
}

/** The mirror's buffer (DEFAULT_MIRROR_BUF_SIZE): a piece is at most this many bytes of dirty chunks. */
export const MIRROR_BUFFER_BYTES = 16 * 1024 * 1024;
/** Largest copy issued for a DATA answer (MAX_IO_BYTES). */
export const MIRROR_MAX_DATA_IO_BYTES = 1024 * 1024;

const nextMultipleAfter = (positionBytes: number, stepBytes: number): number =>
  stepBytes === Number.POSITIVE_INFINITY ? stepBytes : (Math.floor(positionBytes / stepBytes) + 1) * stepBytes;

/** The result of one piece under one variant. */
export interface PieceSteps {
  ops: MirrorOp[];
  /** A status query landed where neither the top nor the backing holds the bytes. */
  queriedBelowBacking: boolean;
  /** A zero answer reached over a possible hidden edge (with `cutHiddenEdges` off). */
  crossedHiddenEdge: boolean;
}

/**
 * Steps through the piece [pieceStartBytes, pieceEndBytes) over `segments`
 * (sorted, tiling the piece up to `lengthBytes`, the top's virtual size).
 */
export function pieceSteps(
  segments: readonly StatusSegment[],
  pieceStartBytes: number,
  pieceEndBytes: number,
  lengthBytes: number,
  params: MirrorParams,
  cuts: CutVariant,
): PieceSteps {
  const G = params.granularityBytes;
  const ops: MirrorOp[] = [];
  let queriedBelowBacking = false;
  let crossedHiddenEdge = false;
  let index = 0;
  const limitBytes = Math.min(pieceEndBytes, lengthBytes);
  for (let offset = pieceStartBytes; offset < limitBytes;) {
    while (index < segments.length && segments[index]!.endBytes <= offset) index++;
    const segment = segments[index];
    if (segment === undefined || segment.startBytes > offset) throw new RangeError(`mirror model: no status at ${offset}`);
    if (segment.source === 'below') queriedBelowBacking = true;
    let extentEnd = Math.min(segment.endBytes, limitBytes, nextMultipleAfter(offset, cuts.topSliceBytes));
    if (segment.source !== 'top') extentEnd = Math.min(extentEnd, nextMultipleAfter(offset, cuts.backingSliceBytes));
    const hiddenEdge = nextMultipleAfter(offset, segment.hiddenEdgeBytes);
    if (cuts.cutHiddenEdges) extentEnd = Math.min(extentEnd, hiddenEdge);
    else if (!segment.data && hiddenEdge < extentEnd) crossedHiddenEdge = true;
    const extentBytes = extentEnd - offset;
    let ioBytes: number;
    let kind: MirrorOpKind = 'copy';
    if (segment.data) {
      ioBytes = Math.min(extentBytes, MIRROR_MAX_DATA_IO_BYTES);
      ioBytes -= ioBytes % G;
      if (ioBytes < G) ioBytes = G;
    } else {
      ioBytes = extentBytes - (extentBytes % G);
      if (ioBytes < G) ioBytes = G;
      else if (isClusterAligned(offset, offset + ioBytes, params.targetClusterBytes)) kind = 'zero';
    }
    const endBytes = Math.min(offset + ioBytes, lengthBytes);
    ops.push({ kind, startBytes: offset, endBytes });
    offset = endBytes;
  }
  return { ops, queriedBelowBacking, crossedHiddenEdge };
}

function isClusterAligned(startBytes: number, endBytes: number, clusterBytes: number | null): boolean {
  return clusterBytes === null || (startBytes % clusterBytes === 0 && endBytes % clusterBytes === 0);
}
