/**
 * Parallels expandable images (QEMU 7.2 semantics, paraphrased): a BAT of
 * u32 entries, 0 = unallocated (the driver declares backing support, so
 * such ranges are `present: false`), else the cluster's host position in
 * sectors ("WithoutFreeSpace") or clusters ("WithouFreSpacExt"). One answer
 * covers a run of unallocated clusters or of host-contiguous ones. BAT
 * entries are not checked against the file, as in QEMU.
 *
 * Difference: QEMU 7.2 passes the remaining request length to its block
 * status as an int of sectors, so mapping an image of 1 TiB or more aborts
 * with an assertion failure; imgaudit maps it.
 */
import { createHash } from 'node:crypto';
import { NotThisFormatError } from '../../errors.js';
import type { HostFile } from '../../io/host-file.js';
import { MAX_HOST_OFFSET, checkVirtualSize, withinLimit } from '../common/limits.js';
import { EIO, errnoOpenError, mapError, openError } from '../common/open-errors.js';
import { PagedTable } from '../common/paged-table.js';
import type { ImageFormat, ImageLayer, LayerStatus } from '../types.js';
import * as S from './spec.js';

interface ParallelsHeader {
  tracks: number;
  /** BAT entry → host sectors: 1 (v1) or tracks (v2). */
  multiplier: number;
  batEntries: number;
  sectors: bigint;
  inUse: boolean;
  extOffsetSectors: bigint;
  magic: string;
}

function readHeader(file: HostFile, filename: string): ParallelsHeader {
  const h = file.readAt(0, S.HEADER_BYTES);
  const magic = h.toString('latin1', 0, 16);
  if (h.readUInt32LE(S.HDR.version) !== S.VERSION || (magic !== S.MAGIC_V1 && magic !== S.MAGIC_V2)) {
    throw new NotThisFormatError('Image not in Parallels format');
  }
  let sectors = h.readBigUInt64LE(S.HDR.nbSectors);
  if (magic === S.MAGIC_V1) sectors &= 0xffffffffn;
  const tracks = h.readUInt32LE(S.HDR.tracks);
  if (tracks === 0) throw openError('Invalid image: Zero sectors per track');
  if (tracks > S.MAX_TRACKS) throw openError('Invalid image: Too big cluster');
  const batEntries = h.readUInt32LE(S.HDR.batEntries);
  if (batEntries > S.MAX_BAT_ENTRIES) throw openError('Catalog too large');
  if (S.HEADER_BYTES + 4 * batEntries > S.MAX_READ_BYTES) {
    throw errnoOpenError(filename, EIO, `parallels: header and BAT of ${batEntries} entries exceed one read`);
  }
  return {
    tracks, batEntries, magic,
    multiplier: magic === S.MAGIC_V1 ? 1 : tracks,
    sectors,
    inUse: h.readUInt32LE(S.HDR.inUse) === S.IN_USE_MAGIC,
    extOffsetSectors: h.readBigUInt64LE(S.HDR.extOff),
  };
}

/**
 * The Format Extension cluster, checked as QEMU 7.2 checks it on open
 * (observed behaviour): magic, MD5 of the cluster after the first 24 bytes,
 * then the feature list up to its end marker — flags must be 0 and data must
 * fit the cluster (the end marker too), only dirty bitmaps are known, and a bitmap's header must fit the disk. The
 * bitmaps' contents do not affect the map.
 */
function checkFormatExtension(file: HostFile, header: ParallelsHeader): void {
  const clusterBytes = header.tracks * 512;
  withinLimit('parallels', 'format extension cluster', clusterBytes, S.MAX_EXT_CLUSTER_BYTES);
  const at = header.extOffsetSectors * 512n;
  const cluster = at >= BigInt(file.sizeBytes) ? Buffer.alloc(clusterBytes) : file.readAt(Number(at), clusterBytes);
  const magic = cluster.readBigUInt64LE(0);
  if (magic !== S.EXT_MAGIC) {
    throw openError(`Wrong parallels Format Extension magic: 0x${magic.toString(16)}, expected: 0x${S.EXT_MAGIC.toString(16)}`);
  }
  const md5 = createHash('md5').update(cluster.subarray(S.EXT_HEADER_BYTES)).digest();
  if (!md5.equals(cluster.subarray(8, 24))) {
    throw openError('Wrong checksum in Format Extension header. Format extension is corrupted.');
  }
  const bitmaps = new Set<string>();
  for (let pos = S.EXT_HEADER_BYTES; ;) {
    if (pos + S.FEATURE_HEADER_BYTES > clusterBytes) {
      throw openError('Feature data_size exceedes Format Extension cluster');
    }
    const featureMagic = cluster.readBigUInt64LE(pos);
    const flags = cluster.readBigUInt64LE(pos + 8);
    const dataSize = cluster.readUInt32LE(pos + 16);
    pos += S.FEATURE_HEADER_BYTES;
    if (flags !== 0n) throw openError('Flags for extension feature are unsupported');
    if (dataSize > clusterBytes - pos) throw openError('Feature data_size exceedes Format Extension cluster');
    if (featureMagic === S.FEATURE_END) return;
    if (featureMagic !== S.FEATURE_DIRTY_BITMAP) throw openError(`Unknown feature: 0x${featureMagic.toString(16)}`);
    const name = checkBitmapFeature(cluster.subarray(pos, pos + dataSize), header, clusterBytes);
    if (bitmaps.has(name)) throw openError(`Bitmap already exists: ${name}`);
    bitmaps.add(name);
    pos += Math.ceil(dataSize / 8) * 8;
  }
}

