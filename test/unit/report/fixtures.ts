/** Hand-built models for the renderer tests (no database). */
import type { ReportImage, ReportModel, RunRecord } from '../../../src/report/model.js';
import type { Table } from '../../../src/report/table.js';
import { columnOf } from '../../../src/report/table.js';

const MiB = 1 << 20;

export function run(over: Partial<RunRecord> = {}): RunRecord {
  return {
    id: 7, startedAt: '2026-11-20T02:00:00.000Z', finishedAt: '2026-11-20T02:03:04.500Z', status: 'complete',
    roots: ['/srv/images'], host: 'kvm1', toolVersion: '0.1.0', isFull: false, imageCount: 3, errorCount: 1,
    newCount: 0, changedCount: 1, readCount: 1, virtualSizeBytes: 144 * MiB, diskUsageBytes: 5 * MiB,
    dataBytes: 6 * MiB, zeroBytes: MiB, preallocatedBytes: 0, unallocatedBytes: 121 * MiB,
    findings: { error: 1, warning: 0, info: 0 }, ...over,
  };
}

export function image(path: string, over: Partial<ReportImage> = {}): ReportImage {
  return {
    path, root: '/srv/images', format: 'qcow2', virtualSizeBytes: 64 * MiB, diskUsageBytes: 2 * MiB, backing: null,
    chainLength: 1, byDepth: [{ depth: 0, dataBytes: 2 * MiB, zeroBytes: 0, preallocatedBytes: 0 }],
    unallocatedBytes: 62 * MiB, error: null, backingChain: [], inUse: null, chain: [], reclaim: null, growthPerDayBytes: null, ...over,
  };
}

/** A by-depth table as the definition would return it. */
export function depthTable(): Table {
  return {
    name: 'by-depth', title: 'Bytes per chain depth',
    columns: ['depth', 'image_count', 'data_bytes', 'zero_bytes', 'preallocated_bytes', 'of_virtual_pct'].map((k) => columnOf(k)),
    rows: [[0, 2, 4 * MiB, 0, 0, 3.1], [1, 1, 2 * MiB, MiB, 0, 2.3]],
    chart: { seriesKeys: ['data_bytes', 'zero_bytes', 'preallocated_bytes'], labelKey: 'depth' },
  };
}

export function reportModel(over: Partial<ReportModel> = {}): ReportModel {
  return {
    run: run(),
    previousRunId: 6,
    totals: {
      virtualSizeBytes: 144 * MiB, diskUsageBytes: 5 * MiB, unallocatedBytes: 121 * MiB,
      byDepth: [{ depth: 0, dataBytes: 4 * MiB, zeroBytes: 0, preallocatedBytes: 0 },
        { depth: 1, dataBytes: 2 * MiB, zeroBytes: MiB, preallocatedBytes: 0 }],
    },
    images: [
      image('/srv/images/base.qcow2'),
      image('/srv/images/broken.qcow2', { virtualSizeBytes: 16 * MiB, diskUsageBytes: 196 * 1024, backing: '/srv/images/gone.qcow2',
        byDepth: [], unallocatedBytes: null, error: { code: 'E_BACKING_MISSING', message: 'no such file' } }),
      image('/srv/images/vm1.qcow2', { backing: '/srv/images/base.qcow2', chainLength: 2,
        byDepth: [{ depth: 0, dataBytes: 2 * MiB, zeroBytes: 0, preallocatedBytes: 0 },
          { depth: 1, dataBytes: 2 * MiB, zeroBytes: MiB, preallocatedBytes: 0 }],
        unallocatedBytes: 59 * MiB, backingChain: ['/srv/images/base.qcow2 1:2'] }),
    ],
    bases: [],
    filesystems: [],
    rootFigures: [],
    sections: [depthTable()],
    roots: [{ root: '/srv/images', imageCount: 3, errorCount: 1, virtualSizeBytes: 144 * MiB, diskUsageBytes: 5 * MiB,
      dataBytes: 6 * MiB, zeroBytes: MiB, preallocatedBytes: 0, unallocatedBytes: 121 * MiB }],
    findingCounts: [{ code: 'E_BACKING_MISSING', severity: 'error', count: 1 }],
    lastSuccessAt: '2026-11-20T02:03:04.500Z',
    newestRun: { id: 7, status: 'complete' },
    ...over,
  };
}
