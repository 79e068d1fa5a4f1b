/**
 * The depth walk of qemu-img map (get_block_status, paraphrased): ask the
 * top layer; if it neither has data nor reads as zero, ask its backing for
 * the (shrunk) range, one layer deeper each time.
 */
import { CorruptImageError } from '../errors.js';
import type { ImageLayer } from '../formats/types.js';
import { layerStatus } from './layer-status.js';
import type { MapEntry } from './map-entry.js';

/** The entry qemu-img map gets for [offsetBytes, offsetBytes + lengthBytes). */
export function chainStatus(layers: readonly ImageLayer[], offsetBytes: number, lengthBytes: number): MapEntry {
  let bytes = lengthBytes;
  for (let depth = 0; depth < layers.length; depth++) {
    const layer = layers[depth]!;
    const backing = layers[depth + 1];
    const status = layerStatus(layer, backing === undefined ? null : backing.virtualSizeBytes, offsetBytes, bytes);
    if (status.lengthBytes <= 0) {
      throw new CorruptImageError(`${layer.filename}: block status at 0x${offsetBytes.toString(16)} covered no bytes`);
    }
    bytes = status.lengthBytes;
    if (status.data || status.zero || backing === undefined) {
      const found = status.data || status.zero;
      const hasOffset = found && status.hostOffset !== undefined;
      return {
        startBytes: offsetBytes,
        lengthBytes: bytes,
        depth,
        present: status.allocated,
        zero: status.zero,
        data: status.data,
        compressed: status.compressed,
        offsetBytes: hasOffset ? status.hostOffset : undefined,
        filename: hasOffset && status.hostFile !== undefined ? status.hostFile.filename : undefined,
      };
    }
  }
  throw new Error('unreachable: a chain has at least one layer');
}
