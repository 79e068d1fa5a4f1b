/**
 * Named statements from the `.sql` files of `sql/` (package root): a file
 * holds statements each headed by a `-- name: NAME` line, so that code asks
 * for statements by name and keeps no SQL of its own.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { StoreError } from './store-error.js';
import path from 'node:path';
import { packageRoot } from '../io/package-root.js';

/** `sql/` at the package root (from both `src/store` and `dist/store`). */
export const SQL_DIR = path.join(packageRoot(), 'sql') + path.sep;

const cache = new Map<string, Map<string, string>>();

/** The statements of `sql/FILE`, by name. */
export function sqlStatements(file: string): ReadonlyMap<string, string> {
  let statements = cache.get(file);
  if (statements !== undefined) return statements;
  statements = new Map();
  let name: string | null = null;
  let lines: string[] = [];
  const flush = () => {
    if (name !== null) statements!.set(name, lines.join('\n').trim().replace(/;$/, ''));
  };
  for (const line of fs.readFileSync(`${SQL_DIR}${file}`, 'utf8').split('\n')) {
    const header = /^-- name: ([a-z0-9_]+)\s*$/.exec(line);
    if (header !== null) {
      flush();
      name = header[1]!;
      lines = [];
    } else if (name !== null) lines.push(line);
  }
  flush();
  cache.set(file, statements);
  return statements;
}

/** The statement `name` of `sql/FILE`; throws StoreError when missing (a packaging fault). */
export function sqlStatement(file: string, name: string): string {
  const sql = sqlStatements(file).get(name);
  if (sql === undefined) throw new StoreError(`statement '${name}' missing from sql/${file}`);
  return sql;
}
