/**
 * Step 2 of the post-scan pass: per chain state without figures, the
 * shadowed bytes of every layer and the commit estimate of the top into
 * its backing file.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { isSameFile, statIdentity } from '../crawl/file-identity.js';
import type { CategoryBytes } from '../map/own-allocation.js';
import type { CommitBacking, CommitEstimate, CommitTop, Qcow2HostLayout } from '../map/reclaim/index.js';
import type { ChainLayerRow, CommitFigures, PendingChain } from '../store/chain-figures-repo.js';
import { type LayerFiguresPass, Memo, UNITS_PER_TURN, isRunLevel, messageOf } from './layer-figures-pass.js';

const NONE: CategoryBytes = Object.freeze({ dataBytes: 0, zeroBytes: 0, preallocatedBytes: 0 });

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

class ChainFigures {
  private readonly shadowMemo = new Memo<CategoryBytes>();
  private readonly commitMemo = new Memo<CommitFigures | null>();
  private readonly layoutMemo = new Memo<Qcow2HostLayout | null>();

  constructor(private readonly pass: LayerFiguresPass) {}

  async run(): Promise<void> {
    const { signal, store } = this.pass.context;
    let units = 0;
    for (let after = 0; ;) {
      const page = this.pass.repo.chainFigures.pendingChains(after);
      if (page.length === 0) return;
      await this.pass.load();
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
    const repo = this.pass.repo.chainFigures;
    const layers = repo.chainLayers(chain.chainId);
    let isComplete = layers.every((layer) => layer.ownMapId !== null);
    let commit: CommitFigures | null = null;
    try {
      for (const layer of layers) {
        if (layer.ownMapId === null) continue;
        // The top reads all it holds itself within its own virtual size: depth 0 shadows nothing.
        const shadowed = layer.depth === 0 ? NONE : this.shadowed(chain, layer, layer.ownMapId);
        repo.saveShadowed(chain.chainId, layer.depth, shadowed);
      }
      commit = this.commit(layers);
    } catch (error) {
      this.pass.repo.reader.closeAll();
      if (isRunLevel(error, this.pass.context.signal)) throw error;
      isComplete = false;
      this.pass.finding(layers[0]?.path ?? `chain ${chain.chainId}`, `layer figures not computed: ${messageOf(error)}`);
    }
    repo.saveChainFigures(chain.chainId, commit, isComplete);
    if (isComplete) this.pass.counts.chains++;
  }

  private shadowed(chain: PendingChain, layer: ChainLayerRow, ownMapId: number): CategoryBytes {
    const { reader } = this.pass.repo;
    const isRaw = layer.format === 'raw';
    const key = `${ownMapId}:${chain.mapId}:${layer.depth}:${isRaw}:${chain.virtualSizeBytes}`;
    const shadowed = this.shadowMemo.get(key, () => {
      const { dataBytes, zeroBytes, preallocatedBytes } = this.pass.c.shadowedBytes(reader.entries(ownMapId, 'own'),
        reader.entries(chain.mapId, 'all'), layer.depth, isRaw, chain.virtualSizeBytes);
      return { dataBytes, zeroBytes, preallocatedBytes };
    });
    reader.closeAll();
    return shadowed;
  }

  /**
   * `qemu-img commit` of the top into its backing file, dry: what the
   * backing file would gain; null without a backing file. A qcow2 backing
   * file's metadata layout is read from the file (when it is still the
   * state the scan recorded) for the metadata the commit allocates.
   */
  private commit(layers: readonly ChainLayerRow[]): CommitFigures | null {
    const [top, backing] = layers;
    if (backing === undefined) return null;
    const unknown: CommitFigures = { growth: null, dataGrowthBytes: null, endGrowth: null };
    if (top?.ownMapId == null || backing.ownMapId == null || backing.virtualSizeBytes === null) return unknown;
    const { reader } = this.pass.repo;
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
    // The layout depends on the file state only: the backing's files row stands for it in the key.
    const key = JSON.stringify([topMapId, backingMapId, backing.fileId, backingFacts, topFacts]);
    const figures = this.commitMemo.get(key, () => {
      const layout = backing.format === 'qcow2' ? this.layout(backing) : null;
      const facts = layout === null ? backingFacts : { ...backingFacts, layout };
      return commitFigures(this.pass.c.estimateCommit(reader.entries(topMapId, 'own'), reader.entries(backingMapId, 'own'), facts,
        topFacts), backing.format === 'raw');
    });
    reader.closeAll();
    return figures;
  }

  /** A qcow2 file's L1/refcount layout, read now; null when unreadable or no longer the state the scan saw. */
  private layout(file: ChainLayerRow): Qcow2HostLayout | null {
    return this.layoutMemo.get(String(file.fileId), () => {
      const recorded = this.pass.repo.chainFigures.fileState(file.fileId);
      const isCurrent = (): boolean => {
        const now = statIdentity(file.path);
        return recorded !== undefined && now !== null && isSameFile(now, recorded);
      };
      if (!isCurrent()) return null;
      let layout: Qcow2HostLayout | null;
      try {
        layout = this.pass.c.readQcow2HostLayoutAt(file.path);
      } catch {
        return null; // the host figures are unknown (stored as NULL)
      }
      return layout !== null && isCurrent() ? layout : null;
    });
  }
}

/** The stored figures of an estimate (raw backing files: host-backed bytes are all there is). */
function commitFigures(estimate: CommitEstimate | null, isRaw: boolean): CommitFigures {
  if (estimate === null) return { growth: null, dataGrowthBytes: null, endGrowth: null };
  if (isRaw) {
    const growth = estimate.backingGrowthBytes;
    return { growth: { min: growth, max: growth }, dataGrowthBytes: growth, endGrowth: null };
  }
  const host = estimate.host ?? null;
  if (host === null) return { growth: null, dataGrowthBytes: null, endGrowth: null };
  return { growth: host.allocatedGrowthBytes, dataGrowthBytes: host.dataGrowthBytes, endGrowth: host.endGrowthBytes };
}

/** Stores the shadowed bytes and commit estimate of every chain state of the run without layer figures. */
export async function recordChainFigures(pass: LayerFiguresPass): Promise<void> {
  await new ChainFigures(pass).run();
}
