/**
 * The renderers, by command and format: `--format` accepts exactly the keys
 * of each registry. Every renderer is a pure function of its model (and the
 * options) that returns the whole output as a string.
 */
import { checkDocument } from './documents/check-document.js';
import { diffDocument } from './documents/diff-document.js';
import { reportDocument } from './documents/report-document.js';
import { runsDocument } from './documents/runs-document.js';
import type { CheckModel, DiffModel, ReportModel, RunsModel } from './model.js';
import { renderCsv } from './render/csv.js';
import { renderHtml } from './render/html.js';
import { checkJson, diffJson, queryJson, reportJson, runsJson, tableJson } from './render/json.js';
import { renderMarkdown } from './render/markdown.js';
import { renderPrometheus } from './render/prometheus.js';
import { DEFAULT_WIDTH_COLUMNS, renderText } from './render/text.js';
import type { Document, Table } from './table.js';

/** Options every renderer receives. */
export interface RenderOptions {
  /** `--bytes`: exact integers instead of IEC sizes in human output. */
  isExactBytes: boolean;
  /** Width text output fits. */
  widthColumns: number;
}

/** A renderer: a pure function of a model. */
export type Renderer<M> = (model: M, options: RenderOptions) => string;

export const DEFAULT_RENDER_OPTIONS: RenderOptions = { isExactBytes: false, widthColumns: DEFAULT_WIDTH_COLUMNS };

function documentRenderers<M>(toDocument: (model: M) => Document): Record<'text' | 'markdown' | 'csv' | 'html', Renderer<M>> {
  return {
    text: (model, options) => renderText(toDocument(model), options),
    markdown: (model, options) => renderMarkdown(toDocument(model), options),
    csv: (model) => renderCsv(toDocument(model)),
    html: (model, options) => renderHtml(toDocument(model), options),
  };
}

/** The report model plus whether it is the overview (or one definition: `--by`, `--report`). */
export interface ReportView {
  model: ReportModel;
  isOverview: boolean;
  /** Prometheus: also the metrics' deprecated names (`--deprecated-metrics`). */
  isDeprecatedMetrics?: boolean;
}

export const REPORT_RENDERERS = {
  ...documentRenderers((view: ReportView) => reportDocument(view.model, view.isOverview)),
  json: (view: ReportView) => (view.isOverview ? reportJson(view.model) : tableJson(view.model, view.model.sections[0]!)),
  prometheus: (view: ReportView) => renderPrometheus(view.model, { isDeprecatedMetrics: view.isDeprecatedMetrics === true }),
} satisfies Record<string, Renderer<ReportView>>;

export const DIFF_RENDERERS = {
  ...documentRenderers(diffDocument),
  json: (model: DiffModel) => diffJson(model),
} satisfies Record<string, Renderer<DiffModel>>;

export const CHECK_RENDERERS = {
  ...documentRenderers(checkDocument),
  json: (model: CheckModel) => checkJson(model),
} satisfies Record<string, Renderer<CheckModel>>;

/** `imgaudit runs` in a terminal: the bare table, like a listing (no title, no header lines). */
function bareDocument(doc: Document): Document {
  return { ...doc, title: '', meta: [], tables: doc.tables.map((table) => ({ ...table, title: '' })) };
}

export const RUNS_RENDERERS = {
  ...documentRenderers(runsDocument),
  text: (model: RunsModel, options: RenderOptions) => renderText(bareDocument(runsDocument(model)), options),
  json: (model: RunsModel) => runsJson(model),
} satisfies Record<string, Renderer<RunsModel>>;

function queryDocument(table: Table): Document {
  return { title: '', meta: [], tables: [table], csvTable: table, pathBase: null };
}

export const QUERY_RENDERERS = {
  table: (table: Table, options: RenderOptions) => renderText(queryDocument(table), options),
  json: (table: Table) => queryJson(table),
  csv: (table: Table) => renderCsv(queryDocument(table)),
} satisfies Record<string, Renderer<Table>>;

export type ReportFormat = keyof typeof REPORT_RENDERERS;
export type DiffFormat = keyof typeof DIFF_RENDERERS;
export type CheckFormat = keyof typeof CHECK_RENDERERS;
export type RunsFormat = keyof typeof RUNS_RENDERERS;
export type QueryFormat = keyof typeof QUERY_RENDERERS;

/** The `--format` choices of a registry, in a stable order (text first). */
export function formatsOf(registry: object): string[] {
  const order = ['text', 'table', 'markdown', 'json', 'csv', 'html', 'prometheus'];
  return Object.keys(registry).sort((a, b) => order.indexOf(a) - order.indexOf(b));
}
