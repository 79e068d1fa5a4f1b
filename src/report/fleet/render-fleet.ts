/**
 * Renderers of the fleet view: text, markdown and HTML as a document of its
 * tables with the findings last; CSV is the totals per host (the fleet row
 * last); JSON holds every section's rows and the findings; Prometheus
 * gauges per host (label `host`; never a path) and for the fleet.
 */
import { promLabel } from '../escape.js';
import type { RenderOptions, Renderer } from '../index.js';
import { renderCsv } from '../render/csv.js';
import { renderHtml } from '../render/html.js';
import { toJson } from '../render/json.js';
import { renderMarkdown } from '../render/markdown.js';
import { renderText } from '../render/text.js';
import { type Document, camelCase } from '../table.js';
import { type FleetModel, rowObjects } from './build-fleet.js';

function fleetDocument(model: FleetModel): Document {
  const hosts = model.tables.find((t) => t.name === 'hosts');
  const totals = model.tables.find((t) => t.name === 'host-totals') ?? model.tables[0]!;
  return {
    title: 'imgaudit fleet report',
    meta: [
      { label: 'generated', value: `${model.generatedAt.slice(0, 10)} ${model.generatedAt.slice(11, 19)}Z` },
      { label: 'hosts', value: String(hosts?.rows.length ?? 0) },
      { label: 'stale after', value: `${Math.round(model.request.staleAfterMs / 3_600_000)} h` },
      { label: 'growth window', value: `${model.request.windowDays} days` },
    ],
    tables: model.tables,
    csvTable: totals,
    pathBase: null,
    notes: model.findings.length === 0 ? ['no fleet findings']
      : model.findings.map((f) => `${f.severity} ${f.code} ${f.message}`),
  };
}

function fleetJson(model: FleetModel): string {
  return toJson({
    generatedAt: model.generatedAt,
    staleAfterHours: Math.round(model.request.staleAfterMs / 3_600_000),
    windowDays: model.request.windowDays,
    sections: Object.fromEntries(model.tables.map((table) => [camelCase(table.name.replace(/-/g, '_')), rowObjects(table).map((row) =>
      Object.fromEntries(Object.entries(row).map(([key, value]) => [camelCase(key), value])))])),
    findings: model.findings,
  });
}

type Labels = Record<string, string>;

function fleetPrometheus(model: FleetModel): string {
  const lines: string[] = [];
  const gauge = (name: string, help: string, samples: [Labels, number][]) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
    for (const [labels, value] of samples) {
      const text = Object.entries(labels).map(([k, v]) => `${k}="${promLabel(v)}"`).join(',');
      const sample = value === Number.POSITIVE_INFINITY ? '+Inf' : Number.isFinite(value) ? String(value) : 'NaN';
      lines.push(`${name}${text === '' ? '' : `{${text}}`} ${sample}`);
    }
  };
  const table = (name: string) => rowObjects(model.tables.find((t) => t.name === name) ?? { name, title: '', columns: [], rows: [] });
  const hosts = table('hosts');
  gauge('imgaudit_fleet_hosts', 'Hosts with runs in the central store.', [[{}, hosts.length]]);
  gauge('imgaudit_fleet_host_stale', '1 when the host\'s last complete run is older than the stale threshold.',
    hosts.map((h) => [{ host: String(h.host) }, h.is_stale === true || h.is_stale === 1 ? 1 : 0]));
  gauge('imgaudit_fleet_host_last_success_age_seconds', 'Seconds since the host\'s last complete run finished.',
    hosts.filter((h) => h.last_success_at !== null)
      .map((h) => [{ host: String(h.host) }, Math.round((Date.parse(model.generatedAt) - Date.parse(String(h.last_success_at))) / 1000)]));
  const totals = table('host-totals');
  const perHost = totals.filter((r) => r.host !== '(fleet)');
  const fleet = totals.find((r) => r.host === '(fleet)');
  const metrics: [string, string, string][] = [
    ['image_count', 'imgaudit_fleet_images', 'Images in the host\'s newest complete run.'],
    ['disk_usage_bytes', 'imgaudit_fleet_disk_usage_bytes', 'Disk usage (each host file once) of the newest complete run.'],
    ['virtual_size_bytes', 'imgaudit_fleet_virtual_size_bytes', 'Virtual size of the images of the newest complete run.'],
    ['data_bytes', 'imgaudit_fleet_data_bytes', 'Data bytes (logical) of the newest complete run.'],
    ['preallocated_bytes', 'imgaudit_fleet_preallocated_bytes', 'Preallocated bytes (logical) of the newest complete run.'],
    ['shadowed_bytes', 'imgaudit_fleet_shadowed_bytes', 'Bytes backing layers hold that their chains do not read.'],
  ];
  for (const [key, name, help] of metrics) {
    gauge(name, help, perHost.map((r) => [{ host: String(r.host) }, Number(r[key] ?? 0)]));
    gauge(`${name.replace('imgaudit_fleet_', 'imgaudit_fleet_total_')}`, `${help} Sum over the hosts.`, [[{}, Number(fleet?.[key] ?? 0)]]);
  }
  const orphans = table('orphans');
  gauge('imgaudit_fleet_orphaned_bytes', 'Disk usage of the host\'s orphaned images.',
    orphans.map((r) => [{ host: String(r.host) }, Number(r.orphaned_bytes ?? 0)]));
  const filesystems = table('filesystems');
  gauge('imgaudit_fleet_filesystem_available_bytes', 'Available bytes of the file systems holding the host\'s roots (one per file system).',
    filesystems.map((r) => [{ host: String(r.host), root: String(r.root) }, Number(r.available_bytes ?? 0)]));
  gauge('imgaudit_fleet_filesystem_days_to_full', 'Days until the file system is full at its growth rate (+Inf: not shrinking).',
    filesystems.map((r) => [{ host: String(r.host), root: String(r.root) }, r.days_to_full === null ? Number.POSITIVE_INFINITY : Number(r.days_to_full)]));
  gauge('imgaudit_fleet_findings', 'Fleet findings by code.', (['E_HOST_STALE', 'E_HOST_NEVER_COMPLETE', 'E_FS_FILLING'] as const)
    .map((code) => [{ code }, model.findings.filter((f) => f.code === code).length]));
  return `${lines.join('\n')}\n`;
}

export const FLEET_RENDERERS = {
  text: (model: FleetModel, options: RenderOptions) => renderText(fleetDocument(model), options),
  markdown: (model: FleetModel, options: RenderOptions) => renderMarkdown(fleetDocument(model), options),
  json: (model: FleetModel) => fleetJson(model),
  csv: (model: FleetModel) => renderCsv(fleetDocument(model)),
  html: (model: FleetModel, options: RenderOptions) => renderHtml(fleetDocument(model), options),
  prometheus: (model: FleetModel) => fleetPrometheus(model),
} satisfies Record<string, Renderer<FleetModel>>;
