/**
 * CSV output (RFC 4180): one table, a header row of column names, CRLF line
 * ends, fields quoted when needed. Values are exact: sizes in bytes,
 * percentages as numbers, paths absolute, no value as an empty field.
 */
import { csvField } from '../escape.js';
import type { Cell, Document, Table } from '../table.js';

function csvValue(cell: Cell): string {
  if (cell === null || cell === undefined) return '';
  if (typeof cell === 'boolean') return cell ? 'true' : 'false';
  return csvField(String(cell));
}

/** One table as CSV. */
export function csvTable(table: Table): string {
  const lines = [table.columns.map((column) => csvField(column.key)).join(',')];
  for (const row of table.rows) lines.push(row.map(csvValue).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

/** Renders a document's CSV table. */
export function renderCsv(doc: Document): string {
  return csvTable(doc.csvTable);
}
