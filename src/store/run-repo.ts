/**
 * Runs: creating one, the images and findings it records, and its
 * materialised totals (written when it ends, or when the next scan finds it
 * was left `running` by a crash).
 */
import type { Severity } from '../config/config.js';
import { bytesIfEscaped, displayText, storedPath } from '../io/byte-path.js';
import type { Db, Statement } from './db.js';
import type { FindingRecord, ImageChange } from './records.js';

/** What a run is started with. */
export interface RunStart {
  roots: readonly string[];
  config: unknown;
  fingerprint: string;
  isFull: boolean;
  host: string;
  toolVersion: string;
  pid: number;
  startedAt: Date;
}

/** A run's counters as stored. */
export interface RunSummaryRow {
  status: string;
  imageCount: number;
  errorCount: number;
  newCount: number;
  changedCount: number;
  readCount: number;
  mappedBytes: number;
  findings: Record<Severity, number>;
}

/** Chains a run read (rather than reused) and their virtual bytes. */
export interface ReadCounters {
  readCount: number;
  mappedBytes: number;
}

/** How a run ended. */
export type RunEndStatus = 'complete' | 'interrupted' | 'failed';

const CHANGE_CODES: Readonly<Record<ImageChange, number>> = { unchanged: 0, changed: 1, new: 2 };

/** Prepared statements for runs, their images, findings and totals. */
export class RunRepo {
  private readonly insertRunImage: Statement;
  private readonly insertImageUse: Statement;
  private readonly insertRunFinding: Statement;
  private readonly imageIdStmt: Statement;
  private readonly insertImage: Statement;
  private readonly rootIdStmt: Statement;
  private readonly insertRoot: Statement;
  private readonly chainInRun: Statement;
  /** Root ids by path (a handful per database; roots are never deleted while a scan runs). */
  private readonly rootIds = new Map<string, number>();

  constructor(private readonly db: Db) {
    this.insertRunImage = db.prepare(`
      INSERT INTO run_images (run_id, image_id, chain_id, root_id, change) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (run_id, image_id) DO NOTHING`);
    this.insertImageUse = db.prepare(`
      INSERT INTO run_image_use (run_id, image_id, in_use) VALUES (?, ?, ?) ON CONFLICT (run_id, image_id) DO NOTHING`);
    this.insertRunFinding = db.prepare(
      'INSERT INTO run_findings (run_id, path, code, severity, message) VALUES (?, ?, ?, ?, ?)');
    this.imageIdStmt = db.prepare('SELECT id FROM images WHERE path = ?').pluck();
    this.insertImage = db.prepare('INSERT INTO images (path, path_bytes) VALUES (?, ?)');
    this.rootIdStmt = db.prepare('SELECT id FROM roots WHERE path = ?').pluck();
    this.insertRoot = db.prepare('INSERT INTO roots (path, path_bytes) VALUES (?, ?)');
    this.chainInRun = db.prepare(`
      SELECT ri.chain_id FROM run_images ri JOIN images i ON i.id = ri.image_id
      WHERE ri.run_id = ? AND i.path = ?`).pluck();
  }

  /** Creates a `running` run; returns its id. */
  begin(start: RunStart): number {
    return Number(this.db.prepare(`
      INSERT INTO runs (started_at, status, pid, host, tool_version, roots, config, fingerprint, is_full)
      VALUES (?, 'running', ?, ?, ?, ?, ?, ?, ?)`).run(
      start.startedAt.toISOString(), start.pid, start.host, start.toolVersion, JSON.stringify(start.roots.map(displayText)),
      JSON.stringify(start.config), start.fingerprint, start.isFull ? 1 : 0,
    ).lastInsertRowid);
  }

  /** The newest complete run, optionally only among runs with this fingerprint. */
  lastComplete(fingerprint?: string): number | undefined {
    const sql = fingerprint === undefined
      ? "SELECT id FROM runs WHERE status = 'complete' ORDER BY id DESC LIMIT 1"
      : "SELECT id FROM runs WHERE status = 'complete' AND fingerprint = ? ORDER BY id DESC LIMIT 1";
    const args = fingerprint === undefined ? [] : [fingerprint];
    return this.db.prepare(sql).pluck().get(...args) as number | undefined;
  }

