/**
 * VMDK images (QEMU 7.2 semantics, paraphrased).
 *
 * A vmdk node is a list of extents laid end to end: a sparse file opened
 * directly (monolithicSparse, streamOptimized, COWD), or a text descriptor
 * whose RW extent lines name flat files (FLAT/VMFS) and sparse files
 * (SPARSE/VMFSSPARSE), relative to the descriptor's directory string.
 *
 * Block status, one grain per answer in QEMU (runs here, merged alike):
 * - flat extent: data at the extent's file offset to the end of the extent,
 *   holes of that file read as zero (RECURSE);
 * - sparse grain: unallocated (falls through to the backing file), zeroed
 *   (grain table entry 1 when the header has the zeroed-grain flag), data at
 *   the grain's sector, or — in compressed (stream-optimized) extents —
 *   data without an offset.
 *
 * Backing: parentFileNameHint, found anywhere in the descriptor, opened
 * with the format forced to vmdk (QEMU sets backing_format "vmdk"), so a
 * raw or qcow2 parent fails to open. The descriptor must contain CID and
 * parentCID (QEMU reads both and fails with EINVAL otherwise).
 */
import { NotThisFormatError, UnsupportedImageError } from '../../errors.js';
import type { HostFile } from '../../io/host-file.js';
import { MAX_HOST_OFFSET, checkVirtualSize } from '../common/limits.js';
import { nameFromLatin1 } from '../common/names.js';
import { EINVAL, errnoOpenError, mapError, openError } from '../common/open-errors.js';
import type { ImageFormat, ImageLayer, LayerStatus, OpenContext } from '../types.js';
import { cString, descriptionValue, extentLines, hasCid, isVmdkDescriptor, parentFileNameHint } from './descriptor.js';
import { Grain, type SparseExtentInfo, SparseTables, readVmdk3, readVmdk4 } from './sparse.js';
import * as S from './spec.js';

interface Extent {
  /** Guest range [startBytes, endBytes). */
  startBytes: number;
  endBytes: number;
  file: HostFile;
  /** Flat extents: host offset of the extent's first byte. */
  flatStartBytes?: number;
  sparse?: SparseTables;
}

/** A grain's state: kind and, for uncompressed data, its first sector. */
interface GrainState { kind: Grain; sector: number }

/** The directory part of a name, up to and including the last '/' (QEMU's bdrv_dirname for files). */
const dirnameOf = (name: string): string => name.slice(0, name.lastIndexOf('/') + 1);

/** Opens the extents of one vmdk node, in QEMU's order. */
class ExtentList {
  readonly extents: Extent[] = [];
  totalSectors = 0n;
  createType: string | null = null;
  private readonly files = new Map<string, HostFile>();
  private readonly tables = new Map<HostFile, SparseTables>();

  constructor(private readonly topFile: HostFile, private readonly context: OpenContext) {
    this.files.set(topFile.filename, topFile);
  }

  /** Extent files other than the top file. */
  get extraFiles(): HostFile[] {
    return [...this.files.values()].filter((file) => file !== this.topFile);
  }

  /** QEMU's vmdk_read_desc: the text at `at` (≤ 1 MiB - 1 bytes, to the first NUL). */
  readDescriptor(file: HostFile, at: bigint): string {
    if (file.lengthBytes < 4) throw openError('File is too small, not a valid image');
    const size = Math.min(file.lengthBytes, S.MAX_DESCRIPTOR_BYTES);
    if (at >= BigInt(file.sizeBytes)) return '';
    return cString(file.readAt(Number(at), size));
  }

  /** A sparse file (KDMV or COWD), opened directly or as a descriptor's extent. */
  openSparse(file: HostFile, depth: number): void {
    if (file.lengthBytes < 4) throw openError('File is too small, not a valid image');
    const magic = file.readAt(0, 4).readUInt32BE(0);
    if (magic === S.VMDK3_MAGIC) {
      this.addSparse(file, readVmdk3(file));
      return;
    }
    if (magic !== S.VMDK4_MAGIC) throw openError('Image not in VMDK format');
    const info = readVmdk4(file, this.topFile);
    if ('descriptorAt' in info) {
      this.openDescriptor(this.readDescriptor(file, info.descriptorAt), depth + 1);
      return;
    }
    this.createType ??= 'monolithicSparse';
    if (info.compressed) this.createType = 'streamOptimized';
    this.addSparse(file, info);
  }

  private addSparse(file: HostFile, info: SparseExtentInfo): void {
    // Extent lines naming the same sparse file share its tables (and caches).
    let sparse = this.tables.get(file);
    if (sparse === undefined) {
      sparse = new SparseTables(file, info);
      this.tables.set(file, sparse);
    }
    this.add(info.sectors, { file, sparse });
  }

