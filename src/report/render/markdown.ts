/** Markdown output: GitHub tables (numbers right-aligned), one `##` section per table. */
import { markdownCell } from '../escape.js';
import type { Document, Table } from '../table.js';
import { type HumanOptions, humanCell, isRightAligned, visibleColumns } from './cells.js';

function markdownTable(table: Table, human: HumanOptions): string[] {
  if (table.rows.length === 0) return ['_None._'];
  const visible = visibleColumns(table);
  const header = `| ${visible.map(({ column }) => markdownCell(column.label)).join(' | ')} |`;
  const rule = `|${visible.map(({ index }) => (isRightAligned(table, index) ? '---:' : ':---')).join('|')}|`;
  const rows = table.rows.map((row) =>
    `| ${visible.map(({ column, index }) => markdownCell(humanCell(column, row[index]!, human))).join(' | ')} |`);
  return [header, rule, ...rows];
}

/** Renders a document as GitHub-flavoured markdown. */
export function renderMarkdown(doc: Document, options: { isExactBytes: boolean }): string {
  const human: HumanOptions = { isExactBytes: options.isExactBytes, pathBase: doc.pathBase };
  const out: string[] = [];
  if (doc.title !== '') out.push(`# ${markdownCell(doc.title)}`, '');
  if (doc.meta.length > 0) {
    for (const { label, value } of doc.meta) out.push(`- **${markdownCell(label)}**: ${markdownCell(value)}`);
    out.push('');
  }
  for (const table of doc.tables) {
    if (table.title !== '') out.push(`## ${markdownCell(table.title)}`, '');
    if (table.about !== undefined) out.push(markdownCell(table.about), '');
    for (const line of markdownTable(table, human)) out.push(line);
    out.push('');
  }
  for (const note of doc.notes ?? []) out.push(markdownCell(note), '');
  while (out.length > 0 && out[out.length - 1] === '') out.pop();
  return `${out.join('\n')}\n`;
}
