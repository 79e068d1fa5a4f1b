/**
 * Every machine output, read by the tools its consumers use: each JSON
 * document validated against its published schema (ajv, draft 2020-12),
 * each CSV loaded by Python's csv module in strict mode and compared with
 * the header and types docs/reports.md documents, the Prometheus text
 * checked by `promtool check metrics`. Outside CI a missing tool skips its
 * test with a message; in CI it fails.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireTool } from '../support/external-tools.js';
import { REPO_ROOT } from '../support/imgaudit.js';
import { schemaErrors, schemaNames } from '../support/json-schema.js';
import { hasQemu } from '../support/qemu.js';
import { type Output, type OutputsEstate, buildOutputsEstate, outputsOf } from './outputs-estate.js';
import { requireBuild } from './scan-support.js';

/** The schema of each JSON output, by command and arguments. */
function schemaOf(output: Output): string {
  if (output.command === 'report') return output.args.length === 0 ? 'report' : 'report-table';
  return output.command;
}

/** The documented CSV headers: docs/reports.md's table rows `| \`imgaudit ... --format csv\` | \`header\` |`. */
function documentedHeaders(): Map<string, string> {
  const text = fs.readFileSync(path.join(REPO_ROOT, 'docs/reports.md'), 'utf8');
  return new Map([...text.matchAll(/^\| `imgaudit ([^`]*?) --format csv` \| `([^`]+)` \|$/gm)].map((m) => [m[1]!, m[2]!]));
}

/** What a CSV value of a column must look like, by the documented naming rule ('' is no value). */
function csvTypeOf(column: string): RegExp {
  if (column.endsWith('_bytes')) return /(^|_)(delta|growth)(_|$)/.test(column) ? /^-?\d+$/ : /^\d+$/;
  if (/_(count|id)$/.test(column) || ['id', 'depth', 'layers', 'chain_length'].includes(column)) return /^\d+$/;
  if (column.endsWith('_pct') || column.endsWith('_ratio')) return /^-?\d+(\.\d+)?(e[-+]?\d+)?$/;
  if (column.endsWith('_at')) return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
  if (column.startsWith('is_')) return /^(true|false)$/;
  return /^[^]*$/;
}