/** A dirty-bitmap feature: size, granularity, L1 table length. Returns its name (the id as a UUID). */
function checkBitmapFeature(data: Buffer, header: ParallelsHeader, clusterBytes: number): string {
  if (data.length < S.BITMAP_HEADER_BYTES) {
    throw openError(`Too small Bitmap Feature area in Parallels Format Extension: ${data.length} bytes, expected at least ${S.BITMAP_HEADER_BYTES} bytes`);
  }
  const bitmapSectors = data.readBigUInt64LE(0);
  const diskSectors = header.sectors;
  if (bitmapSectors !== diskSectors) {
    throw openError(`Bitmap size (in sectors) ${bitmapSectors} differs from disk size in sectors ${diskSectors}`);
  }
  const granularity = BigInt(data.readUInt32LE(24)) * 512n;
  if (granularity === 0n || (granularity & (granularity - 1n)) !== 0n) {
    // QEMU 7.2 fails an assertion (abort) here.
    throw openError(`parallels: dirty bitmap granularity of ${granularity / 512n} sectors is not a power of two`);
  }
  const l1Size = data.readUInt32LE(28);
  const coverage = BigInt(clusterBytes) * 8n * granularity;
  const expected = (diskSectors * 512n + coverage - 1n) / coverage;
  if (BigInt(l1Size) !== expected) {
    throw openError(`Bitmap table size ${l1Size} does not correspond to bitmap size and cluster size. Expected ${expected}`);
  }
  if (S.BITMAP_HEADER_BYTES + 8 * l1Size > data.length) {
    throw openError('Bitmaps feature corrupted: l1 table exceeds extension data_size');
  }
  const id = data.toString('hex', 8, 24);
  return `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20)}`;
}

class ParallelsLayer implements ImageLayer {
  readonly format = 'parallels' as const;
  readonly virtualSizeBytes: number;
  readonly supportsBacking = true;
  readonly backing = null;
  readonly requestAlignmentBytes = S.REQUEST_ALIGNMENT;
  readonly details;
  readonly extraFiles = [];
  private readonly header: ParallelsHeader;
  private readonly bat: PagedTable;
  /** BAT entries that can be consulted: the header's count, at most the clusters of the disk. */
  private readonly batLoaded: number;

  constructor(readonly file: HostFile, readonly filename: string) {
    const header = readHeader(file, filename);
    this.header = header;
    if (header.extOffsetSectors !== 0n) checkFormatExtension(file, header);
    this.virtualSizeBytes = checkVirtualSize('parallels', header.sectors);
    const used = Math.ceil(this.virtualSizeBytes / 512 / header.tracks);
    this.batLoaded = Math.min(header.batEntries, used);
    this.bat = new PagedTable(file, S.HEADER_BYTES, this.batLoaded * 4);
    this.details = {
      clusterSizeBytes: header.tracks * 512,
      version: header.magic,
      // in_use: not closed cleanly (QEMU refuses a read-write open); the same finding as qcow2's dirty bit.
      flags: header.inUse ? ['dirty'] : [],
    };
  }

  /** Host sector of the cluster `index`, or -1 when unallocated. */
  private hostSector(index: number): number {
    if (index >= this.batLoaded) return -1;
    const entry = this.bat.u32(index * 4, true);
    return entry === 0 ? -1 : entry * this.header.multiplier;
  }

  blockStatus(offsetBytes: number, lengthBytes: number): LayerStatus {
    const tracks = this.header.tracks;
    const sector = offsetBytes / 512;
    const endSector = (offsetBytes + lengthBytes) / 512;
    const first = Math.floor(sector / tracks);
    const start = this.hostSector(first);
    if (start < 0) {
      // Unallocated clusters up to the next BAT entry that is set.
      const next = this.bat.firstNonZeroEntry(first + 1, this.batLoaded, 4);
      const end = next >= this.batLoaded ? endSector : Math.min(next * tracks, endSector);
      return { lengthBytes: end * 512 - offsetBytes, data: false, zero: false };
    }
    // Clusters each following the previous one on the host.
    let index = first + 1;
    for (let expected = start + tracks; index * tracks < endSector && index < this.batLoaded && this.hostSector(index) === expected; expected += tracks) {
      index++;
    }
    const length = Math.min(index * tracks, endSector) * 512 - offsetBytes;
    const host = (start + (sector % tracks)) * 512;
    if (host > MAX_HOST_OFFSET - length) {
      throw mapError(`parallels image '${this.filename}': BAT entry ${first} points beyond 2^53 bytes`);
    }
    return { lengthBytes: length, data: true, zero: false, hostOffset: host, hostFile: this.file };
  }
}

export const parallelsFormat: ImageFormat = {
  name: 'parallels',
  probe(sector) {
    const b = Buffer.from(sector.buffer, sector.byteOffset, sector.byteLength);
    if (b.length < S.HEADER_BYTES) return 0;
    const magic = b.toString('latin1', 0, 16);
    return (magic === S.MAGIC_V1 || magic === S.MAGIC_V2) && b.readUInt32LE(S.HDR.version) === S.VERSION ? 100 : 0;
  },
  open: (file, filename) => new ParallelsLayer(file, filename),
};
