/**
 * Format probing as QEMU does it: read the first 512 bytes (zero-padded),
 * ask every driver for a score, the highest wins; an empty file is raw.
 * Formats QEMU knows and we do not map yet are still recognised, so that
 * they fail with a clear "unsupported" error instead of being mapped as raw.
 */
import { ImageOpenError, UnsupportedImageError } from '../errors.js';
import type { HostFile } from '../io/host-file.js';
import { parallelsFormat } from './parallels/parallels-format.js';
import { qcowFormat } from './qcow/qcow-format.js';
import { qcow2Format } from './qcow2/qcow2-format.js';
import { qedFormat } from './qed/qed-format.js';
import { rawFormat } from './raw/raw-format.js';
import { recognisedOnlyFormats } from './recognised.js';
import type { FormatName, ImageFormat } from './types.js';
import { vdiFormat } from './vdi/vdi-format.js';
import { vhdxFormat } from './vhdx/vhdx-format.js';
import { vmdkFormat } from './vmdk/vmdk-format.js';
import { vpcFormat } from './vpc/vpc-format.js';

/** Formats we map (raw last), then formats we only recognise; raw is asked last. */
const NATIVE: readonly ImageFormat[] = [
  qcow2Format, qcowFormat, qedFormat, vdiFormat, vpcFormat, vmdkFormat, parallelsFormat, vhdxFormat,
];
const MAPPED: readonly ImageFormat[] = [...NATIVE, rawFormat];
const ALL: readonly ImageFormat[] = [...NATIVE, ...recognisedOnlyFormats, rawFormat];

/** All driver names QEMU 7.2's qemu-img knows (for "Unknown driver" errors). */
const QEMU_DRIVERS = new Set([
  'blkdebug', 'blklogwrites', 'blkverify', 'bochs', 'cloop', 'compress', 'copy-before-write',
  'copy-on-read', 'dmg', 'file', 'ftp', 'ftps', 'host_cdrom', 'host_device', 'http', 'https',
  'iscsi', 'iser', 'luks', 'nbd', 'null-aio', 'null-co', 'nvme', 'parallels', 'preallocate',
  'qcow', 'qcow2', 'qed', 'quorum', 'raw', 'rbd', 'replication', 'snapshot-access', 'ssh',
  'throttle', 'vdi', 'vhdx', 'vmdk', 'vpc', 'vvfat',
]);

export const PROBE_BYTES = 512;

/** The format QEMU probes from an image's first bytes (zero-padded to 512), raw when nothing scores. */
export function probeSector(firstBytes: Uint8Array, filename: string): ImageFormat {
  if (firstBytes.length === 0) return rawFormat;
  const sector = new Uint8Array(PROBE_BYTES);
  sector.set(firstBytes.subarray(0, PROBE_BYTES));
  let best: ImageFormat = rawFormat;
  let bestScore = 0;
  for (const format of ALL) {
    const score = format.probe(sector, filename);
    if (score > bestScore) {
      best = format;
      bestScore = score;
    }
  }
  return best;
}

/** Probes `file` like QEMU; returns the winning format (raw when nothing else scores). */
export function probeFormat(file: HostFile, filename: string): ImageFormat {
  if (file.sizeBytes === 0) return rawFormat;
  return probeSector(file.readAt(0, PROBE_BYTES), filename);
}

/**
 * The driver for `-f NAME` or a recorded backing format. Throws like qemu-img
 * for names it does not know, and UnsupportedImageError for drivers we do not
 * map yet.
 */
export function formatByName(name: string): ImageFormat {
  const mapped = MAPPED.find((format) => format.name === name);
  if (mapped !== undefined) return mapped;
  if (!QEMU_DRIVERS.has(name)) throw new ImageOpenError(`Unknown driver '${name}'`, 'E_UNKNOWN_DRIVER');
  throw new UnsupportedImageError(`imgaudit does not map '${name}' images yet`);
}

/** True when imgaudit maps this format natively. */
export function isMappedFormat(name: FormatName): boolean {
  return MAPPED.some((format) => format.name === name);
}

/** The format QEMU would probe for the file at `path` (raw when no magic matches). */
export function detectFormatOf(file: HostFile, path: string): FormatName {
  return probeFormat(file, path).name;
}