describe.skipIf(!hasQemu)('outputs, checked by their consumers\' tools', () => {
  let estate: OutputsEstate;
  beforeAll(() => {
    requireBuild();
    estate = buildOutputsEstate();
  }, 300_000);
  afterAll(() => fs.rmSync(estate.dir, { recursive: true, force: true }));

  it('every published schema compiles in ajv\'s strict mode and is used by an output', () => {
    const used = new Set(outputsOf(estate, 'json').map(schemaOf));
    expect(schemaNames()).toEqual([...used].sort());
    for (const name of schemaNames()) expect(schemaErrors(name, null).length).toBeGreaterThan(0);
  });

  it('the schemas ship in the package (npm pack), beside the docs that link them', () => {
    const pack = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: REPO_ROOT, encoding: 'utf8' });
    expect(pack.status, pack.stderr).toBe(0);
    const files = (JSON.parse(pack.stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
    const docs = fs.readFileSync(path.join(REPO_ROOT, 'docs/reports.md'), 'utf8');
    for (const name of schemaNames()) {
      expect(files).toContain(`docs/schemas/v1/${name}.schema.json`);
      expect(docs).toContain(`(schemas/v1/${name}.schema.json)`);
    }
  });

  it('JSON: every document validates against its schema; table rows hold exactly their columns', () => {
    const outputs = outputsOf(estate, 'json');
    expect(outputs.length).toBeGreaterThanOrEqual(15);
    for (const output of outputs) {
      const document = JSON.parse(output.text) as unknown;
      expect(schemaErrors(schemaOf(output), document), output.name).toEqual([]);
      if (schemaOf(output) === 'report-table') {
        const table = document as { columns: { name: string }[]; rows: Record<string, unknown>[] };
        for (const row of table.rows) expect(Object.keys(row), output.name).toEqual(table.columns.map((c) => c.name));
      }
    }
  });

  it('JSON: a key renamed, dropped or retyped fails its schema', () => {
    const report = JSON.parse(outputsOf(estate, 'json').find((o) => o.name === 'report.json')!.text) as {
      run: Record<string, unknown>; images: Record<string, unknown>[];
    };
    const renamed = structuredClone(report);
    renamed.run.imagesCount = renamed.run.imageCount;
    delete renamed.run.imageCount;
    expect(schemaErrors('report', renamed).join('\n')).toMatch(/\/run must have required property 'imageCount'[^]*\/run must NOT have additional properties/);
    const dropped = structuredClone(report);
    delete dropped.images[0]!.diskUsage;
    expect(schemaErrors('report', dropped).join('\n')).toContain("/images/0 must have required property 'diskUsage'");
    const retyped = structuredClone(report);
    retyped.images[0]!.virtualSize = '64 MiB';
    expect(schemaErrors('report', retyped).join('\n')).toContain('/images/0/virtualSize must be integer,null');
  });

  it('CSV: every output loads with Python\'s strict csv reader, with the documented header and types', (context) => {
    requireTool(context, 'python3');
    const documented = documentedHeaders();
    expect(documented.size).toBeGreaterThanOrEqual(9);
    const outputs = outputsOf(estate, 'csv');
    const seen = new Set<string>();
    for (const output of outputs) {
      const file = path.join(estate.dir, output.name);
      fs.writeFileSync(file, output.text);
      const read = spawnSync('python3', [path.join(REPO_ROOT, 'test/support/csv_strict.py'), file], { encoding: 'utf8' });
      expect(read.status, `${output.name}: ${read.stderr}`).toBe(0);
      const [header, ...records] = JSON.parse(read.stdout) as string[][];
      expect(records.length, output.name).toBeGreaterThan(0);
      const invocation = [output.command, ...output.args].join(' ');
      if (documented.has(invocation)) {
        expect(header!.join(','), output.name).toBe(documented.get(invocation));
        seen.add(invocation);
      }
      header!.forEach((column, i) => {
        const type = csvTypeOf(column);
        for (const record of records) {
          if (record[i] !== '') expect(record[i], `${output.name}: ${column}`).toMatch(type);
        }
      });
    }
    // Every documented header was checked against a real output.
    expect([...documented.keys()].filter((key) => !seen.has(key))).toEqual([]);
  });

  it('CSV: a strict reader keeps a path holding a comma, a quote and a newline in one field', (context) => {
    requireTool(context, 'python3');
    const file = path.join(estate.dir, 'odd.csv');
    const odd = '/srv/a,b "c"\nd.qcow2';
    const query = spawnSync(process.execPath, [path.join(REPO_ROOT, 'dist/cli.js'), 'query', '--db', estate.db, '--format', 'csv',
      'SELECT $p AS path, 1 AS image_count', '-p', `p=${odd}`], { encoding: 'utf8' });
    expect(query.status, query.stderr).toBe(0);
    fs.writeFileSync(file, query.stdout);
    const read = spawnSync('python3', [path.join(REPO_ROOT, 'test/support/csv_strict.py'), file], { encoding: 'utf8' });
    expect(read.status, read.stderr).toBe(0);
    expect(JSON.parse(read.stdout)).toEqual([['path', 'image_count'], [odd, '1']]);
  });

  it('Prometheus: promtool check metrics passes; every metric is a gauge with HELP and TYPE lines', (context) => {
    requireTool(context, 'promtool');
    const [output] = outputsOf(estate, 'prometheus');
    const check = spawnSync('promtool', ['check', 'metrics'], { input: output!.text, encoding: 'utf8' });
    expect(`${check.stdout}${check.stderr}`).toBe('');
    expect(check.status).toBe(0);
    const names = new Set(output!.text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).map((l) => /^[a-z_]+/.exec(l)![0]));
    for (const name of names) {
      expect(output!.text).toContain(`# HELP ${name} `);
      expect(output!.text).toContain(`# TYPE ${name} gauge\n`);
    }
    expect(names).toContain('imgaudit_filesystem_time_to_full_seconds');
    expect(names).not.toContain('imgaudit_filesystem_days_to_full');
  });

  it('Prometheus: --deprecated-metrics adds the 0.2 name with the same figure in days (promtool names it)', (context) => {
    requireTool(context, 'promtool');
    const run = spawnSync(process.execPath, [path.join(REPO_ROOT, 'dist/cli.js'), 'report', '--db', estate.db, '--format', 'prometheus',
      '--deprecated-metrics'], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const value = (name: string): number => Number(new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, 'm').exec(run.stdout)![1]);
    expect(value('imgaudit_filesystem_days_to_full') * 86_400).toBeCloseTo(value('imgaudit_filesystem_time_to_full_seconds'), 3);
    const check = spawnSync('promtool', ['check', 'metrics'], { input: run.stdout, encoding: 'utf8' });
    expect(`${check.stdout}${check.stderr}`.trim()).toBe('imgaudit_filesystem_days_to_full use base unit "seconds" instead of "days"');
  });
});
