/**
 * The generic rules QEMU's block layer applies to every format's answer
 * (block/io.c bdrv_co_block_status, paraphrased): clamp to the node's length,
 * widen to the request alignment and narrow back, mark the answer allocated
 * when it is data or zero, synthesize zeroes where a backing-capable layer
 * has no backing (or the backing is shorter), and check data that asks for it
 * (RECURSE) against the host file's holes.
 */
import type { ImageLayer } from '../formats/types.js';
import type { HostFile } from '../io/host-file.js';

/** One layer's final answer for a guest range. */
export interface ResolvedStatus {
  /** Bytes covered, > 0 inside the layer. */
  lengthBytes: number;
  data: boolean;
  zero: boolean;
  /** BDRV_BLOCK_ALLOCATED: this layer decides the content. */
  allocated: boolean;
  compressed: boolean;
  hostOffset: number | undefined;
  hostFile: HostFile | undefined;
}

/**
 * Status of `layer` for [offsetBytes, offsetBytes + lengthBytes).
 * `backingSizeBytes` is the virtual size of the attached backing layer, or
 * null when none is attached. The offset must lie inside the layer.
 */
export function layerStatus(
  layer: ImageLayer,
  backingSizeBytes: number | null,
  offsetBytes: number,
  lengthBytes: number,
): ResolvedStatus {
  const totalBytes = layer.virtualSizeBytes;
  let bytes = Math.min(lengthBytes, totalBytes - offsetBytes);
  const align = layer.requestAlignmentBytes;
  const alignedOffset = offsetBytes - (offsetBytes % align);
  const alignedEnd = Math.ceil((offsetBytes + bytes) / align) * align;
  const answer = layer.blockStatus(alignedOffset, alignedEnd - alignedOffset);

  const delta = offsetBytes - alignedOffset;
  let pnum = answer.lengthBytes - delta;
  if (pnum > bytes) pnum = bytes;
  bytes = pnum;
  const hasOffset = answer.hostOffset !== undefined;
  const hostOffset = hasOffset ? (answer.hostOffset as number) + delta : undefined;

  let data = answer.data;
  let zero = answer.zero;
  const allocated = data || zero;
  if (!allocated && layer.supportsBacking) {
    if (backingSizeBytes === null || offsetBytes >= backingSizeBytes) zero = true;
  }

  if (answer.recurse && data && !zero && hasOffset && answer.hostFile !== undefined) {
    const host = answer.hostFile.blockStatus(hostOffset as number, pnum);
    if (host.eof && (host.lengthBytes === 0 || host.zero)) {
      zero = true;
    } else {
      pnum = host.lengthBytes;
      if (host.zero) zero = true;
    }
  }

  return {
    lengthBytes: pnum,
    data,
    zero,
    allocated,
    compressed: answer.compressed === true,
    hostOffset,
    hostFile: hasOffset ? answer.hostFile : undefined,
  };
}
