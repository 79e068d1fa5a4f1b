/**
 * Bytes of files many chains of one scan read alike (a base image's header,
 * L1 and L2 tables), kept for the length of a scan so that no byte is read
 * from the storage twice: keyed by the file's identity (dev, ino, size,
 * mtime, ctime: a file that changes is another file) and the range, least
 * recently used out, bounded in bytes. Tables a single chain reads once pass
 * through and age out; a shared base's tables, touched by every chain, stay.
 * Buffers are copied in and out: callers reuse theirs.
 */

/** The identity part of a cache key. */
export interface CachedFileIdentity {
  dev: number;
  ino: number;
  sizeBytes: number;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

export class ReadCache {
  private readonly entries = new Map<string, Buffer>();
  private bytes = 0;

  constructor(private readonly budgetBytes: number, private readonly maxEntryBytes = 1 << 20) {}

  static key(file: CachedFileIdentity, offsetBytes: number, lengthBytes: number): string {
    return `${file.dev}:${file.ino}:${file.sizeBytes}:${file.mtimeNs}:${file.ctimeNs}:${offsetBytes}:${lengthBytes}`;
  }

  /** Copies the cached range into `into` (or a new buffer); undefined when not cached. */
  get(key: string, into?: Buffer): Buffer | undefined {
    const hit = this.entries.get(key);
    if (hit === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, hit);
    if (into === undefined) return Buffer.from(hit);
    hit.copy(into);
    return into;
  }

  set(key: string, bytes: Buffer): void {
    if (bytes.length > this.maxEntryBytes || bytes.length > this.budgetBytes || this.entries.has(key)) return;
    this.entries.set(key, Buffer.from(bytes));
    this.bytes += bytes.length;
    while (this.bytes > this.budgetBytes) {
      const [oldest, buffer] = this.entries.entries().next().value!;
      this.entries.delete(oldest);
      this.bytes -= buffer.length;
    }
  }
}
