/**
 * The post-scan pass (issue 6, migration 0004), run once every candidate is
 * audited and before the run ends, inside the scan's batch:
 *
 * 1. own allocation of every layer file of the run's mapped chains, once per
 *    file state: from the chain map of the file as the top of its own chain
 *    (its present depth-0 entries), or else from a map of the layer alone,
 *    stored like any map; true allocation from the file system's unwritten
 *    extents (FIEMAP);
 * 2. per chain state without figures: shadowed bytes per layer and the
 *    commit estimate of the top into its backing file;
 * 3. per base file read directly by the run's overlays: what they share
 *    (keyed by the base and the overlays' chain states, so that an unchanged
 *    estate reuses the row);
 * 4. the references the configured sources name, and each root's file
 *    system.
 *
 * Entries are streamed from SQLite in start order (`.iterate()`; a base's
 * many overlays a page each), never held; work lists are read a page at a
 * time; results are remembered by the maps they come from (copies of an
 * image share their maps). Layers mapped alone run under the
 * limiter, yielding to the event loop; an abort stops the pass (the run is
 * interrupted). A file or chain whose figures cannot be computed is a
 * warning finding (E_LAYER_FIGURES), not a failed run; only store errors
 * propagate. Images are only opened read-only (SPEC §6).
 */
import fs from 'node:fs';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { ScanConfig } from '../config/config.js';
import { isSameFile, statIdentity } from '../crawl/file-identity.js';
import { Limiter } from '../crawl/limiter.js';
import { ImgauditError } from '../errors.js';
import type { HostExtent } from '../io/extents.js';
import type { CategoryBytes } from '../map/own-allocation.js';
import type { CommitBacking, CommitTop } from '../map/reclaim/index.js';
import { isSqliteError } from '../store/db.js';
import type { BaseGroup, ChainLayerRow, EntryRow, PendingChain, PendingFile } from '../store/layer-repo.js';
import type { FindingRecord } from '../store/records.js';
import type { ScanStore } from '../store/scan-store.js';

/**
 * The computing modules, loaded when a pass has something to compute: an
 * unchanged re-scan (mostly Node's start-up) does not pay for loading them.
 */
const compute = async () => {
  const [extents, own, reclaim] = await Promise.all([
    import('../io/extents.js'), import('../map/own-allocation.js'), import('../map/reclaim/index.js')]);
  return { ...extents, ...own, ...reclaim };
};
type Compute = Awaited<ReturnType<typeof compute>>;

/** What the pass works with. */
export interface LayerFiguresContext {
  store: ScanStore;
  config: ScanConfig;
  runId: number;
  /** The run's roots (normalised). */
  roots: readonly string[];
  signal: AbortSignal;
  onFinding: (path: string, finding: FindingRecord) => void;
}

/** What one pass computed (an unchanged re-scan computes nothing). */
export interface LayerFiguresCounts {
  /** Layers mapped alone and stored as maps (files seen only as backing files). */
  layersMapped: number;
  /** file_allocations rows added. */
  allocations: number;
  /** Chain states whose layer figures were computed. */
  chains: number;
  /** base_sharings rows added. */
  sharings: number;
  /** base_sharings rows the run reuses. */
  sharingsReused: number;
  references: number;
  fileSystems: number;
}

/** Entries mapped alone between two turns of the event loop. */
const ENTRIES_PER_TURN = 16_384;
/** Chain states or bases handled between two turns of the event loop. */
const UNITS_PER_TURN = 64;
/** Entries held at once by the overlay streams of one base sharing (a page per overlay). */
const OVERLAY_PAGE_BUDGET = 65_536;
/** Results remembered per pass, by the maps they were computed from (copies of images share maps). */
const MEMO_ENTRIES = 4096;

const NONE: CategoryBytes = Object.freeze({ dataBytes: 0, zeroBytes: 0, preallocatedBytes: 0 });

