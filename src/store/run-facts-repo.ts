/**
 * What a run saw besides its images (run_filesystems, run_references): each
 * root's file system and the paths the reference sources name.
 */
import { displayText } from '../io/byte-path.js';
import type { Db, Statement } from './db.js';

/** A file system as statfs saw it. */
export interface FileSystemRow {
  rootId: number;
  dev: number;
  capacityBytes: number;
  freeBytes: number;
  availableBytes: number;
}

/** Prepared statements over the run's file systems and references. */
export class RunFactsRepo {
  private readonly insertFileSystem: Statement;
  private readonly insertReference: Statement;

  constructor(db: Db) {
    this.insertFileSystem = db.prepare(`
      INSERT OR REPLACE INTO run_filesystems (run_id, root_id, dev, capacity_bytes, free_bytes, available_bytes)
      VALUES (?, ?, ?, ?, ?, ?)`);
    this.insertReference = db.prepare('INSERT OR IGNORE INTO run_references (run_id, path, source) VALUES (?, ?, ?)');
  }

  /** Records a root's file system as the run saw it. */
  saveFileSystem(runId: number, row: FileSystemRow): void {
    this.insertFileSystem.run(runId, row.rootId, row.dev, row.capacityBytes, row.freeBytes, row.availableBytes);
  }

  /** Records a path a reference source names as in use. */
  saveReference(runId: number, path: string, source: string): void {
    this.insertReference.run(runId, displayText(path), displayText(source));
  }
}
