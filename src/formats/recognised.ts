/**
 * Formats QEMU probes by magic that imgaudit does not map yet. They probe
 * with QEMU's scores so that such a file is never mistaken for raw, and
 * opening them fails with UnsupportedImageError.
 */
import { UnsupportedImageError } from '../errors.js';
import type { FormatName, ImageFormat } from './types.js';

const ascii = (bytes: Uint8Array, start: number, text: string): boolean =>
  Buffer.from(bytes.subarray(start, start + text.length)).toString('latin1') === text;
const be32 = (b: Uint8Array, o: number): number => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
const le32 = (b: Uint8Array, o: number): number => ((b[o + 3]! << 24) | (b[o + 2]! << 16) | (b[o + 1]! << 8) | b[o]!) >>> 0;

/** vmdk text descriptor: first line that is not a comment or blank-with-spaces says version=1|2|3. */
function isVmdkDescriptor(bytes: Uint8Array): boolean {
  const text = Buffer.from(bytes).toString('latin1');
  let pos = 0;
  while (pos < text.length) {
    const end = text.indexOf('\n', pos);
    const line = end < 0 ? text.slice(pos) : text.slice(pos, end + 1);
    if (line.startsWith('#') || /^ +\r?\n$/.test(line)) {
      if (end < 0) return false;
      pos = end + 1;
      continue;
    }
    return /^version=[123]\r?\n/.test(line);
  }
  return false;
}

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
  recognised('qcow', (b) => (be32(b, 0) === 0x514649fb && be32(b, 4) === 1 ? 100 : 0)),
  recognised('qed', (b) => (le32(b, 0) === 0x00444551 ? 100 : 0)),
  recognised('vdi', (b) => (le32(b, 0x40) === 0xbeda107f ? 100 : 0)),
  recognised('vpc', (b) => (ascii(b, 0, 'conectix') ? 100 : 0)),
  recognised('vhdx', (b) => (ascii(b, 0, 'vhdxfile') ? 100 : 0)),
  recognised('vmdk', (b) => (be32(b, 0) === 0x4b444d56 || be32(b, 0) === 0x434f5744 || isVmdkDescriptor(b) ? 100 : 0)),
  recognised('parallels', (b) =>
    (ascii(b, 0, 'WithoutFreeSpace') || ascii(b, 0, 'WithouFreSpacExt')) && le32(b, 16) === 2 ? 100 : 0),
  recognised('bochs', (b) => (ascii(b, 0, 'Bochs Virtual HD Image') ? 100 : 0)),
  recognised('luks', (b) => (ascii(b, 0, 'LUKS\xba\xbe') && ((b[6]! << 8) | b[7]!) === 1 ? 100 : 0)),
  recognised('cloop', (b) => (ascii(b, 0, '#!/bin/sh\n#V2.0 Format\n') ? 2 : 0)),
  recognised('dmg', (_b, filename) => (filename.endsWith('.dmg') ? 2 : 0)),
];
