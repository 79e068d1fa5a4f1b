/**
 * qemu-img map of an NBD export (block/nbd.c nbd_client_co_block_status
 * under qemu-img's loop), asynchronously: the format engine stays
 * synchronous over local files, and an export is read through the
 * promise-based NBD client instead. The export is the image (raw, possibly
 * an `offset`/`size` window of it; other formats over NBD are refused by
 * name); every answer is depth 0, `offset` = the export offset, and the
 * File column is QEMU's canonical NBD name. Entries merge exactly as in
 * map-entries.ts.
 */
import { ImageOpenError, UnsupportedImageError } from '../errors.js';
import { probeSector } from '../formats/registry.js';
import { NbdClient, type NbdClientOptions } from '../io/nbd/client.js';
import * as P from '../io/nbd/protocol.js';
import { type EmittedEntry, EntryMerger, type MapRangeOptions, mapRange } from './map-entries.js';
import type { MapEntry } from './map-entry.js';
import { checkFormatLeftovers, rawWindow } from './open/format-options.js';
import type { NbdTarget } from './open/nbd-address.js';
import type { NodeSpec } from './open/node-spec.js';

const INT_MAX = 0x7fffffff;
const INT64_MAX = (1n << 63n) - 1n;

/** True when a qcow2 header names a relative backing file (QEMU cannot resolve it under an NBD node). */
async function hasRelativeBacking(client: NbdClient, header: Buffer): Promise<boolean> {
  if (header.length < 20) return false;
  const offset = header.readBigUInt64BE(8);
  const length = header.readUInt32BE(16);
  if (offset === 0n || length === 0 || length > 1023 || offset + BigInt(length) > BigInt(client.sizeBytes)) return false;
  const name = (await client.read(Number(offset), length)).toString('latin1');
  return !name.startsWith('/') && !/^[^/]*:/.test(name);
}

/** An opened NBD image: its size and map. */
export class NbdImage {
  private constructor(
    private readonly client: NbdClient,
    private readonly displayName: string,
    /** The virtual size (export size rounded up to 512, or the raw window). */
    readonly virtualSizeBytes: number,
    private readonly windowOffset: number,
    /** The export's length as the block layer sees it (rounded up to 512). */
    private readonly nodeLength: number,
  ) {}

  /**
   * Connects to the export of `spec` and opens the image on it like
   * qemu-img: raw unless another format probes (refused), raw windows.
   */
  static async open(spec: NodeSpec, target: NbdTarget, connection: Omit<NbdClientOptions, 'exportName' | 'dirtyBitmap'>): Promise<NbdImage> {
    const client = await NbdClient.open({
      ...connection, exportName: target.exportName ?? '', dirtyBitmap: target.dirtyBitmap,
    });
    try {
      const nodeLength = Math.ceil(client.sizeBytes / 512) * 512;
      if (spec.kind !== 'format') return new NbdImage(client, target.displayName, nodeLength, 0, nodeLength);
      const first = client.sizeBytes === 0 ? Buffer.alloc(0) : await client.read(0, Math.min(512, client.sizeBytes));
      const probed = probeSector(first, target.displayName).name;
      const driver = spec.driver ?? probed;
      if (driver !== 'raw') {
        if (driver === 'qcow2' && probed !== 'qcow2') throw new ImageOpenError('Image is not in qcow2 format', 'E_NOT_THIS_FORMAT');
        if (driver === 'qcow2' && await hasRelativeBacking(client, first)) {
          throw new ImageOpenError('Cannot generate a base directory for NBD nodes', 'E_NBD_BACKING');
        }
        throw new UnsupportedImageError(`imgaudit does not read '${driver}' images over NBD (only raw exports)`, 'E_UNSUPPORTED_DRIVER');
      }
      const options = new Map(spec.options);
      const window = rawWindow(options, nodeLength);
      options.delete('offset');
      options.delete('size');
      checkFormatLeftovers(options, 'raw');
      return window === undefined
        ? new NbdImage(client, target.displayName, nodeLength, 0, nodeLength)
        : new NbdImage(client, target.displayName, window.sizeBytes, window.offsetBytes, nodeLength);
    } catch (error) {
      client.close();
      throw error;
    }
  }

  /** The entry for [offset, offset + bytes) of the image (offset inside it). */
  private async status(offset: number, bytes: number): Promise<MapEntry> {
    const host = this.windowOffset + offset;
    const want = Math.min(bytes, this.nodeLength - host);
    const align = this.client.minBlock > 0 ? this.client.minBlock : 1;
    const alignedOffset = host - (host % align);
    const alignedEnd = Math.min(Math.ceil((host + want) / align) * align, Math.max(this.nodeLength, alignedOffset + align));
    const span = alignedEnd - alignedOffset;
    let length: number;
    let flags: number;
    if (!this.client.hasBlockStatus) {
      length = span;
      flags = 0;
    } else if (alignedOffset >= this.client.sizeBytes) {
      length = span;
      flags = P.STATE_ZERO | P.STATE_HOLE;
    } else {
      const request = Math.min(INT_MAX - (INT_MAX % align), span, this.client.sizeBytes - alignedOffset);
      ({ lengthBytes: length, flags } = await this.client.blockStatus(alignedOffset, request));
    }
    let pnum = length - (host - alignedOffset);
    if (pnum > want) pnum = want;
    if (pnum <= 0) throw new ImageOpenError(`${this.displayName}: block status at 0x${host.toString(16)} covered no bytes`, 'E_NBD');
    const data = (flags & P.STATE_HOLE) === 0;
    const zero = (flags & P.STATE_ZERO) !== 0;
    const found = data || zero;
    return {
      startBytes: offset, lengthBytes: pnum, depth: 0, present: found, zero, data, compressed: false,
      offsetBytes: found ? host : undefined, filename: found ? this.displayName : undefined,
    };
  }

  /** qemu-img map's entries (the loop of map-entries.ts over the export). */
  async *emitted(options: MapRangeOptions = {}): AsyncGenerator<EmittedEntry> {
    const { start, end, empty } = mapRange(this.virtualSizeBytes, options);
    if (start > INT64_MAX || start < 0n) throw new RangeError('start offset out of range');
    if (start >= end) {
      yield { entry: empty, isLast: true, startExact: start };
      return;
    }
    const endBytes = Number(end);
    const merger = new EntryMerger(empty, options);
    for (let offset = merger.nextOffset; offset < endBytes; offset = merger.nextOffset) {
      const closed = merger.push(await this.status(offset, endBytes - offset));
      if (closed !== null) yield { entry: closed, isLast: false };
    }
    yield { entry: merger.last(), isLast: true };
  }

  close(): void {
    this.client.close();
  }
}
