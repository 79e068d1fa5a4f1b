/**
 * A bounded cache of fixed-size metadata tables (qcow2/qcow/qed L2 tables,
 * vmdk grain tables), least recently used out; an evicted table's buffer is
 * reused for the next read, so a walk over a huge image allocates no
 * garbage; when its file is closed, its buffers go back to the thread's
 * pool (io/buffer-pool.ts) for other chains. Map walks sequentially, so each table is read about once and a
 * small cache suffices. Reads past the end of the file are zeroes.
 */
import { giveBack } from '../../io/buffer-pool.js';
import type { HostFile } from '../../io/host-file.js';

export class TableCache {
  private readonly tables = new Map<number, Buffer>();
  private readonly capacity: number;

  /** Keeps about `budgetBytes` of tables, and at least `minTables` of them. */
  constructor(private readonly file: HostFile, private readonly tableBytes: number, budgetBytes: number, minTables = 16) {
    this.capacity = Math.max(minTables, Math.floor(budgetBytes / tableBytes));
    // The tables' buffers serve other chains' reads once this file is closed (io/buffer-pool.ts).
    file.whenClosed(() => {
      for (const table of this.tables.values()) giveBack(table);
      this.tables.clear();
    });
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
