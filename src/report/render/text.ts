/**
 * Text output: aligned tables that fit the width (100 columns), sizes in
 * IEC units (`--bytes`: exact integers), numbers right-aligned. A table too
 * wide for its path column shortens paths from the left (`...vm/disk.qcow2`);
 * when even that leaves too little room, each path goes on a line of its own
 * above its row. Detail columns (messages) print below their row, wrapped
 * at spaces (a path longer than the line: after a `/`).
 */
import type { Document, Table } from '../table.js';
import { terminalText } from '../escape.js';
import { type HumanOptions, humanCell, isRightAligned, visibleColumns } from './cells.js';

/** Options of the text renderer. */
export interface TextOptions {
  isExactBytes: boolean;
  /** Maximum line width. */
  widthColumns: number;
}

export const DEFAULT_WIDTH_COLUMNS = 100;
const GAP = '  ';
/** Narrowest path column before paths move to their own lines. */
const MIN_FLEX_COLUMNS = 24;
const ELLIPSIS = '...';

function shortenLeft(text: string, width: number): string {
  return text.length <= width ? text : ELLIPSIS + text.slice(text.length - (width - ELLIPSIS.length));
}

function pad(text: string, width: number, isRight: boolean): string {
  return isRight ? text.padStart(width) : text.padEnd(width);
}

/** A word longer than `width` cut into lines, after a `/` where there is one (paths), else at the width. */
function cutWord(word: string, width: number): string[] {
  const pieces: string[] = [];
  let rest = word;
  while (rest.length > width) {
    const slash = rest.lastIndexOf('/', width - 1);
    const at = slash > 0 ? slash + 1 : width;
    pieces.push(rest.slice(0, at));
    rest = rest.slice(at);
  }
  pieces.push(rest);
  return pieces;
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/ +/)) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = '';
    }
    const pieces = cutWord(line === '' ? word : `${line} ${word}`, width);
    lines.push(...pieces.slice(0, -1));
    line = pieces[pieces.length - 1]!;
  }
  if (line !== '') lines.push(line);
  return lines;
}

/** The lines of one table (without its title). */
export function tableLines(table: Table, human: HumanOptions, widthColumns: number): string[] {
  const visible = visibleColumns(table);
  const inline = visible.filter((entry) => entry.column.isDetail !== true);
  const details = visible.filter((entry) => entry.column.isDetail === true);
  const pathEntry = inline.find(({ column }) => column.kind === 'path');
  if (table.rows.length === 0) return ['(none)'];
  const cells = table.rows.map((row) => inline.map(({ column, index }) => terminalText(humanCell(column, row[index]!, human))));
  const labels = inline.map(({ column }) => column.label.toUpperCase());
  // A loop, not Math.max(...cells): a spread of 100,000s of rows overflows the stack.
  const widths = labels.map((label, i) => cells.reduce((width, row) => Math.max(width, row[i]!.length), label.length));
  const right = inline.map(({ index }) => isRightAligned(table, index));
  const total = widths.reduce((sum, w) => sum + w, 0) + GAP.length * (widths.length - 1);
  let flex = inline.findIndex(({ column }) => column.kind === 'path');
  if (flex < 0) flex = inline.findIndex(({ column }, i) => column.kind === 'text' && !right[i]);
  let isWrapped = false;
  if (total > widthColumns && flex >= 0) {
    const room = widthColumns - (total - widths[flex]!);
    if (room >= MIN_FLEX_COLUMNS) {
      widths[flex] = Math.max(labels[flex]!.length, room);
      for (const row of cells) row[flex] = shortenLeft(row[flex]!, room);
    } else {
      isWrapped = true;
    }
  }
  const line = (values: string[]): string => {
    const parts = values.map((value, i) => (isWrapped && i === flex ? null : pad(value, widths[i]!, right[i]!)));
    const rest = parts.filter((part): part is string => part !== null).join(GAP).trimEnd();
    return isWrapped ? `${GAP}${rest}` : rest;
  };
  const lines: string[] = [];
  if (isWrapped) lines.push(labels[flex]!);
  lines.push(line(labels));
  table.rows.forEach((row, r) => {
    if (isWrapped) lines.push(shortenLeft(cells[r]![flex]!, widthColumns));
    lines.push(line(cells[r]!));
    for (const { column, index } of details) {
      const value = row[index];
      if (value === null || value === undefined || value === '') continue;
      if (pathEntry !== undefined && row[pathEntry.index] === value) continue; // the row's own path, shown already
      for (const text of wrap(terminalText(humanCell(column, value, human)), widthColumns - 4)) lines.push(`    ${text}`);
    }
  });
  return lines;
}

/** Renders a document as text. */
export function renderText(doc: Document, options: TextOptions): string {
  const human: HumanOptions = { isExactBytes: options.isExactBytes, pathBase: doc.pathBase };
  const out: string[] = [];
  if (doc.title !== '') out.push(doc.title);
  const labelWidth = Math.max(0, ...doc.meta.map((entry) => entry.label.length));
  for (const { label, value } of doc.meta) out.push(`${label.padEnd(labelWidth)}  ${terminalText(value)}`.trimEnd());
  for (const table of doc.tables) {
    if (out.length > 0) out.push('');
    if (table.title !== '') out.push(table.title);
    for (const line of tableLines(table, human, options.widthColumns)) out.push(line);
  }
  if (doc.notes !== undefined && doc.notes.length > 0) {
    out.push('');
    for (const note of doc.notes) out.push(...wrap(note, options.widthColumns));
  }
  return `${out.join('\n')}\n`;
}