  private add(sectors: bigint, extent: Omit<Extent, 'startBytes' | 'endBytes'>): void {
    if (this.extents.length >= S.MAX_EXTENTS) {
      throw new UnsupportedImageError(`vmdk: more than ${S.MAX_EXTENTS} extents`);
    }
    // QEMU sums extent sizes as int64 sectors; absurd totals fail once the node is open (checkVirtualSize).
    const start = this.totalSectors;
    this.totalSectors = BigInt.asIntN(64, this.totalSectors + BigInt.asIntN(64, sectors));
    this.extents.push({ ...extent, startBytes: Number(start * 512n), endBytes: Number(this.totalSectors * 512n) });
  }

  /** A text descriptor (vmdk_open_desc_file): createType, then the extent lines in order. */
  openDescriptor(desc: string, depth: number): void {
    if (depth > S.MAX_DESCRIPTOR_NESTING) throw new UnsupportedImageError('vmdk: descriptors nested too deeply');
    const createType = descriptionValue(desc, 'createType', S.CREATE_TYPE_BUFFER);
    if (createType === null) throw new NotThisFormatError('invalid VMDK image descriptor');
    if (!S.DESCRIPTOR_TYPES.includes(createType)) throw openError(`Unsupported image type '${nameFromLatin1(createType)}'`, 'E_UNSUPPORTED');
    this.createType = createType;
    for (const line of extentLines(desc)) {
      if ('invalidLine' in line) throw openError(`Invalid extent line: ${nameFromLatin1(line.invalidLine)}`);
      const fileName = nameFromLatin1(line.fileName);
      const path = fileName.startsWith('/') ? fileName : dirnameOf(this.topFile.filename) + fileName;
      const file = this.openExtentFile(path, line.type === 'FLAT' || line.type === 'VMFS' ? 'data' : 'metadata');
      if (line.type === 'FLAT' || line.type === 'VMFS') {
        const flatStart = line.flatOffset * 512n;
        if (flatStart + line.sectors * 512n > BigInt(MAX_HOST_OFFSET)) {
          throw new UnsupportedImageError(`vmdk: flat extent '${path}' lies beyond 2^53 bytes`);
        }
        this.add(line.sectors, { file, flatStartBytes: Number(flatStart) });
      } else if (line.type === 'SESPARSE') {
        throw new UnsupportedImageError(`imgaudit does not map seSparse vmdk extents ('${path}')`);
      } else {
        this.openSparse(file, depth);
      }
    }
  }

  private openExtentFile(path: string, role: 'metadata' | 'data'): HostFile {
    const colon = path.indexOf(':');
    const slash = path.indexOf('/');
    if (colon >= 0 && (slash < 0 || colon < slash)) {
      throw new UnsupportedImageError(`imgaudit does not open vmdk extents with a protocol prefix ('${path}')`, 'E_PROTOCOL_BACKING');
    }
    let file = this.files.get(path);
    if (file === undefined) {
      file = this.context.openFile(path, role);
      this.files.set(path, file);
    }
    return file;
  }
}

class VmdkLayer implements ImageLayer {
  readonly format = 'vmdk' as const;
  readonly virtualSizeBytes: number;
  readonly supportsBacking = true;
  readonly backing;
  readonly requestAlignmentBytes = 1;
  readonly details;
  readonly extraFiles: HostFile[];
  private readonly extents: Extent[];
  /** Extent ends only grow (no negative sizes): binary search finds QEMU's extent. */
  private readonly monotonic: boolean;

  constructor(readonly file: HostFile, readonly filename: string, context: OpenContext) {
    if (file.lengthBytes < 4) throw openError('File is too small, not a valid image');
    const list = new ExtentList(file, context);
    const head = file.readAt(0, 4).readUInt32BE(0);
    const sparse = head === S.VMDK4_MAGIC || head === S.VMDK3_MAGIC;
    if (sparse) list.openSparse(file, 0);
    else list.openDescriptor(list.readDescriptor(file, 0n), 0);
    this.extents = list.extents;
    this.monotonic = this.extents.every((e, i) => i === 0 || e.endBytes >= this.extents[i - 1]!.endBytes);
    this.extraFiles = list.extraFiles;

    const descOffset = sparse ? S.SPARSE_DESC_OFFSET : 0;
    const desc = Buffer.alloc(S.DESC_SIZE + 1);
    file.readInto(desc.subarray(0, S.DESC_SIZE), descOffset);
    const hint = parentFileNameHint(desc);
    if (hint === 'invalid') throw errnoOpenError(filename, EINVAL, 'vmdk: parentFileNameHint without a closing quote or too long');
    if (!hasCid(desc, 'CID')) throw errnoOpenError(filename, EINVAL, 'vmdk: descriptor has no CID');
    if (!hasCid(desc, 'parentCID')) throw errnoOpenError(filename, EINVAL, 'vmdk: descriptor has no parentCID');
    this.backing = hint === null || hint === '' ? null : { name: nameFromLatin1(hint), format: 'vmdk' };
    this.virtualSizeBytes = checkVirtualSize('vmdk', list.totalSectors);

    const firstSparse = this.extents.find((e) => e.sparse !== undefined)?.sparse;
    this.details = {
      version: list.createType ?? 'unknown',
      ...(firstSparse ? { clusterSizeBytes: firstSparse.info.grainSectors * 512 } : {}),
      flags: this.extents.some((e) => e.sparse?.info.compressed) ? ['compressed'] : [],
    };
  }

