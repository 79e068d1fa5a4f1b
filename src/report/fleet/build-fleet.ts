/**
 * The fleet view (`imgaudit report --fleet`) over a central store: the
 * definitions of `reports/fleet/` (PostgreSQL's dialect: they read every
 * host's runs at once) run read-only, each into a typed Table, and the
 * findings they imply: hosts whose last complete run is too old (or that
 * never completed one) and file systems projected to fill soon.
 */
import { fileURLToPath } from 'node:url';
import type { ReadStore } from '../../store/read-store.js';
import { DefinitionError, type ReportDefinition, loadDefinitions, overviewDefinitions } from '../definitions.js';
import { type Cell, type Table, columnOf } from '../table.js';
import path from 'node:path';
import { packageRoot } from '../../io/package-root.js';

/** `reports/fleet/` at the package root. */
export const FLEET_REPORTS_DIR = path.join(packageRoot(), 'reports', 'fleet') + path.sep;

/** What the fleet view is computed for. */
export interface FleetRequest {
  now: Date;
  /** A host whose last complete run finished longer ago than this is stale. */
  staleAfterMs: number;
  /** Growth is measured from the oldest complete run of this many days before each host's newest. */
  windowDays: number;
  orphanMinAgeMs: number;
  fillWarningDays: number;
  /** `--top N`. */
  limit: number;
}

/** A finding of the fleet view. */
export interface FleetFinding {
  code: 'E_HOST_STALE' | 'E_HOST_NEVER_COMPLETE' | 'E_FS_FILLING';
  severity: 'warning';
  host: string;
  message: string;
}

/** The fleet view. */
export interface FleetModel {
  generatedAt: string;
  request: FleetRequest;
  /** Sections in overview order; `hosts` and `host-totals` always among them. */
  tables: Table[];
  findings: FleetFinding[];
}

function tableOf(definition: ReportDefinition, columns: string[], rows: Cell[][]): Table {
  const table: Table = {
    name: definition.name, title: definition.title,
    columns: columns.map((key) => columnOf(key, { isDetail: definition.detailColumns.includes(key) })), rows,
  };
  if (definition.about !== null) table.about = definition.about;
  if (definition.textColumns !== null) table.textColumnKeys = definition.textColumns;
  if (definition.chartSeries.length > 0) table.chart = { seriesKeys: definition.chartSeries, labelKey: definition.chartLabel ?? columns[0]! };
  return table;
}

/** The rows of `table` as objects keyed by column. */
export function rowObjects(table: Table): Record<string, Cell>[] {
  return table.rows.map((row) => Object.fromEntries(row.map((cell, i) => [table.columns[i]!.key, cell])));
}

function findingsOf(tables: readonly Table[], request: FleetRequest): FleetFinding[] {
  const findings: FleetFinding[] = [];
  const hosts = tables.find((t) => t.name === 'hosts');
  for (const row of hosts === undefined ? [] : rowObjects(hosts)) {
    if (!(row.is_stale === true || row.is_stale === 1)) continue;
    const host = String(row.host);
    if (row.last_success_at === null) {
      findings.push({ code: 'E_HOST_NEVER_COMPLETE', severity: 'warning', host,
        message: `host ${host} has no complete run in the central store (newest run #${String(row.newest_run_id)}: ${String(row.newest_status)})` });
    } else {
      findings.push({ code: 'E_HOST_STALE', severity: 'warning', host,
        message: `host ${host}: last complete run #${String(row.run_id)} finished ${String(row.age_hours)} h ago, `
          + `longer than ${Math.round(request.staleAfterMs / 3_600_000)} h` });
    }
  }
  const filesystems = tables.find((t) => t.name === 'filesystems');
  for (const row of filesystems === undefined ? [] : rowObjects(filesystems)) {
    if (row.days_to_full === null || Number(row.days_to_full) > request.fillWarningDays) continue;
    findings.push({ code: 'E_FS_FILLING', severity: 'warning', host: String(row.host),
      message: `host ${String(row.host)}: the file system of ${String(row.root)} fills in ${String(row.days_to_full)} days at its growth rate` });
  }
  return findings;
}

/** Runs the fleet definitions over the central store. Throws UsageError / DefinitionError / StoreError. */
export async function buildFleet(store: ReadStore, request: FleetRequest): Promise<FleetModel> {
  store.central();
  const definitions = overviewDefinitions(loadDefinitions([FLEET_REPORTS_DIR]));
  const params = {
    now: request.now.toISOString(), stale_after_s: Math.round(request.staleAfterMs / 1000), window_days: request.windowDays,
    orphan_min_age_s: Math.round(request.orphanMinAgeMs / 1000), limit: request.limit,
  };
  const tables: Table[] = [];
  for (const definition of definitions) {
    const used = Object.fromEntries(Object.entries(params).filter(([name]) => definition.sql.includes(`$${name}`)));
    let result;
    try {
      result = await store.select(definition.sql, used);
    } catch (error) {
      throw new DefinitionError(`report definition ${definition.file}: ${(error as Error).message}`, { cause: error });
    }
    tables.push(tableOf(definition, result.columns, result.rows as Cell[][]));
  }
  return { generatedAt: request.now.toISOString(), request, tables, findings: findingsOf(tables, request) };
}
