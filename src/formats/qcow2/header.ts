/**
 * qcow2 header and header extensions, validated like QEMU 7.2's qcow2 open
 * (messages are QEMU's where `imgaudit map` must print the same text).
 */
import { ImageOpenError, NotThisFormatError, UnsupportedImageError } from '../../errors.js';
import type { HostFile } from '../../io/host-file.js';
import { imageName } from '../common/names.js';
import { cHex, u32, u64 } from './bytes.js';
import * as S from './spec.js';

export interface Qcow2Header {
  version: number;
  clusterBits: number;
  clusterSizeBytes: number;
  virtualSizeBytes: number;
  cryptMethod: number;
  l1Size: number;
  l1TableOffset: number;
  refcountTableOffset: number;
  refcountTableClusters: number;
  incompatibleFeatures: number;
  compatibleFeatures: number;
  autoclearFeatures: number;
  refcountOrder: number;
  headerLengthBytes: number;
  backingFileName: string | null;
  backingFormat: string | null;
  dataFileName: string | null;
  hasExtendedL2: boolean;
  /** Internal snapshots: count and table offset (validated like QEMU's open). */
  nbSnapshots: number;
  snapshotsOffset: number;
}

interface Feature { type: number; bit: number; name: string }

function openError(message: string): never {
  throw new ImageOpenError(message, 'E_CORRUPT_HEADER');
}

function unsupportedFeatures(mask: number, table: Feature[]): never {
  const names: string[] = [];
  let rest = mask;
  for (const feature of table) {
    if (feature.type === 0 && feature.bit < 32 && (rest & (1 << feature.bit)) !== 0) {
      names.push(feature.name.slice(0, 46));
      rest &= ~(1 << feature.bit);
    }
  }
  if (rest !== 0) names.push(`Unknown incompatible feature: ${(rest >>> 0).toString(16)}`);
  throw new ImageOpenError(`Unsupported qcow2 feature(s): ${names.join(', ')}`, 'E_UNSUPPORTED_FEATURE');
}

/** Reads one header extension area [start, end); returns what map needs. */
function readExtensions(file: HostFile, start: number, end: number) {
  const found = {
    backingFormat: null as string | null, dataFileName: null as string | null, features: [] as Feature[],
    bitmapsBytes: null as number | null, cryptoHeaderBytes: null as number | null,
  };
  // Read piece by piece, as QEMU does: reading more than needed fills the
  // page cache, which can make unwritten extents look like data to SEEK_DATA.
  let offset = start;
  while (offset < end) {
    const head = file.readAt(offset, 8);
    const type = u32(head, 0);
    const length = u32(head, 4);
    offset += 8;
    if (offset > end || length > end - offset) openError('Header extension too large');
    const body = type === S.EXT_END ? Buffer.alloc(0) : file.readAt(offset, length);
    if (type === S.EXT_END) return found;
    if (type === S.EXT_BACKING_FORMAT) {
      if (length >= S.BACKING_FORMAT_BYTES) {
        openError(`ERROR: ext_backing_format: len=${length} too large (>=${S.BACKING_FORMAT_BYTES})`);
      }
      found.backingFormat = body.toString('latin1').replace(/\0.*$/s, '');
    } else if (type === S.EXT_BITMAPS) {
      found.bitmapsBytes = length;
    } else if (type === S.EXT_CRYPTO_HEADER) {
      found.cryptoHeaderBytes = length;
    } else if (type === S.EXT_DATA_FILE) {
      found.dataFileName = imageName(body);
    } else if (type === S.EXT_FEATURE_TABLE) {
      for (let at = 0; at + 48 <= length; at += 48) {
        found.features.push({
          type: body[at]!, bit: body[at + 1]!,
          name: body.subarray(at + 2, at + 48).toString('latin1').replace(/\0.*$/s, ''),
        });
      }
    }
    offset += (length + 7) & ~7;
  }
  return found;
}

