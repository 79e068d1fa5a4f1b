/**
 * Synthetic estates written through the scan's own store (ScanStore), so
 * the report queries are tested against exactly what a scan writes. Each
 * image is a chain of layers with given per-depth figures; its map is one
 * entry (only its identity matters to the reports).
 */
import type { MapEntry } from '../../../src/map/map-entry.js';
import type { ChainRecord, FileState, FindingRecord, LayerRecord } from '../../../src/store/records.js';
import { ScanStore } from '../../../src/store/scan-store.js';

export const MiB = 1 << 20;

/** One layer of a synthetic chain. */
export interface LayerSpec {
  path: string;
  ino: number;
  format?: string;
  dataBytes?: number;
  zeroBytes?: number;
  preallocatedBytes?: number;
  allocatedBytes?: number;
  backingName?: string | null;
  flags?: string[];
}

/** One synthetic image (layers[0] is the image itself). */
export interface ImageSpec {
  root?: string;
  layers: LayerSpec[];
  virtualSizeBytes?: number;
  error?: { code: string; message: string; depth?: number };
  findings?: FindingRecord[];
}

function fileState(layer: LayerSpec): FileState {
  return {
    path: layer.path, dev: 2049, ino: layer.ino, sizeBytes: layer.allocatedBytes ?? MiB,
    allocatedBytes: layer.allocatedBytes ?? MiB, mtimeNs: 1_700_000_000_000_000_000n, ctimeNs: 1_700_000_000_000_000_000n,
  };
}

function layerRecord(layer: LayerSpec, depth: number, virtualSizeBytes: number): LayerRecord {
  return {
    depth, format: layer.format ?? 'qcow2', virtualSizeBytes, backingName: layer.backingName ?? null,
    backingFormat: null, clusterSizeBytes: 65536, version: '3', flags: layer.flags ?? [], file: fileState(layer), extraFiles: [],
  };
}

function chainRecord(store: ScanStore, spec: ImageSpec): ChainRecord {
  const virtualSizeBytes = spec.virtualSizeBytes ?? 64 * MiB;
  const layers = spec.layers.map((layer, depth) => layerRecord(layer, depth, virtualSizeBytes));
  const findings = [...(spec.findings ?? [])];
  if (spec.error !== undefined) {
    findings.unshift({ code: spec.error.code, severity: 'error', depth: spec.error.depth ?? null, message: spec.error.message });
    return { layers, mapId: null, virtualSizeBytes, unallocatedBytes: null, depthTotals: null,
      error: { code: spec.error.code, message: spec.error.message }, findings };
  }
  const depthTotals = spec.layers.map((layer) => ({
    dataBytes: layer.dataBytes ?? 0, zeroBytes: layer.zeroBytes ?? 0, preallocatedBytes: layer.preallocatedBytes ?? 0,
  }));
  const used = depthTotals.reduce((sum, d) => sum + d.dataBytes + d.zeroBytes + d.preallocatedBytes, 0);
  const builder = store.maps.begin(virtualSizeBytes);
  const entry: MapEntry = { startBytes: 0, lengthBytes: virtualSizeBytes, depth: 0, present: true, zero: false, data: true,
    compressed: false, offsetBytes: spec.layers[0]!.ino * 1024 * MiB + used, filename: undefined };
  builder.add(entry);
  return { layers, mapId: builder.finish(), virtualSizeBytes, unallocatedBytes: virtualSizeBytes - used, depthTotals,
    error: null, findings };
}

/** Writes one run of `images` (by path of their top layer); returns its id. */
export function writeRun(store: ScanStore, images: readonly ImageSpec[], options: {
  status?: 'complete' | 'interrupted'; startedAt?: Date; roots?: string[]; runFindings?: { path: string; finding: FindingRecord }[];
} = {}): number {
  const roots = options.roots ?? ['/srv/images'];
  const runId = store.runs.begin({ roots, config: {}, fingerprint: 'f', isFull: false, host: 'h', toolVersion: 't',
    pid: 1, startedAt: options.startedAt ?? new Date() });
  const previous = store.runs.lastComplete();
  store.transaction(() => {
    for (const spec of images) {
      const path = spec.layers[0]!.path;
      const chainId = store.chains.saveChain(chainRecord(store, spec));
      const before = previous === undefined ? undefined : store.runs.chainIdIn(previous, path);
      store.runs.addImage(runId, path, spec.root ?? roots[0]!, chainId,
        before === undefined ? 'new' : before === chainId ? 'unchanged' : 'changed');
    }
    for (const { path, finding } of options.runFindings ?? []) store.runs.addFinding(runId, path, finding);
  });
  store.runs.end(runId, options.status ?? 'complete', new Date());
  return runId;
}

/** A small estate: a base shared by two overlays, a standalone raw image, a broken overlay. */
export function baseEstate(overrides: { vm1DataBytes?: number } = {}): ImageSpec[] {
  const base: LayerSpec = { path: '/srv/images/base.qcow2', ino: 10, dataBytes: 4 * MiB, zeroBytes: MiB, allocatedBytes: 6 * MiB };
  return [
    { layers: [base] },
    { layers: [{ path: '/srv/images/vm1.qcow2', ino: 11, dataBytes: overrides.vm1DataBytes ?? MiB, backingName: 'base.qcow2',
      allocatedBytes: 2 * MiB }, { ...base, dataBytes: 3 * MiB }] },
    { layers: [{ path: '/srv/images/vm2.qcow2', ino: 12, dataBytes: 2 * MiB, backingName: 'base.qcow2', allocatedBytes: 3 * MiB },
      { ...base, dataBytes: 2 * MiB, zeroBytes: 0 }] },
    { layers: [{ path: '/srv/images/disk.raw', ino: 13, format: 'raw', dataBytes: 8 * MiB, zeroBytes: 56 * MiB, allocatedBytes: 8 * MiB }] },
    { layers: [{ path: '/srv/images/broken.qcow2', ino: 14, backingName: 'gone.qcow2', allocatedBytes: 196 * 1024 }],
      virtualSizeBytes: 16 * MiB, error: { code: 'E_BACKING_MISSING', message: 'no such file', depth: 1 } },
  ];
}
