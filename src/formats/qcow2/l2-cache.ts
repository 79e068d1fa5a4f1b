/**
 * A bounded cache of L2 tables (one cluster each), least recently used out.
 * 32 MiB covers 256 GiB of guest space with 64 KiB clusters, like QEMU's
 * default L2 cache on Linux; map walks sequentially, so each table is read
 * about once.
 */
import type { HostFile } from '../../io/host-file.js';

export class L2Cache {
  private readonly tables = new Map<number, Buffer>();
  private readonly capacity: number;

  constructor(private readonly file: HostFile, private readonly tableBytes: number, budgetBytes: number) {
    this.capacity = Math.max(16, Math.floor(budgetBytes / tableBytes));
  }

  get(offset: number): Buffer {
    const hit = this.tables.get(offset);
    if (hit !== undefined) {
      this.tables.delete(offset);
      this.tables.set(offset, hit);
      return hit;
    }
    const table = this.file.readAt(offset, this.tableBytes);
    if (this.tables.size >= this.capacity) {
      const oldest = this.tables.keys().next().value as number;
      this.tables.delete(oldest);
    }
    this.tables.set(offset, table);
    return table;
  }
}
