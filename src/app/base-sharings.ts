/**
 * Step 3 of the post-scan pass: per base file read directly by the run's
 * overlays, what they share (keyed by the base and the overlays' chain
 * states, so that an unchanged estate reuses the row).
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { EntryRow } from '../store/map-entry-reader.js';
import type { BaseGroup } from '../store/sharing-repo.js';
import { type LayerFiguresPass, UNITS_PER_TURN, isRunLevel, messageOf } from './layer-figures-pass.js';

/** Entries held at once by the overlay streams of one base sharing (a page per overlay). */
const OVERLAY_PAGE_BUDGET = 65_536;

/**
 * The streams to sweep for overlays with maps `mapIds`: each distinct map
 * once, or twice when several overlays have it; `streamOf[i]` is the stream
 * whose figures overlay i gets (what it reads, and 0 unique bytes when its
 * map is shared, since the second stream reads the same bytes).
 */
export function distinctStreams(mapIds: readonly number[]): { mapIds: number[]; streamOf: number[] } {
  const counts = new Map<number, number>();
  for (const mapId of mapIds) counts.set(mapId, (counts.get(mapId) ?? 0) + 1);
  const streams: number[] = [];
  const firstStream = new Map<number, number>();
  for (const [mapId, count] of counts) {
    firstStream.set(mapId, streams.length);
    streams.push(mapId);
    if (count > 1) streams.push(mapId);
  }
  return { mapIds: streams, streamOf: mapIds.map((mapId) => firstStream.get(mapId)!) };
}

/** Links the run to the sharing of `group` (`existing` when stored), computing it when new. */
function shareBase(pass: LayerFiguresPass, runId: number, group: BaseGroup, existing: number | undefined): void {
  const { reader, allocations, sharings } = pass.repo;
  const { fileId } = group;
  if (existing !== undefined) {
    sharings.linkRunSharing(runId, existing);
    pass.counts.sharingsReused++;
    return;
  }
  const baseMapId = allocations.ownMapId(fileId);
  if (baseMapId === undefined) return; // its own allocation failed: a finding says so
  let figures;
  try {
    // Overlays with one map (copies of an image) read the same bytes: each distinct map is swept once,
    // twice when several overlays have it (so that its bytes count as shared by two or more).
    const streams = distinctStreams(group.overlays.map((overlay) => overlay.mapId));
    // What an overlay reads of its base is its chain map's present entries at depth 1 (all
    // baseSharing looks at): read a page at a time, so that k streams cost k pages, not k statements.
    const pageRows = Math.max(16, Math.min(1024, Math.floor(OVERLAY_PAGE_BUDGET / streams.mapIds.length)));
    const wholeMaps = new Map<number, readonly EntryRow[]>();
    const swept = pass.c.baseSharing(reader.entries(baseMapId, 'own'),
      streams.mapIds.map((mapId) => reader.pagedEntries(mapId, 1, pageRows, wholeMaps)));
    figures = { ...swept, overlays: streams.streamOf.map((stream) => swept.overlays[stream]!) };
  } catch (error) {
    if (isRunLevel(error, pass.context.signal)) throw error;
    pass.finding(allocations.filePath(fileId), `base sharing not computed: ${messageOf(error)}`);
    return;
  } finally {
    reader.closeAll();
  }
  sharings.linkRunSharing(runId, sharings.saveSharing(group, figures));
  pass.counts.sharings++;
}

/** Links the run to the sharing of every base its chains read directly, computing the new ones. */
export async function recordBaseSharings(pass: LayerFiguresPass): Promise<void> {
  const { signal, store, runId } = pass.context;
  const { sharings } = pass.repo;
  let units = 0;
  for (let after = 0; ;) {
    const page = sharings.baseFiles(after);
    if (page.length === 0) return;
    for (const fileId of page) {
      after = fileId;
      const group = sharings.baseGroup(fileId);
      const existing = sharings.sharingId(group.key);
      if (existing === undefined) await pass.load();
      shareBase(pass, runId, group, existing);
      store.commitIfDue();
      if (++units % UNITS_PER_TURN === 0) {
        await yieldToEventLoop();
        if (signal.aborted) return;
      }
    }
  }
}
