/** `imgaudit check` as a Document: one row per finding, most severe first, messages below their row. */
import type { CheckModel } from '../model.js';
import { commonDirectory } from '../render/cells.js';
import { type Document, type Table, columnOf } from '../table.js';
import { runMeta } from './report-document.js';

const KEYS = ['severity', 'code', 'path', 'depth', 'message'];

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

/** The check document. */
export function checkDocument(model: CheckModel): Document {
  const table: Table = {
    name: 'findings',
    title: `Findings (${model.findings.length})`,
    columns: KEYS.map((key) => columnOf(key, { isDetail: key === 'message' })),
    rows: model.findings.map((f) => [f.severity, f.code, f.path, f.depth, f.message]),
    textColumnKeys: ['severity', 'code', 'path', 'message'],
  };
  const { error, warning, info } = model.counts;
  const verdict = model.failOn === 'never'
    ? 'exit status 0: --fail-on never'
    : model.failingCount === 0
      ? `no finding at or above --fail-on ${model.failOn}`
      : `${plural(model.failingCount, 'finding')} at or above --fail-on ${model.failOn}`;
  return {
    title: `imgaudit check: run #${model.run.id}`,
    meta: [
      ...runMeta(model.run),
      { label: 'findings', value: `${plural(error, 'error')}, ${plural(warning, 'warning')}, ${info} info` },
    ],
    tables: [table],
    csvTable: table,
    pathBase: commonDirectory(model.run.roots),
    notes: [verdict],
  };
}
