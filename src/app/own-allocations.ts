/**
 * Step 1 of the post-scan pass: the own allocation of every layer file of
 * the run's mapped chains, once per file state: from the chain map of the
 * file as the top of its own chain (its present depth-0 entries), or else
 * from a map of the layer alone, stored like any map (under the limiter,
 * yielding to the event loop); true allocation from the file system's
 * extent map (FIEMAP: unwritten extents hold space, holes do not), asked
 * of the scan's map workers when there are some, so that files are
 * measured in parallel.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { isSameFile, statIdentity } from '../crawl/file-identity.js';
import { Limiter } from '../crawl/limiter.js';
import { ImgauditError } from '../errors.js';
import type { HostExtentMap } from '../io/extents.js';
import type { FileGuard } from '../map/opened-files.js';
import type { CategoryBytes } from '../map/own-allocation.js';
import type { PendingFile } from '../store/allocation-repo.js';
import { isSqliteError } from '../store/db.js';
import { rootsGuard } from './backing-policy.js';
import { type LayerFiguresPass, Memo, isAbort, isRunLevel, messageOf } from './layer-figures-pass.js';

/** Entries mapped alone between two turns of the event loop. */
const ENTRIES_PER_TURN = 16_384;

/** True when the file still has the identity its files row records. */
function isCurrent(file: PendingFile): boolean {
  const now = statIdentity(file.path);
  return now !== null && isSameFile(now, file);
}

class OwnAllocations {
  private readonly ownMemo = new Memo<CategoryBytes>();

  /** The scan's roots boundary, for the data files and extents a layer mapped alone opens. */
  private readonly guard: FileGuard;

  constructor(private readonly pass: LayerFiguresPass) {
    this.guard = rootsGuard(pass.context.roots, pass.context.config.followBackingOutsideRoots);
  }

  async run(): Promise<void> {
    const { signal } = this.pass.context;
    const limiter = new Limiter(this.pass.context.config.concurrency);
    for (let after = 0; ;) {
      const page = this.pass.repo.allocations.pendingFiles(after);
      if (page.length === 0) break;
      await this.pass.load();
      for (const file of page) {
        after = file.fileId;
        await limiter.whenReady();
        if (signal.aborted || limiter.hasFailed) break;
        limiter.run(() => this.allocate(file));
      }
      if (signal.aborted || limiter.hasFailed) break;
    }
    await limiter.idle();
  }

  private async allocate(file: PendingFile): Promise<void> {
    const { signal } = this.pass.context;
    try {
      let mapId = file.topMapId;
      if (mapId === null) {
        mapId = await this.mapAlone(file);
        if (mapId === null) return;
      }
      await this.measure(file, mapId);
    } catch (error) {
      if (isAbort(error, signal)) return;
      if (isSqliteError(error)) throw error;
      this.pass.finding(file.path, `own allocation not computed: ${messageOf(error)}`);
    } finally {
      this.pass.repo.reader.closeAll();
    }
    this.pass.context.store.commitIfDue();
  }

  /** Maps a layer alone into the store; null (after a finding) when the file changed since it was audited. */
  private async mapAlone(file: PendingFile): Promise<number | null> {
    const { signal, store } = this.pass.context;
    if (file.virtualSizeBytes === null) {
      this.pass.finding(file.path, 'own allocation not computed: its header was not read');
      return null;
    }
    if (!isCurrent(file)) {
      this.pass.finding(file.path, 'own allocation not computed: the file changed since it was audited');
      return null;
    }
    const builder = store.maps.begin(file.virtualSizeBytes);
    try {
      let n = 0;
      for (const entry of this.pass.c.layerAloneEntries(file.path, file.format, { dataFileFromImageDir: true, guardFile: this.guard })) {
        builder.add(entry);
        if (++n % ENTRIES_PER_TURN === 0) {
          await yieldToEventLoop();
          signal.throwIfAborted();
        }
      }
    } catch (error) {
      builder.abort();
      throw error;
    }
    if (!isCurrent(file)) {
      builder.abort();
      this.pass.finding(file.path, 'own allocation not computed: the file changed while it was mapped alone');
      return null;
    }
    this.pass.counts.layersMapped++;
    return builder.finish();
  }

  /** Own and true allocation of a file state from map `mapId`'s present depth-0 entries. */
  private async measure(file: PendingFile, mapId: number): Promise<void> {
    const { reader } = this.pass.repo;
    const isRaw = file.format === 'raw';
    const own = this.ownMemo.get(`${mapId}:${isRaw}`, () => this.pass.c.ownAllocation(reader.entries(mapId, 'own'), isRaw));
    reader.closeAll();
    let extents: HostExtentMap | null = null;
    try {
      // The extents must be those of the state the map describes: the file still has the identity
      // recorded when it was mapped (ctime only grows, so it had it all along).
      // No entry iterator is open across this wait (other files' steps run meanwhile).
      const { extents: elsewhere } = this.pass.context;
      const found = elsewhere === undefined ? this.pass.c.hostExtents(file.path) : await elsewhere(file.path);
      if (found !== null && isCurrent(file)) extents = found;
    } catch (error) {
      if (isRunLevel(error, this.pass.context.signal) || !(error instanceof ImgauditError)) throw error;
      this.pass.finding(file.path, `true allocation unknown: ${error.message}`);
    }
    const unwrittenBytes = extents?.unwritten.reduce((sum, extent) => sum + extent.lengthBytes, 0) ?? null;
    let truly: CategoryBytes | null = null;
    if (extents !== null && !file.readsOtherFiles) {
      // Without unwritten extents or preallocated bytes (which may lie over holes) nothing moves.
      const isSettled = extents.unwritten.length === 0 && own.preallocatedBytes === 0;
      truly = isSettled ? own : this.pass.c.trueAllocation(reader.entries(mapId, 'own'), isRaw, extents.unwritten, extents.mapped);
      reader.closeAll();
    }
    this.pass.repo.allocations.saveAllocation({ fileId: file.fileId, mapId, own, true: truly, unwrittenBytes });
    this.pass.counts.allocations++;
  }
}

/** Stores the own (and true) allocation of every file of the run's chains that has none yet. */
export async function recordOwnAllocations(pass: LayerFiguresPass): Promise<void> {
  await new OwnAllocations(pass).run();
}
