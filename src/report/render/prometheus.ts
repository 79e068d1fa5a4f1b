/**
 * Prometheus text exposition for the node_exporter textfile collector:
 * gauges in base units (`_bytes`, `_seconds`; `promtool check metrics`
 * passes), HELP and TYPE lines for every metric, no timestamps, bounded labels only
 * (depth, category, root, finding code and severity; never a path). Depths
 * from DEPTH_LABEL_CAP on are summed into one `depth="8+"` series so that a
 * pathological chain cannot add series. The CLI writes the file to a
 * temporary name and renames it (atomic for the collector).
 */
import { promLabel } from '../escape.js';
import type { FilesystemReport, ReportModel } from '../model.js';
import { deviceName } from '../units.js';

/** Depths at or beyond this share the label `"<cap>+"`. */
export const DEPTH_LABEL_CAP = 8;
const STATUSES = ['complete', 'interrupted', 'failed', 'running'] as const;
const SECONDS_PER_DAY = 86_400;
/** The 0.2 name of imgaudit_filesystem_time_to_full_seconds (promtool: not a base unit). */
export const DEPRECATED_DAYS_TO_FULL = 'imgaudit_filesystem_days_to_full';

type Labels = Readonly<Record<string, string>>;

/** A sample value as the text format writes it (`+Inf`, `-Inf`, `NaN`). */
function sampleValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

class Exposition {
  private readonly lines: string[] = [];

  gauge(name: string, help: string, samples: readonly (readonly [Labels, number])[]): void {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
    for (const [labels, value] of samples) {
      const text = Object.entries(labels).map(([key, v]) => `${key}="${promLabel(v)}"`).join(',');
      this.lines.push(`${name}${text === '' ? '' : `{${text}}`} ${sampleValue(value)}`);
    }
  }

  toString(): string {
    return `${this.lines.join('\n')}\n`;
  }
}

function depthLabel(depth: number): string {
  return depth >= DEPTH_LABEL_CAP ? `${DEPTH_LABEL_CAP}+` : String(depth);
}

function fsLabels(fs: FilesystemReport): Labels {
  return { filesystem: deviceName(fs.dev), roots: fs.roots.join(',') };
}

function secondsOf(iso: string | null): number {
  return iso === null ? 0 : Date.parse(iso) / 1000;
}

/** Options of the Prometheus renderer. */
export interface PrometheusOptions {
  /**
   * `--deprecated-metrics`: also write the metrics renamed in 0.3 under their
   * old names (for one release), though `promtool check metrics` rejects them.
   */
  isDeprecatedMetrics: boolean;
}

/** Renders the report model as Prometheus text. */
export function renderPrometheus(model: ReportModel, options: PrometheusOptions = { isDeprecatedMetrics: false }): string {
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
  out.gauge('imgaudit_root_growth_bytes_per_day',
    'Growth of the disk usage of the image files under each root: least squares over the kept complete runs (absent with fewer than 2, or runs less than a day apart).',
    model.rootFigures.filter((r) => r.growthPerDayBytes !== null).map((r) => [{ root: r.root }, r.growthPerDayBytes!] as const));
  out.gauge('imgaudit_shadowed_bytes',
    'Bytes the layers of the chains under each root hold but the chain tops no longer read, by category (a layer counts once per chain).',
    model.rootFigures.flatMap((r) => [
      [{ root: r.root, category: 'data' }, r.shadowed.dataBytes] as const,
      [{ root: r.root, category: 'zero' }, r.shadowed.zeroBytes] as const,
      [{ root: r.root, category: 'preallocated' }, r.shadowed.preallocatedBytes] as const,
    ]));
  out.gauge('imgaudit_true_preallocated_bytes',
    'Bytes of the image files under each root in fallocated, never written extents (file system extent map; files where it is known).',
    model.rootFigures.map((r) => [{ root: r.root }, r.truePreallocatedBytes] as const));
  out.gauge('imgaudit_orphan_bytes',
    'Disk usage of the image files under each root that nothing uses: unreferenced images, bases whose overlays vanished.',
    model.rootFigures.map((r) => [{ root: r.root }, r.orphanBytes] as const));
  out.gauge('imgaudit_root_shared_bases', 'Base files under each root that overlays read directly.',
    model.rootFigures.map((r) => [{ root: r.root }, r.bases.count] as const));
  out.gauge('imgaudit_root_shared_base_bytes',
    'Own bytes of the bases under each root, by what their overlays read: shared (two or more), read_by_one, unread.',
    model.rootFigures.flatMap((r) => [
      [{ root: r.root, category: 'shared' }, r.bases.sharedBytes] as const,
      [{ root: r.root, category: 'read_by_one' }, r.bases.readByOneBytes] as const,
      [{ root: r.root, category: 'unread' }, r.bases.unreadBytes] as const,
    ]));
  const filesystems = model.filesystems;
  out.gauge('imgaudit_filesystem_capacity_bytes', 'Size of the file system holding the roots (statfs at the end of the scan).',
    filesystems.map((fs) => [fsLabels(fs), fs.capacityBytes] as const));
  out.gauge('imgaudit_filesystem_free_bytes', 'Free bytes of the file system (f_bfree).',
    filesystems.map((fs) => [fsLabels(fs), fs.freeBytes] as const));
  out.gauge('imgaudit_filesystem_available_bytes', 'Bytes of the file system unprivileged writers can still use (f_bavail).',
    filesystems.map((fs) => [fsLabels(fs), fs.availableBytes] as const));
  out.gauge('imgaudit_filesystem_virtual_bytes', 'Sum of the virtual sizes of the images under the roots on the file system.',
    filesystems.map((fs) => [fsLabels(fs), fs.virtualSizeBytes] as const));
  out.gauge('imgaudit_filesystem_disk_usage_bytes', 'Disk usage of the image files under the roots on the file system, each file once.',
    filesystems.map((fs) => [fsLabels(fs), fs.diskUsageBytes] as const));
  out.gauge('imgaudit_filesystem_overcommit_ratio', 'Virtual sizes of the images on the file system over its capacity.',
    filesystems.filter((fs) => fs.overcommitRatio !== null).map((fs) => [fsLabels(fs), fs.overcommitRatio!] as const));
  out.gauge('imgaudit_filesystem_growth_bytes_per_day',
    'Growth of the images\' disk usage on the file system: least squares over the kept complete runs (absent with fewer than 2, or runs less than a day apart).',
    filesystems.filter((fs) => fs.growthPerDayBytes !== null).map((fs) => [fsLabels(fs), fs.growthPerDayBytes!] as const));
  const toFull = filesystems.filter((fs) => fs.growthPerDayBytes !== null);
  out.gauge('imgaudit_filesystem_time_to_full_seconds',
    'Seconds until the available bytes reach 0 at that growth (+Inf when not growing; absent without a growth rate).',
    toFull.map((fs) => [fsLabels(fs), fs.daysToFull === null ? Number.POSITIVE_INFINITY : fs.daysToFull * SECONDS_PER_DAY] as const));
  if (options.isDeprecatedMetrics) {
    out.gauge(DEPRECATED_DAYS_TO_FULL,
      'DEPRECATED (removed in imgaudit 0.4): days until the available bytes reach 0; use imgaudit_filesystem_time_to_full_seconds / 86400.',
      toFull.map((fs) => [fsLabels(fs), fs.daysToFull ?? Number.POSITIVE_INFINITY] as const));
  }
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
