/**
 * Metadata tables in the image file (grain directories, L1/L2 tables,
 * BATs), read a page at a time through a bounded cache instead of all at
 * once: QEMU reads such tables whole, up to its own limits (which reach
 * gigabytes); imgaudit keeps memory bounded whatever the header claims.
 * Bytes past the end of the file read as zeroes, as in QEMU.
 */
import type { HostFile } from '../../io/host-file.js';
import { TableCache } from './table-cache.js';

export const PAGE_BYTES = 64 * 1024;
const CACHE_BYTES = 2 * 1024 * 1024;

const ZERO_PAGE = Buffer.alloc(PAGE_BYTES);
const SHARED = new WeakMap<HostFile, FilePages>();

/** 64 KiB-aligned pages of a file, least recently used out; one cache per open file. */
export class FilePages {
  private readonly pages: TableCache;
  private lastPage = -1;
  private last: Buffer = Buffer.alloc(0);
  private readonly zeroPage = ZERO_PAGE;

  private constructor(private readonly file: HostFile) {
    this.pages = new TableCache(file, PAGE_BYTES, CACHE_BYTES, 2);
  }

  /** The page cache of `file` (shared by every table read from it). */
  static of(file: HostFile): FilePages {
    let pages = SHARED.get(file);
    if (pages === undefined) {
      pages = new FilePages(file);
      SHARED.set(file, pages);
    }
    return pages;
  }

  private page(index: number): Buffer {
    if (index === this.lastPage) return this.last;
    const at = index * PAGE_BYTES;
    const page = at >= this.file.sizeBytes ? this.zeroPage : this.pages.get(at);
    this.lastPage = index;
    this.last = page;
    return page;
  }

  /**
   * The first offset in [start, end) holding a non-zero byte, or `end`:
   * skips runs of zero table entries (unallocated ranges) a page at a time.
   */
  firstNonZero(start: number, end: number): number {
    const stop = Math.min(end, this.file.sizeBytes);
    for (let at = start; at < stop;) {
      const index = Math.floor(at / PAGE_BYTES);
      const pageEnd = Math.min(stop, (index + 1) * PAGE_BYTES);
      const page = this.page(index);
      const from = at - index * PAGE_BYTES;
      const to = pageEnd - index * PAGE_BYTES;
      if (!page.subarray(from, to).equals(ZERO_PAGE.subarray(0, to - from))) {
        for (let i = from; i < to; i++) if (page[i] !== 0) return index * PAGE_BYTES + i;
      }
      at = pageEnd;
    }
    return end;
  }

  /** The byte at `offset` (0 past the end of the file). */
  private byte(offset: number): number {
    return offset < this.file.sizeBytes ? this.page(Math.floor(offset / PAGE_BYTES))[offset % PAGE_BYTES]! : 0;
  }

  /** The u32 at `offset`; any offset past the end of the file — also beyond 2^53 — reads 0. */
  u32(offset: number, littleEndian: boolean): number {
    if (!(offset < this.file.sizeBytes)) return 0;
    const at = offset % PAGE_BYTES;
    if (at + 4 > PAGE_BYTES) {
      // Straddles two pages (tables at unaligned offsets).
      const b = [0, 1, 2, 3].map((i) => this.byte(offset + i));
      const [b0, b1, b2, b3] = littleEndian ? [b[3]!, b[2]!, b[1]!, b[0]!] : [b[0]!, b[1]!, b[2]!, b[3]!];
      return ((b0 << 24) | (b1 << 16) | (b2 << 8) | b3) >>> 0;
    }
    const page = this.page(Math.floor(offset / PAGE_BYTES));
    return littleEndian ? page.readUInt32LE(at) : page.readUInt32BE(at);
  }
}

/** A table of `lengthBytes` at `offsetBytes`, read through FilePages. */
export class PagedTable {
  private readonly pages: FilePages;

  constructor(file: HostFile, private readonly offsetBytes: number, readonly lengthBytes: number) {
    this.pages = FilePages.of(file);
  }

  /** The u32 at `byteOffset` into the table. */
  u32(byteOffset: number, littleEndian: boolean): number {
    return this.pages.u32(this.offsetBytes + byteOffset, littleEndian);
  }

  /**
   * The index of the first entry at or after `from` (entries of
   * `entryBytes`, below `to`) that is not all zero bytes, or `to`.
   */
  firstNonZeroEntry(from: number, to: number, entryBytes: number): number {
    if (from >= to) return to;
    const base = this.offsetBytes;
    if (!Number.isSafeInteger(base + to * entryBytes)) return to; // beyond 2^53: reads as zeroes
    const at = this.pages.firstNonZero(base + from * entryBytes, base + to * entryBytes);
    return Math.min(to, Math.floor((at - base) / entryBytes));
  }
}
