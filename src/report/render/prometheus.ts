/**
 * Prometheus text exposition for the node_exporter textfile collector:
 * gauges in base units (`_bytes`), no timestamps, bounded labels only
 * (depth, category, root, finding code and severity; never a path). Depths
 * from DEPTH_LABEL_CAP on are summed into one `depth="8+"` series so that a
 * pathological chain cannot add series. The CLI writes the file to a
 * temporary name and renames it (atomic for the collector).
 */
import { promLabel } from '../escape.js';
import type { ReportModel } from '../model.js';

/** Depths at or beyond this share the label `"<cap>+"`. */
export const DEPTH_LABEL_CAP = 8;
const STATUSES = ['complete', 'interrupted', 'failed', 'running'] as const;

type Labels = Readonly<Record<string, string>>;

class Exposition {
  private readonly lines: string[] = [];

  gauge(name: string, help: string, samples: readonly (readonly [Labels, number])[]): void {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
    for (const [labels, value] of samples) {
      const text = Object.entries(labels).map(([key, v]) => `${key}="${promLabel(v)}"`).join(',');
      this.lines.push(`${name}${text === '' ? '' : `{${text}}`} ${value}`);
    }
  }

  toString(): string {
    return `${this.lines.join('\n')}\n`;
  }
}

function depthLabel(depth: number): string {
  return depth >= DEPTH_LABEL_CAP ? `${DEPTH_LABEL_CAP}+` : String(depth);
}

function secondsOf(iso: string | null): number {
  return iso === null ? 0 : Date.parse(iso) / 1000;
}

/** Renders the report model as Prometheus text. */
export function renderPrometheus(model: ReportModel): string {
  const out = new Exposition();
  const byDepth = new Map<string, { data: number; zero: number; preallocated: number }>();
  for (const d of model.totals.byDepth) {
    const label = depthLabel(d.depth);
    const sum = byDepth.get(label) ?? { data: 0, zero: 0, preallocated: 0 };
    sum.data += d.dataBytes;
    sum.zero += d.zeroBytes;
    sum.preallocated += d.preallocatedBytes;
    byDepth.set(label, sum);
  }
  out.gauge('imgaudit_depth_bytes',
    `Bytes the images' chains hold at each chain depth, by category (a shared base counts once per chain; depths from ${DEPTH_LABEL_CAP} summed).`,
    [...byDepth].flatMap(([depth, sum]) => (['data', 'zero', 'preallocated'] as const)
      .map((category) => [{ depth, category }, sum[category]] as const)));
  out.gauge('imgaudit_unallocated_bytes', 'Virtual bytes no layer of their chain holds.', [[{}, model.totals.unallocatedBytes]]);
  out.gauge('imgaudit_virtual_size_bytes', 'Sum of the images\' virtual sizes.', [[{}, model.totals.virtualSizeBytes]]);
  out.gauge('imgaudit_disk_usage_bytes', 'Host bytes allocated to the image files (st_blocks x 512), each file once.',
    [[{}, model.totals.diskUsageBytes]]);
  out.gauge('imgaudit_images', 'Images audited.', [[{}, model.run.imageCount]]);
  out.gauge('imgaudit_image_errors', 'Images whose chain could not be mapped.', [[{}, model.run.errorCount]]);
  out.gauge('imgaudit_root_virtual_size_bytes', 'Sum of the virtual sizes of the images under each root.',
    model.roots.map((r) => [{ root: r.root }, r.virtualSizeBytes] as const));
  out.gauge('imgaudit_root_disk_usage_bytes', 'Host bytes allocated to the image files under each root, each file once.',
    model.roots.map((r) => [{ root: r.root }, r.diskUsageBytes] as const));
  out.gauge('imgaudit_root_bytes', 'Bytes of the chains of the images under each root, by category.',
    model.roots.flatMap((r) => [
      [{ root: r.root, category: 'data' }, r.dataBytes] as const,
      [{ root: r.root, category: 'zero' }, r.zeroBytes] as const,
      [{ root: r.root, category: 'preallocated' }, r.preallocatedBytes] as const,
      [{ root: r.root, category: 'unallocated' }, r.unallocatedBytes] as const,
    ]));
  out.gauge('imgaudit_root_images', 'Images audited under each root.', model.roots.map((r) => [{ root: r.root }, r.imageCount] as const));
  out.gauge('imgaudit_findings', 'Findings of the run, by code and severity (imgaudit check lists them).',
    model.findingCounts.map((f) => [{ code: f.code, severity: f.severity }, f.count] as const));
  out.gauge('imgaudit_run_id', 'Id of the run these figures come from.', [[{}, model.run.id]]);
  out.gauge('imgaudit_run_start_timestamp_seconds', 'Start time of the run these figures come from.',
    [[{}, secondsOf(model.run.startedAt)]]);
  out.gauge('imgaudit_last_success_timestamp_seconds', 'Finish time of the newest complete run.',
    [[{}, secondsOf(model.lastSuccessAt)]]);
  out.gauge('imgaudit_last_run_status', 'Status of the newest run (1 for its status).',
    STATUSES.map((status) => [{ status }, model.newestRun.status === status ? 1 : 0] as const));
  return out.toString();
}
