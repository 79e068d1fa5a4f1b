/**
 * QEMU's metadata-preallocation heuristic (qcow2 block status, first call
 * after open): an image "looks metadata-preallocated" when more host clusters
 * carry a refcount than the file system really holds (st_blocks), by the
 * margin max(real × 10/9, real + 2). Then data clusters are checked against
 * the file's holes. Errors while reading refcounts mean "not preallocated",
 * as in QEMU. The refcount table is read only when the answer needs it.
 */
import type { HostFile } from '../../io/host-file.js';
import type { Qcow2Header } from './header.js';

/** True when the heuristic says the image is metadata-preallocated. */
export function looksMetadataPreallocated(file: HostFile, header: Qcow2Header, readRefcountTable: () => Buffer): boolean {
  const clusterBytes = header.clusterSizeBytes;
  const realClusters = Math.floor(file.allocatedBytes / clusterBytes);
  const threshold = Math.max(Math.floor((realClusters * 10) / 9), realClusters + 2);
  const endCluster = Math.ceil(file.lengthBytes / clusterBytes);
  // Fewer host clusters than the threshold: the answer is "no" without reading refcounts.
  if (endCluster < threshold) return false;
  const refcountTable = readRefcountTable();
  const refcountBits = 2 ** header.refcountOrder;
  const entriesPerBlock = (clusterBytes * 8) / refcountBits;
  const tableEntries = refcountTable.length / 8;
  let counted = 0;
  for (let blockIndex = 0; blockIndex * entriesPerBlock < endCluster && counted < threshold; blockIndex++) {
    if (blockIndex >= tableEntries) break;
    const hi = refcountTable.readUInt32BE(blockIndex * 8);
    const lo = refcountTable.readUInt32BE(blockIndex * 8 + 4);
    const blockOffset = hi * 0x100000000 + ((lo & 0xfffffe00) >>> 0);
    if (blockOffset === 0) continue;
    if (blockOffset % clusterBytes !== 0 || hi > 0x1fffff) return false; // QEMU: corruption → not preallocated
    const block = file.readAt(blockOffset, clusterBytes);
    const first = blockIndex * entriesPerBlock;
    const last = Math.min(endCluster, first + entriesPerBlock);
    for (let cluster = first; cluster < last && counted < threshold; cluster++) {
      if (refcountNonZero(block, cluster - first, header.refcountOrder)) counted++;
    }
  }
  return counted >= threshold;
}

function refcountNonZero(block: Buffer, index: number, order: number): boolean {
  if (order >= 3) {
    const width = 2 ** (order - 3);
    for (let i = index * width, end = i + width; i < end; i++) if (block[i] !== 0) return true;
    return false;
  }
  const bits = 2 ** order;
  const perByte = 8 / bits;
  const byte = block[Math.floor(index / perByte)]!;
  return ((byte >> (bits * (index % perByte))) & ((1 << bits) - 1)) !== 0;
}