/** A bounded memo: the oldest result goes first. */
class Memo<T> {
  private readonly values = new Map<string, T>();
  get(key: string, compute: () => T): T {
    const known = this.values.get(key);
    if (known !== undefined) return known;
    const value = compute();
    if (this.values.size >= MEMO_ENTRIES) this.values.delete(this.values.keys().next().value!);
    this.values.set(key, value);
    return value;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function isAbort(error: unknown, signal: AbortSignal): boolean {
  return signal.aborted && (error === signal.reason || (error as Error | undefined)?.name === 'AbortError');
}

/** Image-level failures become findings; store errors and aborts propagate. */
function isRunLevel(error: unknown, signal: AbortSignal): boolean {
  return isSqliteError(error) || isAbort(error, signal);
}

/** True when the file still has the identity its files row records. */
function isCurrent(file: PendingFile): boolean {
  const now = statIdentity(file.path);
  return now !== null && isSameFile(now, file);
}

/** What the qcow2 header of a layer says about its L2 entries (nothing for other formats). */
function qcow2Facts(layer: ChainLayerRow): { qcow2Compat?: string; extendedL2?: boolean } {
  if (layer.format !== 'qcow2') return {};
  let flags: unknown;
  try {
    flags = JSON.parse(layer.flags);
  } catch {
    flags = null;
  }
  const compat = layer.version === '3' ? '1.1' : layer.version === '2' ? '0.10' : undefined;
  return {
    ...(compat === undefined ? {} : { qcow2Compat: compat }),
    ...(Array.isArray(flags) ? { extendedL2: flags.includes('extended_l2') } : {}),
  };
}

class LayerFiguresPass {
  readonly counts: LayerFiguresCounts = {
    layersMapped: 0, allocations: 0, chains: 0, sharings: 0, sharingsReused: 0, references: 0, fileSystems: 0,
  };
  private readonly ownMemo = new Memo<CategoryBytes>();
  private readonly shadowMemo = new Memo<CategoryBytes>();
  private readonly commitMemo = new Memo<number | null>();
  private computing: Compute | undefined;

  constructor(private readonly context: LayerFiguresContext) {}

  private get repo() {
    return this.context.store.layers;
  }

  /** The computing modules (loaded by `load` before the first unit that computes). */
  private get c(): Compute {
    if (this.computing === undefined) throw new Error('layer figures: computing modules not loaded');
    return this.computing;
  }

  private async load(): Promise<void> {
    this.computing ??= await compute();
  }

  private finding(path: string, message: string): void {
    const finding: FindingRecord = { code: 'E_LAYER_FIGURES', severity: 'warning', depth: null, message: `${path}: ${message}` };
    this.context.store.runs.addFinding(this.context.runId, path, finding);
    this.context.onFinding(path, finding);
  }

  async run(): Promise<void> {
    const { store, runId, signal } = this.context;
    store.layers.prepareRun(runId);
    try {
      await this.allocations();
      if (signal.aborted) return;
      await this.chainFigures();
      if (signal.aborted) return;
      await this.sharings();
      if (signal.aborted) return;
      await this.references();
      this.fileSystems();
    } finally {
      store.layers.reader.closeAll();
      try {
        store.layers.clearRun();
      } catch {
        // Only TEMP rows: the next pass clears them; an error of the pass says more.
      }
    }
  }

  // ------------------------------------------------------------- own allocation

  private async allocations(): Promise<void> {
    const { signal } = this.context;
    const limiter = new Limiter(this.context.config.concurrency);
    for (let after = 0; ;) {
      const page = this.repo.pendingFiles(after);
      if (page.length === 0) break;
      await this.load();
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
    const { signal } = this.context;
    try {
      let mapId = file.topMapId;
      if (mapId === null) {
        mapId = await this.mapAlone(file);
        if (mapId === null) return;
      }
      this.measure(file, mapId);
    } catch (error) {
      if (isAbort(error, signal)) return;
      if (isSqliteError(error)) throw error;
      this.finding(file.path, `own allocation not computed: ${messageOf(error)}`);
    } finally {
      this.repo.reader.closeAll();
    }
    this.context.store.commitIfDue();
  }

  /** Maps a layer alone into the store; null (after a finding) when the file changed since it was audited. */
  private async mapAlone(file: PendingFile): Promise<number | null> {
    const { signal, store } = this.context;
    if (file.virtualSizeBytes === null) {
      this.finding(file.path, 'own allocation not computed: its header was not read');
      return null;
    }
    if (!isCurrent(file)) {
      this.finding(file.path, 'own allocation not computed: the file changed since it was audited');
      return null;
    }
    const builder = store.maps.begin(file.virtualSizeBytes);
    try {
      let n = 0;
      for (const entry of this.c.layerAloneEntries(file.path, file.format, { dataFileFromImageDir: true })) {
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
      this.finding(file.path, 'own allocation not computed: the file changed while it was mapped alone');
      return null;
    }
    this.counts.layersMapped++;
    return builder.finish();
  }

  /** Own and true allocation of a file state from map `mapId`'s present depth-0 entries. */
  private measure(file: PendingFile, mapId: number): void {
    const { reader } = this.repo;
    const isRaw = file.format === 'raw';
    const own = this.ownMemo.get(`${mapId}:${isRaw}`, () => this.c.ownAllocation(reader.entries(mapId, 'own'), isRaw));
    reader.closeAll();
    let unwritten: HostExtent[] | null = null;
    try {
      // The extents must be those of the state the map describes: the file still has the identity
      // recorded when it was mapped (ctime only grows, so it had it all along).
      const extents = this.c.unwrittenExtents(file.path);
      if (extents !== null && isCurrent(file)) unwritten = extents;
    } catch (error) {
      if (isRunLevel(error, this.context.signal) || !(error instanceof ImgauditError)) throw error;
      this.finding(file.path, `true allocation unknown: ${error.message}`);
    }
    const unwrittenBytes = unwritten?.reduce((sum, extent) => sum + extent.lengthBytes, 0) ?? null;
    let truly: CategoryBytes | null = null;
    if (unwritten !== null && !file.readsOtherFiles) {
      truly = unwritten.length === 0 ? own : this.c.trueAllocation(reader.entries(mapId, 'own'), isRaw, unwritten);
      reader.closeAll();
    }
    this.repo.saveAllocation({ fileId: file.fileId, mapId, own, true: truly, unwrittenBytes });
    this.counts.allocations++;
  }

  // ------------------------------------------------------- per chain state

  private async chainFigures(): Promise<void> {
    const { signal, store } = this.context;
    let units = 0;
    for (let after = 0; ;) {
      const page = this.repo.pendingChains(after);
      if (page.length === 0) return;
      await this.load();
      for (const chain of page) {
        after = chain.chainId;
        this.chainFigure(chain);
        store.commitIfDue();
        if (++units % UNITS_PER_TURN === 0) {
          await yieldToEventLoop();
          if (signal.aborted) return;
        }
      }
    }
  }

  private chainFigure(chain: PendingChain): void {
    const layers = this.repo.chainLayers(chain.chainId);
    let isComplete = layers.every((layer) => layer.ownMapId !== null);
    let commit: number | null = null;
    try {
      for (const layer of layers) {
        if (layer.ownMapId === null) continue;
        // The top reads all it holds itself within its own virtual size: depth 0 shadows nothing.
        const shadowed = layer.depth === 0 ? NONE : this.shadowed(chain, layer, layer.ownMapId);
        this.repo.saveShadowed(chain.chainId, layer.depth, shadowed);
      }
      commit = this.commit(layers);
    } catch (error) {
      this.repo.reader.closeAll();
      if (isRunLevel(error, this.context.signal)) throw error;
      isComplete = false;
      this.finding(layers[0]?.path ?? `chain ${chain.chainId}`, `layer figures not computed: ${messageOf(error)}`);
    }
    this.repo.saveChainFigures(chain.chainId, commit, isComplete);
    if (isComplete) this.counts.chains++;
  }

  private shadowed(chain: PendingChain, layer: ChainLayerRow, ownMapId: number): CategoryBytes {
    const { reader } = this.repo;
    const isRaw = layer.format === 'raw';
    const key = `${ownMapId}:${chain.mapId}:${layer.depth}:${isRaw}:${chain.virtualSizeBytes}`;
    const shadowed = this.shadowMemo.get(key, () => {
      const { dataBytes, zeroBytes, preallocatedBytes } = this.c.shadowedBytes(reader.entries(ownMapId, 'own'),
        reader.entries(chain.mapId, 'all'), layer.depth, isRaw, chain.virtualSizeBytes);
      return { dataBytes, zeroBytes, preallocatedBytes };
    });
    reader.closeAll();
    return shadowed;
  }

  /**
   * `qemu-img commit` of the top into its backing file, dry: the bytes the
   * backing file would gain; null without a backing file or an exact estimate.
   */
  private commit(layers: readonly ChainLayerRow[]): number | null {
    const [top, backing] = layers;
    if (top?.ownMapId == null || backing?.ownMapId == null || backing.virtualSizeBytes === null) return null;
    const { reader } = this.repo;
    const topMapId = top.ownMapId;
    const backingMapId = backing.ownMapId;
    const backingFacts: CommitBacking = {
      format: backing.format, clusterSizeBytes: backing.clusterSizeBytes, virtualSizeBytes: backing.virtualSizeBytes,
      hasBackingFile: layers.length > 2, ...qcow2Facts(backing),
    };
    const topFacts: CommitTop = {
      diskUsageBytes: top.allocatedBytes, format: top.format, clusterSizeBytes: top.clusterSizeBytes,
      ...(top.virtualSizeBytes === null ? {} : { virtualSizeBytes: top.virtualSizeBytes }),
      ...(top.format === 'qcow2' ? { extendedL2: qcow2Facts(top).extendedL2 } : {}),
    };
    const key = JSON.stringify([topMapId, backingMapId, backingFacts, topFacts]);
    const growth = this.commitMemo.get(key, () =>
      this.c.estimateCommit(reader.entries(topMapId, 'own'), reader.entries(backingMapId, 'own'), backingFacts, topFacts)?.backingGrowthBytes ?? null);
    reader.closeAll();
    return growth;
  }

  // ---------------------------------------------------------- base sharing

  private async sharings(): Promise<void> {
    const { signal, store, runId } = this.context;
    let units = 0;
    for (let after = 0; ;) {
      const page = this.repo.baseFiles(after);
      if (page.length === 0) return;
      for (const fileId of page) {
        after = fileId;
        const group = this.repo.baseGroup(fileId);
        const existing = this.repo.sharingId(group.key);
        if (existing === undefined) await this.load();
        this.sharing(runId, group, existing);
        store.commitIfDue();
        if (++units % UNITS_PER_TURN === 0) {
          await yieldToEventLoop();
          if (signal.aborted) return;
        }
      }
    }
  }

  /** Links the run to the sharing of `group` (`existing` when stored), computing it when new. */
  private sharing(runId: number, group: BaseGroup, existing: number | undefined): void {
    const { repo } = this;
    const { fileId } = group;
    if (existing !== undefined) {
      repo.linkRunSharing(runId, existing);
      this.counts.sharingsReused++;
      return;
    }
    const baseMapId = repo.ownMapId(fileId);
    if (baseMapId === undefined) return; // its own allocation failed: a finding says so
    let figures;
    try {
      // What an overlay reads of its base is its chain map's present entries at depth 1 (all
      // baseSharing looks at): read a page at a time, so that k overlays cost k pages, not k statements.
      const pageRows = Math.max(16, Math.min(1024, Math.floor(OVERLAY_PAGE_BUDGET / group.overlays.length)));
      const wholeMaps = new Map<number, readonly EntryRow[]>();
      figures = this.c.baseSharing(repo.reader.entries(baseMapId, 'own'),
        group.overlays.map((overlay) => repo.reader.pagedEntries(overlay.mapId, 1, pageRows, wholeMaps)));
    } catch (error) {
      if (isRunLevel(error, this.context.signal)) throw error;
      this.finding(repo.filePath(fileId), `base sharing not computed: ${messageOf(error)}`);
      return;
    } finally {
      repo.reader.closeAll();
    }
    repo.linkRunSharing(runId, repo.saveSharing(group, figures));
    this.counts.sharings++;
  }

  // ------------------------------------------------- references, file systems

  private async references(): Promise<void> {
    const { config, runId } = this.context;
    if (config.references.libvirtDomainDirs.length === 0 && config.references.pathLists.length === 0) return;
    const { collectReferences } = await import('./references.js');
    const onFinding = (path: string, finding: FindingRecord): void => {
      this.context.store.runs.addFinding(runId, path, finding);
      this.context.onFinding(path, finding);
    };
    for (const reference of collectReferences(config.references, onFinding)) {
      this.repo.saveReference(runId, reference.path, reference.source);
      this.counts.references++;
    }
  }

  private fileSystems(): void {
    const { runId, roots, store } = this.context;
    for (const root of roots) {
      let row;
      try {
        const stat = fs.statSync(root, { bigint: true });
        const fsStat = fs.statfsSync(root, { bigint: true });
        row = {
          rootId: store.runs.rootId(root), dev: Number(stat.dev), capacityBytes: Number(fsStat.blocks * fsStat.bsize),
          freeBytes: Number(fsStat.bfree * fsStat.bsize), availableBytes: Number(fsStat.bavail * fsStat.bsize),
        };
      } catch {
        continue; // a root that cannot be read is already a finding of the crawl
      }
      this.repo.saveFileSystem(runId, row);
      this.counts.fileSystems++;
    }
  }
}

/**
 * Runs the pass for run `runId`. Returns what it computed; stops early (and
 * quietly) when the signal aborts. Throws only store errors.
 */
export async function recordLayerFigures(context: LayerFiguresContext): Promise<LayerFiguresCounts> {
  const pass = new LayerFiguresPass(context);
  try {
    await pass.run();
  } catch (error) {
    if (!isAbort(error, context.signal)) throw error;
  }
  return pass.counts;
}
