/**
 * The contract every on-disk format implements. A format answers one
 * question, like a QEMU block driver's block-status callback: what is the
 * state of the guest range starting at `offsetBytes`, and for how many bytes
 * does that answer hold? The generic rules that QEMU's block layer applies on
 * top (clamping, request alignment, backing fall-through, the host-file
 * recursion) live in `map/`, once for all formats.
 */
import type { HostFile } from '../io/host-file.js';

/** QEMU's format (driver) names, exactly. */
export type FormatName =
  | 'raw' | 'qcow2' | 'qcow' | 'qed' | 'vmdk' | 'vpc' | 'vhdx' | 'vdi'
  | 'parallels' | 'luks' | 'bochs' | 'cloop' | 'dmg';

/** One answer of a format for a guest range (QEMU's BDRV_BLOCK_* flags). */
export interface LayerStatus {
  /** Guest bytes the answer covers, > 0; may exceed the request (the caller clamps). */
  lengthBytes: number;
  /** BDRV_BLOCK_DATA: reading reads from a file. */
  data: boolean;
  /** BDRV_BLOCK_ZERO: reads as zeroes. */
  zero: boolean;
  /** BDRV_BLOCK_OFFSET_VALID: host offset of the first byte, in `hostFile`. */
  hostOffset?: number;
  /** The file `hostOffset` refers to (qcow2 file, external data file, extent file). */
  hostFile?: HostFile;
  /** BDRV_BLOCK_RECURSE: holes of the host file under this data read as zero. */
  recurse?: boolean;
  /** BDRV_BLOCK_COMPRESSED (printed by `--compat=8.2`). */
  compressed?: boolean;
}

/** A metadata table a map will read, with the guest range it describes. */
export interface TableRead {
  file: HostFile;
  offsetBytes: number;
  lengthBytes: number;
  /** Guest bytes [guestStartBytes, guestEndBytes) whose status the table holds. */
  guestStartBytes: number;
  guestEndBytes: number;
}

/** How an overlay names its backing file, as stored in the image. */
export interface BackingReference {
  /** The name exactly as stored (not resolved). */
  name: string;
  /** The backing format recorded in the overlay, if any (forces the driver). */
  format?: string;
}

/** One internal snapshot stored in a layer (qcow2). */
export interface LayerSnapshot {
  /** The snapshot's ID string ("1", "2", …). */
  id: string;
  name: string;
  /** date_sec/date_nsec as milliseconds since the epoch. */
  createdAtMs: number;
  /** Saved VM state size (vm_state_size_large when present). */
  vmStateBytes: number;
}

/** Facts about one opened layer, for the chain metadata of the library API. */
export interface LayerDetails {
  /** Cluster / grain / block size, where the format has one. */
  clusterSizeBytes?: number;
  /** Format sub-version or subformat (qcow2 "2"/"3", vmdk "monolithicSparse"...). */
  version?: string;
  /** Header bits an auditor cares about (qcow2 dirty/corrupt, encryption...). */
  flags?: string[];
  /** External data file name as stored, if any. */
  dataFile?: string;
  /** Internal snapshots, in table order (qcow2 only). */
  snapshots?: LayerSnapshot[];
}

/** One opened image file in a chain. */
export interface ImageLayer {
  readonly format: FormatName;
  /** The name as it was opened: command-line name or resolved backing path. */
  readonly filename: string;
  /** The file the format reads its metadata from. */
  readonly file: HostFile;
  /** Virtual size in bytes (a multiple of 512, as QEMU keeps it in sectors). */
  readonly virtualSizeBytes: number;
  /** Whether the driver supports backing files (unallocated ranges fall through). */
  readonly supportsBacking: boolean;
  /** The backing reference stored in this image, or null. */
  readonly backing: BackingReference | null;
  /** QEMU's request_alignment for this node (1 for byte-based drivers). */
  readonly requestAlignmentBytes: number;
  readonly details: LayerDetails;
  /**
   * Status of the guest range [offsetBytes, offsetBytes + lengthBytes); the
   * range lies inside the virtual size and is aligned to requestAlignmentBytes.
   * Throws CorruptImageError / ReadError.
   */
  blockStatus(offsetBytes: number, lengthBytes: number): LayerStatus;
  /** Files this layer holds open besides `file` (data files, extents). */
  readonly extraFiles: readonly HostFile[];
  /**
   * The metadata tables (L2 tables, grain tables...) that block status over
   * guest bytes [fromBytes, toBytes) reads, in guest order, as the layer's
   * top-level table (L1, grain directory) names them. Optional: without it,
   * tables are read as the map walks; with it, the map stages them ahead
   * (HostFile.stage), so reads wait on the storage together, not in turn.
   */
  tableReads?(fromBytes: number, toBytes: number): Iterable<TableRead>;
}

/** What a format needs to open a layer. */
export interface OpenContext {
  /**
   * Opens another host file read-only (an extent): name as QEMU would open
   * it. `role` says what QEMU's node needs of it, for its lock check:
   * 'metadata' (sparse extents) or 'data' (flat extents, the default).
   */
  openFile(name: string, role?: 'metadata' | 'data'): HostFile;
  /**
   * Opens a qcow2 external data file. QEMU 7.2 opens a relative name from
   * the current directory; the scanner asks for the image's directory instead.
   */
  openDataFile(name: string, imageName: string): HostFile;
}

/** A format driver: probing and opening. */
export interface ImageFormat {
  readonly name: FormatName;
  /** QEMU's probe score for the first 512 bytes (0 = not this format). */
  probe(firstSector: Uint8Array, filename: string): number;
  /**
   * Opens the layer over an already opened host file. Throws
   * NotThisFormatError when the magic does not match, ImageOpenError /
   * CorruptImageError / UnsupportedImageError otherwise.
   */
  open(file: HostFile, filename: string, context: OpenContext): ImageLayer;
}
