/**
 * The orphans of a run (image files nothing uses: bases whose overlays all
 * vanished, images no reference names), and which images are backing
 * layers of the run's images.
 */
import path from 'node:path';
import type { Db } from '../store/db.js';
import { type ImageRecord, backingUse } from '../store/report-images.js';
import { type ChainExtrasRow, runConfig, runReferences } from '../store/report-layers.js';
import type { RunRecord } from '../store/report-runs.js';
import type { Orphan } from './model.js';

const DAY_MS = 86_400_000;

/**
 * A test of whether an image is a backing layer (depth ≥ 1) of any of
 * `images`: by resolved path, or by file (dev:ino) under another name.
 */
export function backingLayerTest(images: readonly ImageRecord[]): (image: Pick<ImageRecord, 'path' | 'fileKey'>) => boolean {
  const usedPaths = new Set<string>();
  const usedKeys = new Set<string>();
  for (const image of images) {
    for (const layer of image.layers) {
      if (layer.depth === 0) continue;
      usedPaths.add(path.resolve(layer.path));
      usedKeys.add(layer.fileKey);
    }
  }
  return (image) => usedPaths.has(image.path) || usedKeys.has(image.fileKey);
}

/** What the orphan search needs to know besides the run's images. */
export interface OrphanOptions {
  /** Files unchanged for less than this are not orphans (check.orphanMinAge). */
  minAgeMs: number;
}

/** True when the run's scan had reference sources: it recorded references, or its config names sources. */
function hasReferenceSources(db: Db, runId: number, referenceCount: number): boolean {
  if (referenceCount > 0) return true;
  const config = runConfig(db, runId) as { references?: { libvirtDomainDirs?: unknown; pathLists?: unknown } } | null;
  const references = config?.references;
  const nonEmpty = (value: unknown): boolean => Array.isArray(value) && value.length > 0;
  return references !== undefined && (nonEmpty(references.libvirtDomainDirs) || nonEmpty(references.pathLists));
}

/** The orphans of a run and the bases whose overlays vanished too recently to be orphans. */
export interface OrphanSearch {
  orphans: Orphan[];
  /** Bases no chain reads any more that are younger than the minimum age, or named by a reference. */
  unreadBases: { path: string; lastReadRunId: number }[];
  /** Whether reference sources were configured (unreferenced images are orphans only then). */
  hasReferences: boolean;
}

/**
 * Image files of the run nothing uses, unchanged for at least
 * `options.minAgeMs` before the run started:
 * - kind `base`: a file an earlier kept run's chains read as a backing layer
 *   that no chain of this run reads, still an image of this run;
 * - kind `image`: when reference sources are configured, an image no
 *   reference names that is no backing layer of any image of the run.
 * A file a reference names, or a process held open when the run saw it, is
 * never an orphan.
 */
export function findOrphans(db: Db, run: RunRecord, images: readonly ImageRecord[],
  extras: ReadonlyMap<number, ChainExtrasRow>, options: OrphanOptions): OrphanSearch {
  const isBackingLayer = backingLayerTest(images);
  const lastUse = new Map<string, number>();
  for (const use of backingUse(db, run.id)) {
    const key = path.resolve(use.path);
    lastUse.set(key, Math.max(lastUse.get(key) ?? 0, use.lastRunId));
  }
  const references = runReferences(db, run.id);
  const hasReferences = hasReferenceSources(db, run.id, references.length);
  const referenced = new Set(references.map((ref) => path.resolve(ref)));
  const startMs = Date.parse(run.startedAt);
  const orphans: Orphan[] = [];
  const unreadBases: OrphanSearch['unreadBases'] = [];
  for (const image of images) {
    // An image a process holds open (QEMU's lock bytes at scan time) is in use, not orphaned.
    if (isBackingLayer(image) || (image.inUse ?? null) !== null) continue;
    const mtimeMs = extras.get(image.imageId)?.mtimeMs;
    const ageMs = mtimeMs === undefined ? 0 : startMs - mtimeMs;
    const isOld = mtimeMs !== undefined && ageMs >= options.minAgeMs;
    const isReferenced = referenced.has(image.path);
    const lastReadRunId = lastUse.get(image.path);
    const orphan = { path: image.path, root: image.root, diskUsageBytes: image.diskUsageBytes, ageDays: Math.floor(ageMs / DAY_MS) };
    if (lastReadRunId !== undefined) {
      if (isOld && !isReferenced) orphans.push({ kind: 'base', ...orphan, lastReadRunId });
      else unreadBases.push({ path: image.path, lastReadRunId });
    } else if (hasReferences && !isReferenced && isOld) {
      orphans.push({ kind: 'image', ...orphan, lastReadRunId: null });
    }
  }
  return { orphans, unreadBases, hasReferences };
}
