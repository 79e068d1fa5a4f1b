/**
 * What the steps of the post-scan pass (layer-figures.ts) share: its
 * context and counts, the computing modules loaded on first use, the
 * E_LAYER_FIGURES findings, a bounded memo, and which errors stop the pass.
 */
import type { ScanConfig } from '../config/config.js';
import type { HostExtentMap } from '../io/extents.js';
import { isSqliteError } from '../store/db.js';
import type { LayerRepo } from '../store/layer-repo.js';
import type { FindingRecord } from '../store/records.js';
import type { ScanStore } from '../store/scan-store.js';

/**
 * The computing modules, loaded when a pass has something to compute: an
 * unchanged re-scan (mostly Node's start-up) does not pay for loading them.
 */
const compute = async () => {
  const [extents, own, reclaim, hostLayout] = await Promise.all([
    import('../io/extents.js'), import('../map/own-allocation.js'), import('../map/reclaim/index.js'),
    import('../formats/qcow2/host-layout.js')]);
  return { ...extents, ...own, ...reclaim, ...hostLayout };
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
  /** FIEMAP extent maps computed elsewhere (the scan's map workers); io/extents on this thread without it. */
  extents?: (path: string) => Promise<HostExtentMap | null>;
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

/** Chain states or bases handled between two turns of the event loop. */
export const UNITS_PER_TURN = 64;
/** Results remembered per pass, by the maps they were computed from (copies of images share maps). */
const MEMO_ENTRIES = 4096;

/** A bounded memo: the oldest result goes first. */
export class Memo<T> {
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

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function isAbort(error: unknown, signal: AbortSignal): boolean {
  return signal.aborted && (error === signal.reason || (error as Error | undefined)?.name === 'AbortError');
}

/** Image-level failures become findings; store errors and aborts propagate. */
export function isRunLevel(error: unknown, signal: AbortSignal): boolean {
  return isSqliteError(error) || isAbort(error, signal);
}

/** One pass: what its steps share. */
export class LayerFiguresPass {
  readonly counts: LayerFiguresCounts = {
    layersMapped: 0, allocations: 0, chains: 0, sharings: 0, sharingsReused: 0, references: 0, fileSystems: 0,
  };
  private computing: Compute | undefined;

  constructor(readonly context: LayerFiguresContext) {}

  get repo(): LayerRepo {
    return this.context.store.layers;
  }

  /** The computing modules (loaded by `load` before the first unit that computes). */
  get c(): Compute {
    if (this.computing === undefined) throw new Error('layer figures: computing modules not loaded');
    return this.computing;
  }

  async load(): Promise<void> {
    this.computing ??= await compute();
  }

  finding(path: string, message: string): void {
    const finding: FindingRecord = { code: 'E_LAYER_FIGURES', severity: 'warning', depth: null, message: `${path}: ${message}` };
    this.context.store.runs.addFinding(this.context.runId, path, finding);
    this.context.onFinding(path, finding);
  }
}
