/**
 * The post-scan pass (issue 6, migration 0004), run once every candidate is
 * audited and before the run ends, inside the scan's batch:
 *
 * 1. own allocation of every layer file of the run's mapped chains, once per
 *    file state: from the chain map of the file as the top of its own chain
 *    (its present depth-0 entries), or else from a map of the layer alone,
 *    stored like any map; true allocation from the file system's unwritten
 *    extents (FIEMAP) (own-allocations.ts);
 * 2. per chain state without figures: shadowed bytes per layer and the
 *    commit estimate of the top into its backing file (chain-figures.ts);
 * 3. per base file read directly by the run's overlays: what they share
 *    (keyed by the base and the overlays' chain states, so that an unchanged
 *    estate reuses the row) (base-sharings.ts);
 * 4. the references the configured sources name, and each root's file
 *    system (run-facts.ts).
 *
 * Entries are streamed from SQLite in start order (`.iterate()`; a base's
 * many overlays a page each), never held; work lists are read a page at a
 * time; results are remembered by the maps they come from (copies of an
 * image share their maps). Layers mapped alone run under the
 * limiter, yielding to the event loop; an abort stops the pass (the run is
 * interrupted). A file or chain whose figures cannot be computed is a
 * warning finding (E_LAYER_FIGURES), not a failed run; only store errors
 * propagate. Images are only opened read-only (SPEC §6). What the steps
 * share is in layer-figures-pass.ts.
 */
import { recordBaseSharings } from './base-sharings.js';
import { recordChainFigures } from './chain-figures.js';
import { type LayerFiguresContext, type LayerFiguresCounts, LayerFiguresPass, isAbort } from './layer-figures-pass.js';
import { recordOwnAllocations } from './own-allocations.js';
import { recordFileSystems, recordReferences } from './run-facts.js';

export type { LayerFiguresContext, LayerFiguresCounts } from './layer-figures-pass.js';

/** The steps in order, over the run's TEMP work lists (cleared however the pass ends). */
async function runSteps(pass: LayerFiguresPass): Promise<void> {
  const { store, runId, signal } = pass.context;
  store.layers.prepareRun(runId);
  try {
    await recordOwnAllocations(pass);
    if (signal.aborted) return;
    await recordChainFigures(pass);
    if (signal.aborted) return;
    await recordBaseSharings(pass);
    if (signal.aborted) return;
    await recordReferences(pass);
    recordFileSystems(pass);
  } finally {
    store.layers.reader.closeAll();
    try {
      store.layers.clearRun();
    } catch {
      // Only TEMP rows: the next pass clears them; an error of the pass says more.
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
    await runSteps(pass);
  } catch (error) {
    if (!isAbort(error, context.signal)) throw error;
  }
  return pass.counts;
}
