/**
 * A bounded cache of L2 tables (one cluster each), least recently used out;
 * an evicted table's buffer is reused for the next read, so a walk over a
 * huge image allocates no garbage. Map walks sequentially, so each table is
 * read about once and a small cache suffices.
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
    let table: Buffer;
    if (this.tables.size >= this.capacity) {
      const oldest = this.tables.keys().next().value as number;
      table = this.tables.get(oldest)!;
      this.tables.delete(oldest);
      this.file.readInto(table, offset);
    } else {
      table = this.file.readAt(offset, this.tableBytes);
    }
    this.tables.set(offset, table);
    return table;
  }
}