  /** The paths of the images run `runId` recorded (a scan asks the store only about those). */
  imagePaths(runId: number): Set<string> {
    const rows = this.db.prepare(`
      SELECT i.path, i.path_bytes AS bytes FROM run_images ri JOIN images i ON i.id = ri.image_id WHERE ri.run_id = ?`)
      .all(runId) as { path: string; bytes: Buffer | null }[];
    return new Set(rows.map((row) => storedPath(row.path, row.bytes)));
  }

  /** The chain state run `runId` recorded for the image at `path`. */
  chainIdIn(runId: number, path: string): number | undefined {
    return this.chainInRun.get(runId, displayText(path)) as number | undefined;
  }

  /** Records that the run saw the image at `path` with chain state `chainId` (and who held it open, if anyone). */
  addImage(runId: number, path: string, root: string, chainId: number, change: ImageChange, inUse: 'write' | 'read' | null = null): void {
    const imageId = this.idOf(this.imageIdStmt, this.insertImage, path);
    this.insertRunImage.run(runId, imageId, chainId, this.rootId(root), CHANGE_CODES[change]);
    if (inUse !== null) this.insertImageUse.run(runId, imageId, inUse);
  }

  /** The id of the root at `root` (created when new). */
  rootId(root: string): number {
    let rootId = this.rootIds.get(root);
    if (rootId === undefined) {
      rootId = this.idOf(this.rootIdStmt, this.insertRoot, root);
      this.rootIds.set(root, rootId);
    }
    return rootId;
  }

  /** Records a finding that belongs to the run rather than to a chain state. */
  addFinding(runId: number, path: string, finding: FindingRecord): void {
    this.insertRunFinding.run(runId, displayText(path), finding.code, finding.severity, displayText(finding.message));
  }

  /** Marks runs a crashed scan left `running` as `interrupted` (with totals); returns their ids. */
  interruptStale(): number[] {
    const ids = this.db.prepare("SELECT id FROM runs WHERE status = 'running'").pluck().all() as number[];
    for (const id of ids) this.end(id, 'interrupted', null);
    return ids;
  }

