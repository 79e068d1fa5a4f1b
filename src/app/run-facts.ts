/**
 * Step 4 of the post-scan pass: the references the configured sources
 * name, and each root's file system (statfs).
 */
import fs from 'node:fs';
import { fsPath } from '../io/byte-path.js';
import type { FindingRecord } from '../store/records.js';
import type { LayerFiguresPass } from './layer-figures-pass.js';

/** Stores the paths the configured reference sources name (none configured: nothing to do). */
export async function recordReferences(pass: LayerFiguresPass): Promise<void> {
  const { config, runId } = pass.context;
  if (config.references.libvirtDomainDirs.length === 0 && config.references.pathLists.length === 0) return;
  const { collectReferences } = await import('./references.js');
  const onFinding = (path: string, finding: FindingRecord): void => {
    pass.context.store.runs.addFinding(runId, path, finding);
    pass.context.onFinding(path, finding);
  };
  for (const reference of collectReferences(config.references, onFinding)) {
    pass.repo.runFacts.saveReference(runId, reference.path, reference.source);
    pass.counts.references++;
  }
}

/** Stores each root's file system as statfs sees it now. */
export function recordFileSystems(pass: LayerFiguresPass): void {
  const { runId, roots, store } = pass.context;
  for (const root of roots) {
    let row;
    try {
      const stat = fs.statSync(fsPath(root), { bigint: true });
      const fsStat = fs.statfsSync(fsPath(root) as string, { bigint: true });
      row = {
        rootId: store.runs.rootId(root), dev: Number(stat.dev), capacityBytes: Number(fsStat.blocks * fsStat.bsize),
        freeBytes: Number(fsStat.bfree * fsStat.bsize), availableBytes: Number(fsStat.bavail * fsStat.bsize),
      };
    } catch {
      continue; // a root that cannot be read is already a finding of the crawl
    }
    pass.repo.runFacts.saveFileSystem(runId, row);
    pass.counts.fileSystems++;
  }
}
