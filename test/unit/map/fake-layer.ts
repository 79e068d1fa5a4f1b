/**
 * Small fake ImageLayer / HostFile objects for the map engine's unit tests.
 * A fake layer answers block-status queries from a declared list of extents
 * (gaps answer "neither data nor zero"); answers may be cut into pieces of
 * `answerBytes` to check that merging hides the driver's chunking.
 */
import type { HostFile, HostStatus } from '../../../src/io/host-file.js';
import type { FormatName, ImageLayer, LayerStatus } from '../../../src/formats/types.js';

export interface FakeExtent {
  start: number;
  length: number;
  data?: boolean;
  zero?: boolean;
  /** Host offset of `start` (OFFSET_VALID). */
  host?: number;
  file?: HostFile;
  recurse?: boolean;
  compressed?: boolean;
}

export interface FakeLayerOptions {
  name?: string;
  size: number;
  extents?: FakeExtent[];
  supportsBacking?: boolean;
  format?: FormatName;
  requestAlignment?: number;
  /** Longest answer the layer gives (default: to the end of the extent). */
  answerBytes?: number;
}

/** A host file whose block status comes from declared data ranges (the rest are holes). */
export function fakeHostFile(filename: string, sizeBytes: number, dataRanges: Array<[number, number]> = []): HostFile {
  const file = {
    filename, sizeBytes, lengthBytes: Math.ceil(sizeBytes / 512) * 512, allocatedBytes: 0,
    blockStatus(offset: number, length: number): HostStatus {
      const total = file.lengthBytes;
      if (offset >= total) return { lengthBytes: 0, data: false, zero: false, eof: true };
      const inData = dataRanges.find(([s, l]) => offset >= s && offset < s + l);
      const nextData = dataRanges.filter(([s]) => s > offset).map(([s]) => s);
      const end = inData ? inData[0] + inData[1] : Math.min(total, ...nextData);
      const pnum = Math.min(length, end - offset, total - offset);
      return { lengthBytes: pnum, data: !!inData, zero: !inData, eof: offset + pnum === total };
    },
  };
  return file as unknown as HostFile;
}

/** Every blockStatus call a fake layer received: [offset, length]. */
export type CallLog = Array<[number, number]>;

export function fakeLayer(options: FakeLayerOptions, calls: CallLog = []): ImageLayer {
  const name = options.name ?? 'fake.img';
  const file = fakeHostFile(name, options.size);
  const extents = [...(options.extents ?? [])].sort((a, b) => a.start - b.start);
  return {
    format: options.format ?? 'qcow2',
    filename: name,
    file,
    virtualSizeBytes: options.size,
    supportsBacking: options.supportsBacking ?? true,
    backing: null,
    requestAlignmentBytes: options.requestAlignment ?? 1,
    details: {},
    extraFiles: [],
    blockStatus(offset: number, length: number): LayerStatus {
      calls.push([offset, length]);
      const hit = extents.find((e) => offset >= e.start && offset < e.start + e.length);
      const next = extents.find((e) => e.start > offset);
      const end = hit ? hit.start + hit.length : (next?.start ?? options.size);
      const lengthBytes = Math.min(end - offset, options.answerBytes ?? Infinity);
      if (!hit) return { lengthBytes, data: false, zero: false };
      const status: LayerStatus = { lengthBytes, data: !!hit.data, zero: !!hit.zero };
      if (hit.host !== undefined) {
        status.hostOffset = hit.host + (offset - hit.start);
        status.hostFile = hit.file ?? file;
      }
      if (hit.recurse) status.recurse = true;
      if (hit.compressed) status.compressed = true;
      return status;
    },
  };
}
