/**
 * QCOW2 L2-slice spans: a block-status answer of a qcow2 layer never reaches
 * past the end of the L2-table slice holding the entry it starts in
 * (qcow2_get_host_offset), an edge no map shows. QEMU 7.2 reads L2 tables in
 * slices of min(cluster size, 4 KiB) bytes; an entry is 8 bytes, 16 with
 * extended L2 entries (clusters ≥ 16 KiB only).
 */

const L2_CACHE_ENTRY_MAX_BYTES = 4096;

/** Guest bytes one L2 slice maps. */
export function l2SliceSpanBytes(clusterSizeBytes: number, extendedL2: boolean): number {
  const entryBytes = extendedL2 ? 16 : 8;
  return (Math.min(clusterSizeBytes, L2_CACHE_ENTRY_MAX_BYTES) / entryBytes) * clusterSizeBytes;
}

/** qcow2 cluster sizes: 512 B to 2 MiB, powers of two. */
export const QCOW2_CLUSTER_SIZES_BYTES: readonly number[] = Array.from({ length: 13 }, (_, i) => 512 * 2 ** i);

/** The slice spans a layer may have, given what is known of it. */
export function possibleSliceSpansBytes(clusterSizeBytes: number | null | undefined, extendedL2: boolean | undefined): number[] {
  const clusters = clusterSizeBytes == null ? QCOW2_CLUSTER_SIZES_BYTES : [clusterSizeBytes];
  const spans = new Set<number>();
  for (const cluster of clusters) {
    if (extendedL2 !== true) spans.add(l2SliceSpanBytes(cluster, false));
    if (extendedL2 !== false && cluster >= 16384) spans.add(l2SliceSpanBytes(cluster, true));
  }
  return [...spans];
}
