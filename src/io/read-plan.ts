/**
 * The read planner of staged reads (HostFile.stage): the ranges a map will
 * ask for, sorted, with ranges that overlap or lie at most MAX_GAP_BYTES
 * apart merged into one read of at most MAX_READ_BYTES. On storage where
 * each request waits (NFS, Ceph, a FUSE mount), one read of a few adjacent
 * tables with a data cluster between them costs one round trip instead of
 * several, for a few dozen KiB more of transfer; qcow2 allocates L2 tables
 * between the data clusters of the writes that needed them, so the tables
 * of a sparse image mostly lie that close. No byte is in two reads.
 */

/** A range of a file. */
export interface FileRange {
  offsetBytes: number;
  lengthBytes: number;
}

/** One read and the requested ranges it serves. */
export interface PlannedRead extends FileRange {
  parts: FileRange[];
}

/** Gap between two ranges that one read still spans (one 64 KiB cluster). */
export const MAX_GAP_BYTES = 0;
/** Largest merged read (FUSE's and most NAS clients' largest single request). */
export const MAX_READ_BYTES = 1024 * 1024;

/**
 * Plans the reads of `ranges` in a file of `sizeBytes` (ranges at or past
 * the end are left out: they read as zeroes without a read; reads stop at
 * the end of the file). Duplicate ranges are served by one read.
 */
export function planReads(ranges: readonly FileRange[], sizeBytes: number, maxGapBytes = MAX_GAP_BYTES, maxReadBytes = MAX_READ_BYTES): PlannedRead[] {
  const sorted = ranges
    .filter((range) => range.offsetBytes < sizeBytes && range.lengthBytes > 0)
    .sort((a, b) => a.offsetBytes - b.offsetBytes || a.lengthBytes - b.lengthBytes);
  const reads: PlannedRead[] = [];
  let current: PlannedRead | null = null;
  for (const range of sorted) {
    const end = Math.min(sizeBytes, range.offsetBytes + range.lengthBytes);
    if (current !== null) {
      const currentEnd = current.offsetBytes + current.lengthBytes;
      const mergedEnd = Math.max(currentEnd, end);
      // An overlapping range always joins (else its bytes would be read twice); a nearby one while the read stays small.
      const overlaps = range.offsetBytes < currentEnd;
      if (overlaps || (range.offsetBytes - currentEnd <= maxGapBytes && mergedEnd - current.offsetBytes <= maxReadBytes)) {
        current.lengthBytes = mergedEnd - current.offsetBytes;
        current.parts.push(range);
        continue;
      }
    }
    current = { offsetBytes: range.offsetBytes, lengthBytes: end - range.offsetBytes, parts: [range] };
    reads.push(current);
  }
  return reads;
}
