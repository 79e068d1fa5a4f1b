/**
 * What the run's overlays share of each base file they read directly
 * (base_sharings, base_sharing_overlays, run_base_sharings): the bases a
 * page at a time, their overlay groups and keys, and the sharings stored
 * once per key and linked to every run that uses them.
 */
import { createHash } from 'node:crypto';
import type { Db, Statement } from './db.js';
import { PAGE_ROWS } from './pass-work-lists.js';

/** A base file and the run's chains that read it directly (depth 1). */
export interface BaseGroup {
  fileId: number;
  /** The overlays' chain states, in id order, with their maps. */
  overlays: { chainId: number; mapId: number }[];
  key: string;
}

/** What the pass stores per base sharing. */
export interface BaseSharingRow {
  readBytes: number;
  sharedBytes: number;
  unreadBytes: number;
  overlays: { readBytes: number; uniqueBytes: number }[];
}

/** Prepared statements over the base sharings. */
export class SharingRepo {
  private readonly baseFilesStmt: Statement;
  private readonly overlaysOfBase: Statement;
  private readonly sharingByKey: Statement;
  private readonly insertSharing: Statement;
  private readonly insertSharingOverlay: Statement;
  private readonly linkSharing: Statement;

  /** Needs the TEMP work tables (createWorkLists). */
  constructor(db: Db) {
    this.baseFilesStmt = db.prepare(`
      SELECT DISTINCT file_id FROM temp.pass_bases WHERE file_id > ? ORDER BY file_id LIMIT ${PAGE_ROWS}`).pluck();
    this.overlaysOfBase = db.prepare(
      'SELECT chain_id AS chainId, map_id AS mapId FROM temp.pass_bases WHERE file_id = ? ORDER BY chain_id');
    this.sharingByKey = db.prepare('SELECT id FROM base_sharings WHERE key = ?').pluck();
    this.insertSharing = db.prepare(`
      INSERT INTO base_sharings (key, file_id, overlay_count, read_bytes, shared_bytes, unread_bytes)
      VALUES (?, ?, ?, ?, ?, ?)`);
    this.insertSharingOverlay = db.prepare(`
      INSERT INTO base_sharing_overlays (sharing_id, chain_id, read_bytes, unique_bytes) VALUES (?, ?, ?, ?)`);
    this.linkSharing = db.prepare('INSERT OR IGNORE INTO run_base_sharings (run_id, sharing_id) VALUES (?, ?)');
  }

  /** The next page of base files (read at depth 1 by the run's chains), after file id `afterId`. */
  baseFiles(afterId: number): number[] {
    return this.baseFilesStmt.all(afterId) as number[];
  }

  /** A base file with the run's overlays of it and the key of that sharing. */
  baseGroup(fileId: number): BaseGroup {
    const overlays = this.overlaysOfBase.all(fileId) as { chainId: number; mapId: number }[];
    const hash = createHash('sha256').update(`base-file:${fileId};overlay-chains:`);
    for (const { chainId } of overlays) hash.update(`${chainId},`);
    return { fileId, overlays, key: hash.digest('hex') };
  }

  /** The id of the stored sharing with this key, if any. */
  sharingId(key: string): number | undefined {
    return this.sharingByKey.get(key) as number | undefined;
  }

  /** Stores a sharing; returns its id. */
  saveSharing(group: BaseGroup, figures: BaseSharingRow): number {
    const id = Number(this.insertSharing.run(group.key, group.fileId, group.overlays.length, figures.readBytes,
      figures.sharedBytes, figures.unreadBytes).lastInsertRowid);
    group.overlays.forEach(({ chainId }, i) => {
      const overlay = figures.overlays[i]!;
      this.insertSharingOverlay.run(id, chainId, overlay.readBytes, overlay.uniqueBytes);
    });
    return id;
  }

  /** Records that the run uses a sharing. */
  linkRunSharing(runId: number, sharingId: number): void {
    this.linkSharing.run(runId, sharingId);
  }
}
