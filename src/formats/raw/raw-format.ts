/**
 * raw over a host file. QEMU's raw driver hands every query to the file
 * below, whose answer comes from SEEK_DATA/SEEK_HOLE (io/host-file.ts):
 * always present, offset = guest offset, holes read as zero, and the length
 * is the file size rounded up to 512 (the tail past EOF is a hole). With the
 * `offset`/`size` options (an image or a partition inside a bigger file) the
 * guest sees the window [offset, offset + size) of the file.
 */
import type { HostFile } from '../../io/host-file.js';
import type { ImageFormat, ImageLayer, LayerStatus } from '../types.js';

/** The part of the file a raw node exposes. */
export interface RawWindow {
  offsetBytes: number;
  sizeBytes: number;
}

class RawLayer implements ImageLayer {
  readonly format = 'raw' as const;
  readonly virtualSizeBytes: number;
  readonly supportsBacking = false;
  readonly backing = null;
  readonly requestAlignmentBytes = 1;
  readonly details = {};
  readonly extraFiles = [];
  private readonly windowOffset: number;

  constructor(readonly file: HostFile, readonly filename: string, window?: RawWindow) {
    this.windowOffset = window?.offsetBytes ?? 0;
    this.virtualSizeBytes = window?.sizeBytes ?? file.lengthBytes;
  }

  blockStatus(offsetBytes: number, lengthBytes: number): LayerStatus {
    const hostOffset = this.windowOffset + offsetBytes;
    const host = this.file.blockStatus(hostOffset, lengthBytes);
    return {
      lengthBytes: host.lengthBytes,
      data: host.data,
      zero: host.zero,
      hostOffset,
      hostFile: this.file,
    };
  }
}

/** A raw layer over the window `window` of `file`. */
export function openRawWindow(file: HostFile, filename: string, window: RawWindow): ImageLayer {
  return new RawLayer(file, filename, window);
}

export const rawFormat: ImageFormat = {
  name: 'raw',
  probe: () => 1,
  open: (file, filename) => new RawLayer(file, filename),
};