  /**
   * Ends a run: materialises its totals and sets its status, finish time and
   * read counters (unknown, so left 0, for runs a crash interrupted).
   */
  end(runId: number, status: RunEndStatus, finishedAt: Date | null, reads?: ReadCounters): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM run_depth_totals WHERE run_id = ?').run(runId);
      this.db.prepare(`
        INSERT INTO run_depth_totals (run_id, depth, data_bytes, zero_bytes, preallocated_bytes)
        SELECT ri.run_id, cl.depth, coalesce(sum(cl.data_bytes), 0), coalesce(sum(cl.zero_bytes), 0),
               coalesce(sum(cl.preallocated_bytes), 0)
        FROM run_images ri JOIN chain_layers cl ON cl.chain_id = ri.chain_id
        WHERE ri.run_id = ? AND cl.data_bytes IS NOT NULL
        GROUP BY cl.depth`).run(runId);
      this.db.prepare(`
        UPDATE runs SET (data_bytes, zero_bytes, preallocated_bytes) = (
          SELECT coalesce(sum(data_bytes), 0), coalesce(sum(zero_bytes), 0), coalesce(sum(preallocated_bytes), 0)
          FROM run_depth_totals WHERE run_id = @runId)
        WHERE id = @runId`).run({ runId });
      this.endUsage(runId);
      this.db.prepare(`
        UPDATE runs SET status = @status, finished_at = @finishedAt,
          (image_count, error_count, new_count, changed_count, virtual_size_bytes, unallocated_bytes) = (
            SELECT count(*), count(c.error_code), coalesce(sum(ri.change = 2), 0), coalesce(sum(ri.change = 1), 0),
                   coalesce(sum(c.virtual_size_bytes), 0), coalesce(sum(c.unallocated_bytes), 0)
            FROM run_images ri JOIN chains c ON c.id = ri.chain_id WHERE ri.run_id = @runId),
          disk_usage_bytes = (
            SELECT coalesce(sum(allocated_bytes), 0) FROM (
              SELECT max(f.allocated_bytes) AS allocated_bytes FROM (
                SELECT c.top_file_id AS file_id FROM run_images ri JOIN chains c ON c.id = ri.chain_id
                WHERE ri.run_id = @runId
                UNION
                SELECT ce.file_id FROM run_images ri JOIN chain_extra_files ce
                  ON ce.chain_id = ri.chain_id AND ce.depth = 0
                WHERE ri.run_id = @runId) used
              JOIN files f ON f.id = used.file_id GROUP BY f.dev, f.ino))
        WHERE id = @runId`).run({ runId, status, finishedAt: finishedAt?.toISOString() ?? null });
      if (reads !== undefined) {
        this.db.prepare('UPDATE runs SET read_count = ?, mapped_bytes = ? WHERE id = ?')
          .run(reads.readCount, reads.mappedBytes, runId);
      }
    })();
  }

  /**
   * Materialises the run's disk usage per root and per image format: the
   * host files its images occupy (image files and their top layers' external
   * data files), each (dev, ino) once within the root or format.
   */
  private endUsage(runId: number): void {
    const usage = (key: string, top: string, extra: string): string => `
      SELECT used.run_id, used.grp, sum(used.bytes)
      FROM (SELECT per_file.run_id, per_file.grp, max(f.allocated_bytes) AS bytes
            FROM (SELECT ri.run_id, ${key} AS grp, c.top_file_id AS file_id
                  FROM run_images ri JOIN chains c ON c.id = ri.chain_id ${top}
                  WHERE ri.run_id = @runId
                  UNION
                  SELECT ri.run_id, ${key}, ce.file_id
                  FROM run_images ri ${extra}
                  JOIN chain_extra_files ce ON ce.chain_id = ri.chain_id AND ce.depth = 0
                  WHERE ri.run_id = @runId) per_file
            JOIN files f ON f.id = per_file.file_id
            GROUP BY per_file.run_id, per_file.grp, f.dev, f.ino) used
      GROUP BY used.run_id, used.grp`;
    this.db.prepare('DELETE FROM run_root_usage WHERE run_id = ?').run(runId);
    this.db.prepare(`INSERT INTO run_root_usage (run_id, root_id, disk_usage_bytes) ${usage('ri.root_id', '', '')}`)
      .run({ runId });
    this.db.prepare('DELETE FROM run_format_usage WHERE run_id = ?').run(runId);
    this.db.prepare(`INSERT INTO run_format_usage (run_id, format, disk_usage_bytes) ${usage('tf.format',
      'JOIN files tf ON tf.id = c.top_file_id',
      'JOIN chains c ON c.id = ri.chain_id JOIN files tf ON tf.id = c.top_file_id')}`).run({ runId });
  }

  /** The counters and findings of a run (for its summary line and exit status). */
  summary(runId: number): RunSummaryRow {
    const row = this.db.prepare(`
      SELECT status, image_count AS imageCount, error_count AS errorCount, new_count AS newCount,
             changed_count AS changedCount, read_count AS readCount, mapped_bytes AS mappedBytes
      FROM runs WHERE id = ?`).get(runId) as Omit<RunSummaryRow, 'findings'>;
    const findings: Record<Severity, number> = { error: 0, warning: 0, info: 0 };
    const counts = this.db.prepare(
      'SELECT severity, count(*) AS n FROM run_findings_all WHERE run_id = ? GROUP BY severity').all(runId) as
      { severity: Severity; n: number }[];
    for (const { severity, n } of counts) findings[severity] = n;
    return { ...row, findings };
  }

  private idOf(select: Statement, insert: Statement, path: string): number {
    // The text as reports show it is the key; the bytes are kept beside it (migrations/0010_add_path_bytes.sql).
    const id = select.get(displayText(path)) as number | undefined;
    return id ?? Number(insert.run(displayText(path), bytesIfEscaped(path)).lastInsertRowid);
  }
}