/** Parses and validates the header. Throws NotThisFormatError / ImageOpenError. */
export function readQcow2Header(file: HostFile): Qcow2Header {
  const head = file.readAt(0, S.V3_MIN_HEADER_BYTES + 8);
  if (u32(head, S.HDR.magic) !== S.QCOW2_MAGIC) {
    throw new NotThisFormatError('Image is not in qcow2 format');
  }
  const version = u32(head, S.HDR.version);
  if (version < 2 || version > 3) {
    throw new ImageOpenError(`Unsupported qcow2 version ${version}`, 'E_UNSUPPORTED_VERSION');
  }
  const clusterBits = u32(head, S.HDR.clusterBits);
  if (clusterBits < S.MIN_CLUSTER_BITS || clusterBits > S.MAX_CLUSTER_BITS) {
    openError(`Unsupported cluster size: 2^${clusterBits}`);
  }
  const clusterSizeBytes = 2 ** clusterBits;
  const v3 = version === 3;
  const headerLengthBytes = v3 ? u32(head, S.HDR.headerLength) : S.V2_HEADER_BYTES;
  if (v3 && headerLengthBytes < S.V3_MIN_HEADER_BYTES) openError('qcow2 header too short');
  if (headerLengthBytes > clusterSizeBytes) openError('qcow2 header exceeds cluster size');
  const incompatibleFeatures = v3 ? u32(head, S.HDR.incompatibleFeatures + 4) : 0;
  const incompatibleHigh = v3 ? u32(head, S.HDR.incompatibleFeatures) : 0;
  const compressionType = headerLengthBytes > S.HDR.compressionType ? head[S.HDR.compressionType]! : 0;
  if (compressionType > 1) openError(`qcow2: unknown compression type: ${compressionType}`);
  const compressionBit = (incompatibleFeatures & S.INCOMPAT_COMPRESSION) !== 0;
  if (compressionType === 0 && compressionBit) openError('qcow2: Compression type incompatible feature bit must not be set');
  if (compressionType !== 0 && !compressionBit) openError('qcow2: Compression type incompatible feature bit must be set');
  const refcountOrder = v3 ? u32(head, S.HDR.refcountOrder) : 4;

  const backingFileOffset = u64(head, S.HDR.backingFileOffset, 'backing file offset');
  const extensionEnd = backingFileOffset !== 0 ? Math.min(backingFileOffset, clusterSizeBytes) : clusterSizeBytes;
  if (backingFileOffset > clusterSizeBytes) openError('Invalid backing file offset');
  const extensions = readExtensions(file, headerLengthBytes, extensionEnd);

  if (incompatibleHigh !== 0 || (incompatibleFeatures & ~S.INCOMPAT_KNOWN_MASK) !== 0) {
    if (incompatibleHigh !== 0) {
      throw new ImageOpenError('Unsupported qcow2 feature(s): Unknown incompatible feature: ' +
        ((BigInt(incompatibleHigh) << 32n) | BigInt(incompatibleFeatures & ~S.INCOMPAT_KNOWN_MASK)).toString(16), 'E_UNSUPPORTED_FEATURE');
    }
    unsupportedFeatures(incompatibleFeatures & ~S.INCOMPAT_KNOWN_MASK, extensions.features);
  }
  if (refcountOrder > 6) openError('Reference count entry width too large; may not exceed 64 bits');
  const hasExtendedL2 = (incompatibleFeatures & S.INCOMPAT_EXTL2) !== 0;
  if (hasExtendedL2 && clusterSizeBytes / S.EXTL2_SUBCLUSTERS < 512) {
    openError(`Unsupported subcluster size: ${clusterSizeBytes / S.EXTL2_SUBCLUSTERS}`);
  }

  const cryptMethod = u32(head, S.HDR.cryptMethod);
  if (cryptMethod > S.CRYPT_LUKS) openError(`Unsupported encryption method ${cryptMethod | 0}`);
  const refcountTableOffset = u64(head, S.HDR.refcountTableOffset, 'refcount table offset');
  const refcountTableClusters = u32(head, S.HDR.refcountTableClusters);
  if (refcountTableClusters === 0) openError('Image does not contain a reference count table');
  validateTable(refcountTableOffset, refcountTableClusters, clusterSizeBytes, S.MAX_REFTABLE_BYTES, 'Reference count table', clusterSizeBytes);
  const nbSnapshots = u32(head, S.HDR.nbSnapshots);
  const snapshotsOffset = Number(head.readBigUInt64BE(S.HDR.snapshotsOffset) & ((1n << 62n) - 1n));
  validateTable(snapshotsOffset, nbSnapshots, S.SNAPSHOT_HEADER_BYTES, S.MAX_SNAPSHOTS * S.SNAPSHOT_HEADER_BYTES, 'Snapshot table', clusterSizeBytes);

  // Sizes are exact as doubles while they are multiples of 512 below 2^62.
  const sizeField = head.readBigUInt64BE(S.HDR.size);
  if (sizeField > S.MAX_VIRTUAL_SIZE) {
    throw new UnsupportedImageError(`qcow2: virtual size 0x${sizeField.toString(16)} exceeds 2^62 bytes`);
  }
  const virtualSizeRaw = Number((sizeField / 512n) * 512n);
  const sizeRoundedUp = Number(((sizeField + 511n) / 512n) * 512n);
  const l1Size = u32(head, S.HDR.l1Size);
  if (l1Size > S.MAX_L1_TABLE_BYTES / 8) openError('Active L1 table too large');
  const l2Entries = clusterSizeBytes / (hasExtendedL2 ? 16 : 8);
  const l1Needed = Math.ceil(sizeRoundedUp / (clusterSizeBytes * l2Entries));
  if (l1Needed > 0x7fffffff) openError('Image is too big');
  if (l1Size < l1Needed) openError('L1 table is too small');
  const l1TableOffset = u64(head, S.HDR.l1TableOffset, 'L1 table offset');
  if (l1Size > 0) validateTable(l1TableOffset, l1Size, 8, S.MAX_L1_TABLE_BYTES, 'Active L1 table', clusterSizeBytes);

  if (extensions.bitmapsBytes !== null && extensions.bitmapsBytes !== S.BITMAPS_EXT_BYTES) {
    openError('bitmaps_ext: Invalid extension length');
  }
  if (extensions.cryptoHeaderBytes !== null) {
    if (cryptMethod !== S.CRYPT_LUKS) openError('CRYPTO header extension only expected with LUKS encryption method');
    if (extensions.cryptoHeaderBytes !== S.CRYPTO_EXT_BYTES) {
      openError(`CRYPTO header extension size ${extensions.cryptoHeaderBytes}, but expected size ${S.CRYPTO_EXT_BYTES}`);
    }
  }
  const hasDataFile = (incompatibleFeatures & S.INCOMPAT_DATA_FILE) !== 0;
  if (hasDataFile && extensions.dataFileName === null) {
    openError("'data-file' is required for this image");
  }
  const autoclear = v3 ? u32(head, S.HDR.autoclearFeatures + 4) : 0;
  if ((autoclear & S.AUTOCLEAR_DATA_FILE_RAW) !== 0 && !hasDataFile) openError('data-file-raw requires a data file');
  if (cryptMethod === S.CRYPT_LUKS && extensions.cryptoHeaderBytes === null) {
    openError(`Missing CRYPTO header for crypt method ${cryptMethod}`);
  }

  let backingFileName: string | null = null;
  if (backingFileOffset !== 0) {
    const length = u32(head, S.HDR.backingFileSize);
    if (length > Math.min(S.MAX_BACKING_NAME_BYTES, clusterSizeBytes - backingFileOffset)) {
      openError('Backing file name too long');
    }
    // QEMU keeps the name as a C string: it ends at the first NUL (UTF-8 decoded, as the other formats' names).
    backingFileName = imageName(file.readAt(backingFileOffset, length));
    if (backingFileName === '') backingFileName = null;
  }

  return {
    version, clusterBits, clusterSizeBytes,
    virtualSizeBytes: virtualSizeRaw,
    cryptMethod,
    l1Size, l1TableOffset, refcountTableOffset, refcountTableClusters,
    incompatibleFeatures,
    compatibleFeatures: v3 ? u32(head, S.HDR.compatibleFeatures + 4) : 0,
    autoclearFeatures: autoclear,
    refcountOrder, headerLengthBytes,
    backingFileName,
    backingFormat: extensions.backingFormat,
    dataFileName: (incompatibleFeatures & S.INCOMPAT_DATA_FILE) !== 0 ? extensions.dataFileName : null,
    hasExtendedL2,
    nbSnapshots, snapshotsOffset,
  };
}

/** QEMU's qcow2_validate_table: size limit, then offset sanity and alignment. */
function validateTable(offset: number, entries: number, entryBytes: number, maxBytes: number, name: string, clusterSizeBytes: number): void {
  if (entries > maxBytes / entryBytes) openError(`${name} too large`);
  if (Number.MAX_SAFE_INTEGER - entries * entryBytes < offset || offset % clusterSizeBytes !== 0) {
    openError(`${name} offset invalid`);
  }
}

export { cHex };
