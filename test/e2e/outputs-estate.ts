/**
 * Every document the reading commands print, from one estate: the report
 * tree (two roots, shared bases, a broken chain, a re-base) scanned twice a
 * day and a half apart (so growth, history and file-system figures exist),
 * plus an image under a long, OpenStack-like path that stresses wrapping.
 * The output tests (JSON Schema, CSV, HTML, Prometheus) check these with
 * the tools their consumers use.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { create, op, io, runOk } from '../support/qemu.js';
import { buildReportTree, changeReportTree, scanTree } from './report-tree.js';
import { runCli } from './scan-support.js';

/** One output of a command, as a consumer receives it. */
export interface Output {
  /** Short name, e.g. `report-by-layer.csv`. */
  name: string;
  command: string;
  format: string;
  args: string[];
  text: string;
}

/** The estate: its directory, database and roots. */
export interface OutputsEstate {
  dir: string;
  db: string;
  roots: string[];
}

const MiB = 1 << 20;
/** A long directory an OpenStack-like layout gives (instance UUIDs), to test wrapping. */
export const LONG_DIR = 'tenants/7f3c2a9e-4b1d-4c5e-9a8f-0123456789ab/instances/5d1e0c7a-2f4b-49a1-8e3d-abcdef012345';

/** Builds and scans the estate under a fresh temporary directory. */
export function buildOutputsEstate(): OutputsEstate {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-outputs-'));
  const tree = buildReportTree(dir);
  const root = tree.roots[0];
  fs.mkdirSync(path.join(root, LONG_DIR), { recursive: true });
  runOk(create(`${LONG_DIR}/disk-with-a-rather-long-file-name.qcow2`, 'qcow2', 16 * MiB), root);
  runOk(io(`${LONG_DIR}/disk-with-a-rather-long-file-name.qcow2`, 'qcow2', [op.write(0, MiB, 0x71)]), root);
  const db = path.join(dir, 'audit.db');
  scanTree(tree, db);
  changeReportTree(tree);
  scanTree(tree, db);
  // The first scan ran a day and a half earlier, as nightly scans do (growth needs runs a day apart).
  const old = new Date(Date.now() - 1.5 * 86_400_000).toISOString();
  const handle = new Database(db);
  handle.prepare('UPDATE runs SET started_at = ?, finished_at = ? WHERE id = 1').run(old, old);
  handle.close();
  return { dir, db, roots: tree.roots };
}

/** The report definitions (`--report NAME`), from reports/. */
export function definitionNames(): string[] {
  const dir = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../reports');
  return fs.readdirSync(dir).filter((f) => f.endsWith('.sql')).map((f) => f.slice(0, -4)).sort();
}

/** The query every query output runs: a mix of types (integer, text, real, null, time). */
export const QUERY_SQL = 'SELECT run_id, started_at, status, image_count, disk_usage_bytes, '
  + 'disk_usage_bytes * 1.0 / NULLIF(virtual_size_bytes, 0) AS usage_ratio, NULL AS no_value FROM run_totals ORDER BY run_id';

const printed = new Map<string, Output[]>();

/** Every output of `format` (json, csv, html, prometheus, ...) the reading commands print (run once per estate). */
export function outputsOf(estate: OutputsEstate, format: string): Output[] {
  const key = `${estate.db}\0${format}`;
  if (!printed.has(key)) printed.set(key, printOutputs(estate, format));
  return printed.get(key)!;
}

function printOutputs(estate: OutputsEstate, format: string): Output[] {
  const specs: [string, string, string[]][] = [];
  const add = (name: string, command: string, ...args: string[]): void => { specs.push([name, command, args]); };
  const withFormat = ['json', 'csv', 'html', 'text', 'markdown'].includes(format);
  if (withFormat || format === 'prometheus') add('report', 'report');
  if (withFormat) {
    for (const by of ['image', 'layer', 'depth', 'root', 'format']) add(`report-by-${by}`, 'report', '--by', by);
    // `--by X` is `--report by-X`: the other definitions.
    for (const name of definitionNames().filter((n) => !n.startsWith('by-'))) add(`report-${name}`, 'report', '--report', name);
    add('diff', 'diff');
    add('runs', 'runs');
    add('check', 'check');
  }
  if (format === 'json' || format === 'csv') add('query', 'query', QUERY_SQL);
  if (format === 'json') add('prune', 'prune', '--keep', '1', '--dry-run');
  return specs.map(([name, command, args]) => {
    const all = [command, ...args, '--db', estate.db, '--format', format];
    const result = runCli(all, estate.dir);
    // check exits 1 for the broken chain: a finding, not a failure to run.
    if (result.status !== 0 && !(command === 'check' && result.status === 1)) {
      throw new Error(`imgaudit ${all.join(' ')}: exit ${result.status}: ${result.stderr}`);
    }
    return { name: `${name}.${format === 'prometheus' ? 'prom' : format}`, command, format, args, text: result.stdout };
  });
}
