/**
 * raw over a host file. QEMU's raw driver hands every query to the file
 * below, whose answer comes from SEEK_DATA/SEEK_HOLE (io/host-file.ts):
 * always present, offset = guest offset, holes read as zero, and the length
 * is the file size rounded up to 512 (the tail past EOF is a hole).
 */
import type { HostFile } from '../../io/host-file.js';
import type { ImageFormat, ImageLayer, LayerStatus } from '../types.js';

class RawLayer implements ImageLayer {
  readonly format = 'raw' as const;
  readonly virtualSizeBytes: number;
  readonly supportsBacking = false;
  readonly backing = null;
  readonly requestAlignmentBytes = 1;
  readonly details = {};
  readonly extraFiles = [];

  constructor(readonly file: HostFile, readonly filename: string) {
    this.virtualSizeBytes = file.lengthBytes;
  }

  blockStatus(offsetBytes: number, lengthBytes: number): LayerStatus {
    const host = this.file.blockStatus(offsetBytes, lengthBytes);
    return {
      lengthBytes: host.lengthBytes,
      data: host.data,
      zero: host.zero,
      hostOffset: offsetBytes,
      hostFile: this.file,
    };
  }
}

export const rawFormat: ImageFormat = {
  name: 'raw',
  probe: () => 1,
  open: (file, filename) => new RawLayer(file, filename),
};