  /** QEMU's find_extent: the first extent whose end lies after `offset`. */
  private extentAt(offset: number): Extent {
    if (!this.monotonic) {
      const found = this.extents.find((e) => offset < e.endBytes);
      if (found === undefined) throw mapError(`vmdk image '${this.filename}': no extent at 0x${offset.toString(16)}`);
      return found;
    }
    let lo = 0;
    let hi = this.extents.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (offset < this.extents[mid]!.endBytes) hi = mid;
      else lo = mid + 1;
    }
    const extent = this.extents[lo];
    if (extent === undefined || offset >= extent.endBytes) throw mapError(`vmdk image '${this.filename}': no extent at 0x${offset.toString(16)}`);
    return extent;
  }

  blockStatus(offsetBytes: number, lengthBytes: number): LayerStatus {
    const extent = this.extentAt(offsetBytes);
    const rel = offsetBytes - extent.startBytes;
    if (extent.sparse === undefined) {
      return {
        lengthBytes: extent.endBytes - offsetBytes, data: true, zero: false,
        hostOffset: extent.flatStartBytes! + rel, hostFile: extent.file, recurse: true,
      };
    }
    const tables = extent.sparse;
    const info = tables.info;
    const grainBytes = info.grainSectors * 512;
    const first = Math.floor(rel / grainBytes);
    const inGrain = rel % grainBytes;
    // Grains that start inside the extent; the last one may reach past its end, as in QEMU.
    const lastGrain = Math.ceil((extent.endBytes - extent.startBytes) / grainBytes) - 1;
    const relEnd = rel + lengthBytes;
    const state = this.grain(tables, first, extent);
    // Grains [first, stop) may join the run; then walk them a grain table at a time.
    const stop = Math.min(lastGrain + 1, Math.ceil(relEnd / grainBytes));
    let count = 1;
    while (first + count < stop) {
      const g = first + count;
      const gdIndex = Math.floor(g / info.gtEntries);
      if (gdIndex >= info.gdEntries) break; // QEMU fails when it gets there
      const gt = tables.gtSector(gdIndex, extent.file.filename);
      if (gt === 0) {
        if (state.kind !== Grain.Unallocated) break;
        // Whole unallocated grain tables, up to the next allocated one.
        const lastGd = Math.ceil(stop / info.gtEntries);
        count = tables.nextAllocatedGd(gdIndex + 1, lastGd) * info.gtEntries - first;
        continue;
      }
      const from = g % info.gtEntries;
      const to = Math.min(info.gtEntries, from + (stop - g));
      const matched = tables.runInTable(gt, from, to, state.kind, info.compressed || state.kind !== Grain.Data ? -1 : state.sector + count * info.grainSectors);
      count += matched;
      if (from + matched < to) break;
    }
    count = Math.min(count, lastGrain + 1 - first);
    const length = count * grainBytes - inGrain;
    if (state.kind === Grain.Unallocated) return { lengthBytes: length, data: false, zero: false };
    if (state.kind === Grain.Zeroed) return { lengthBytes: length, data: false, zero: true };
    if (info.compressed) return { lengthBytes: length, data: true, zero: false, compressed: true };
    return { lengthBytes: length, data: true, zero: false, hostOffset: state.sector * 512 + inGrain, hostFile: extent.file };
  }

  /** QEMU's get_cluster_offset for grain `g` of a sparse extent. */
  private grain(tables: SparseTables, g: number, extent: Extent): GrainState {
    const info = tables.info;
    const gt = tables.gtSector(Math.floor(g / info.gtEntries), extent.file.filename);
    if (gt === 0) return { kind: Grain.Unallocated, sector: 0 };
    const entry = tables.gte(gt, g % info.gtEntries);
    if (entry === 0) return { kind: Grain.Unallocated, sector: 0 };
    if (info.zeroGrain && entry === S.GTE_ZEROED) return { kind: Grain.Zeroed, sector: 0 };
    return { kind: Grain.Data, sector: entry };
  }
}

export const vmdkFormat: ImageFormat = {
  name: 'vmdk',
  probe(sector) {
    const b = Buffer.from(sector.buffer, sector.byteOffset, sector.byteLength);
    if (b.length < 4) return 0;
    const magic = b.readUInt32BE(0);
    return magic === S.VMDK4_MAGIC || magic === S.VMDK3_MAGIC || isVmdkDescriptor(b) ? 100 : 0;
  },
  open: (file, filename, context) => new VmdkLayer(file, filename, context),
};

