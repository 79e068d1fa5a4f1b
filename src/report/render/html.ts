/**
 * HTML output: one self-contained page (inline CSS, SVG and script; a
 * Content-Security-Policy that forbids every fetch), charts above the
 * tables that define one, and tables sortable by clicking a header. The
 * page's address can pick a sort: `report.html#sort=by-image:4:desc`
 * (table name, column index, direction).
 */
import { html } from '../escape.js';
import type { Cell, Column, Document, Table } from '../table.js';
import { type HumanOptions, humanCell, isRightAligned } from './cells.js';
import { barChart } from './html-chart.js';
import { PAGE_SCRIPT, PAGE_STYLE } from './html-assets.js';

const CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'";
const SORT_KINDS = new Set(['bytes', 'bytes-delta', 'percent', 'ratio', 'integer']);
const SEVERITIES = new Set(['error', 'warning', 'info']);

/** Columns of identifiers that must never wrap: codes, severities, statuses, formats. */
function isCodeColumn(key: string): boolean {
  return /(^|_)(code|severity|status|format)$/.test(key);
}

/**
 * A path that wraps only after a `/`: each name (with its slash) on one
 * unbreakable span (a `-` in a UUID is no break), a <wbr> between them.
 */
function pathHtml(text: string): string {
  const names = text.split(/(?<=\/)/);
  return names.length === 1 ? html(text) : names.map((name) => `<span>${html(name)}</span>`).join('<wbr>');
}

/** Escaped text that wraps where words do, and paths in it only after a `/`. */
function wrappable(text: string): string {
  return text.split(/( +)/).map((word) => (word.includes('/') ? pathHtml(word) : html(word))).join('');
}

/** The class of a cell: its alignment, and how it wraps. */
function cellClass(column: Column, isRight: boolean): string {
  if (isRight) return 'num';
  if (isCodeColumn(column.key)) return 'code';
  if (column.kind === 'time') return 'time';
  if (column.kind === 'path' || column.kind === 'paths') return 'path';
  return '';
}

function cellHtml(column: Column, cell: Cell | undefined, isRight: boolean, human: HumanOptions): string {
  const text = humanCell(column, cell ?? null, human);
  const isNumber = typeof cell === 'number' || typeof cell === 'bigint';
  const kind = cellClass(column, isRight);
  const attrs = [
    kind === '' ? '' : ` class="${kind}"`,
    isNumber && (SORT_KINDS.has(column.kind) || isRight) ? ` data-v="${String(cell)}"` : '',
    isNumber && (column.kind === 'bytes' || column.kind === 'bytes-delta') ? ` title="${String(cell)} bytes"` : '',
  ].join('');
  if (column.key === 'severity' && SEVERITIES.has(text)) return `<td${attrs}><span class="sev sev-${text}">${text}</span></td>`;
  return `<td${attrs}>${kind === 'code' || kind === 'num' || kind === 'time' ? html(text) : wrappable(text)}</td>`;
}

/** A table, in a box that scrolls sideways when the table is wider than the page. */
function tableHtml(table: Table, human: HumanOptions): string {
  if (table.rows.length === 0) return '<p class="none">None.</p>';
  const right = table.columns.map((_, i) => isRightAligned(table, i));
  const head = table.columns.map((column, i) =>
    `<th scope="col"${right[i] ? ' class="num"' : ''} title="${html(column.key)}">${html(column.label)}</th>`).join('');
  const body = table.rows.map((row) => `<tr>${table.columns.map((column, i) => cellHtml(column, row[i], right[i]!, human)).join('')}</tr>`)
    .join('\n');
  const label = table.title === '' ? table.name : table.title;
  return `<div class="scroll" tabindex="0" role="region" aria-label="${html(label)} (table)">`
    + `<table class="sortable" id="t-${html(table.name)}"><thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody></table></div>`;
}

/** Renders a document as one HTML page. */
export function renderHtml(doc: Document, options: { isExactBytes: boolean }): string {
  const human: HumanOptions = { isExactBytes: options.isExactBytes, pathBase: doc.pathBase };
  const title = doc.title === '' ? 'imgaudit' : doc.title;
  const meta = doc.meta.map(({ label, value }) => `<dt>${html(label)}</dt><dd>${wrappable(value)}</dd>`).join('');
  const nav = doc.tables.filter((t) => t.title !== '')
    .map((t) => `<a href="#s-${html(t.name)}">${html(t.title)}</a>`).join(' · ');
  const sections = doc.tables.map((table) => [
    `<section id="s-${html(table.name)}">`,
    `<h2>${html(table.title === '' ? table.name : table.title)}</h2>`,
    table.about === undefined ? '' : `<p class="about">${html(table.about)}</p>`,
    barChart(table, human),
    tableHtml(table, human),
    '</section>',
  ].filter(Boolean).join('\n'));
  const base = doc.pathBase === null ? '' : `<p class="note">Paths are relative to ${wrappable(doc.pathBase)}.</p>`;
  const notes = (doc.notes ?? []).map((note) => `<p class="note">${html(note)}</p>`).join('\n');
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${CSP}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${html(title)}</title>`,
    `<style>${PAGE_STYLE}</style>`,
    '</head>',
    '<body>',
    `<header><h1>${html(title)}</h1>${meta === '' ? '' : `<dl>${meta}</dl>`}${base}</header>`,
    nav === '' ? '' : `<nav>${nav}</nav>`,
    '<main>',
    ...sections,
    notes,
    '</main>',
    `<script>${PAGE_SCRIPT}</script>`,
    '</body>',
    '</html>',
    '',
  ].filter((line, i, all) => line !== '' || i === all.length - 1).join('\n');
}
