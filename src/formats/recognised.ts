/**
 * Formats QEMU probes by magic that imgaudit does not map yet. They probe
 * with QEMU's scores so that such a file is never mistaken for raw, and
 * opening them fails with UnsupportedImageError.
 */
import { UnsupportedImageError } from '../errors.js';
import type { FormatName, ImageFormat } from './types.js';

const ascii = (bytes: Uint8Array, start: number, text: string): boolean =>
  Buffer.from(bytes.subarray(start, start + text.length)).toString('latin1') === text;

function recognised(name: FormatName, probe: (b: Uint8Array, filename: string) => number): ImageFormat {
  return {
    name,
    probe,
    open() {
      throw new UnsupportedImageError(`imgaudit does not map '${name}' images yet`);
    },
  };
}

export const recognisedOnlyFormats: readonly ImageFormat[] = [
  recognised('bochs', (b) => (ascii(b, 0, 'Bochs Virtual HD Image') ? 100 : 0)),
  recognised('luks', (b) => (ascii(b, 0, 'LUKS\xba\xbe') && ((b[6]! << 8) | b[7]!) === 1 ? 100 : 0)),
  recognised('cloop', (b) => (ascii(b, 0, '#!/bin/sh\n#V2.0 Format\n') ? 2 : 0)),
  recognised('dmg', (_b, filename) => (filename.endsWith('.dmg') ? 2 : 0)),
];
