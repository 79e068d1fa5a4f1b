/** Opening for reading, read-only SQL, report definitions and pruning. */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { DefinitionError, REPORTS_DIR, loadDefinitions, parseDefinition } from '../../../src/report/definitions.js';
import { UsageError } from '../../../src/errors.js';
import { loadMigrations, migrate } from '../../../src/store/migrator.js';
import { pruneDatabase } from '../../../src/store/prune-runs.js';
import { makeQueryOnly, runSelect } from '../../../src/store/query-sql.js';
import { openForReading } from '../../../src/store/report-db.js';
import { LockError, MigrationError, StoreError } from '../../../src/store/store-error.js';
import { ScanStore } from '../../../src/store/scan-store.js';
import { MiB, baseEstate, writeRun } from './estate.js';

/** Holds a database's scan lock in another process (POSIX locks never conflict within one); needs dist/. */
const HOLDER = path.resolve(import.meta.dirname, '../store/lock-holder.mjs');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-report-store-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
let n = 0;

function estate(runs = 1): string {
  const file = path.join(dir, `db-${n++}.db`);
  const store = ScanStore.open(file);
  for (let i = 0; i < runs; i++) writeRun(store, baseEstate({ vm1DataBytes: (i + 1) * MiB }));
  store.close();
  return file;
}

const count = (file: string, sql: string): unknown => {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare(sql).pluck().get();
  } finally {
    db.close();
  }
};

describe('openForReading', () => {
  it('refuses a missing file and a database imgaudit did not write', () => {
    expect(() => openForReading(path.join(dir, 'none.db'))).toThrow(StoreError);
    expect(fs.existsSync(path.join(dir, 'none.db'))).toBe(false);
    const other = path.join(dir, 'other.db');
    new Database(other).exec('CREATE TABLE t (x)').close();
    expect(() => openForReading(other)).toThrow(/is not an imgaudit database/);
  });

  it('never migrates: a database that lacks migrations is refused, naming them, and left as it is', () => {
    const file = path.join(dir, `db-${n++}.db`);
    const raw = new Database(file);
    const all = loadMigrations();
    migrate(raw, all.slice(0, 2)); // as an imgaudit that knew only the first two
    raw.close();
    const pending = all.slice(2).map((migration) => migration.name).join(', ');
    expect(() => openForReading(file)).toThrow(MigrationError);
    expect(() => openForReading(file)).toThrow(`lacks migrations ${pending}, which readers never apply`);
    expect(count(file, 'SELECT count(*) FROM _migrations')).toBe(2);
    const db = openForReading(file, { mayBeBehind: true }); // query reads it as it is
    expect(db.readonly).toBe(true);
    db.close();
  });

  it('refuses a database a newer imgaudit wrote, or whose migrations were edited', () => {
    const file = estate();
    const raw = new Database(file);
    raw.prepare("INSERT INTO _migrations VALUES ('9999_from_the_future.sql', 'x', 'now')").run();
    raw.close();
    expect(() => openForReading(file)).toThrow(MigrationError);
    const edited = estate();
    const db = new Database(edited);
    db.prepare("UPDATE _migrations SET checksum = 'edited' WHERE name LIKE '0002%'").run();
    db.close();
    expect(() => openForReading(edited)).toThrow(/was edited after it was applied/);
  });
});

describe('read-only SQL', () => {
  const file = estate();

  it('returns columns and rows; exact integers beyond 2^53; parameters', () => {
    const db = openForReading(file, { mayMigrate: false });
    makeQueryOnly(db);
    expect(runSelect(db, 'SELECT 9007199254740993 AS big, 2 AS small, $x AS x, NULL AS none', { x: 'y' })).toEqual({
      columns: ['big', 'small', 'x', 'none'], rows: [[9007199254740993n, 2, 'y', null]],
    });
    expect(runSelect(db, "SELECT x'00ff' AS blob").rows).toEqual([['00ff']]);
    db.close();
  });

  it('refuses every write, even one that returns rows, and more than one statement', () => {
    const db = openForReading(file, { mayMigrate: false });
    makeQueryOnly(db);
    expect(() => runSelect(db, 'DELETE FROM runs')).toThrow(/only queries are allowed/);
    expect(() => runSelect(db, 'DELETE FROM runs RETURNING id')).toThrow(UsageError);
    expect(() => runSelect(db, 'SELECT 1; DELETE FROM runs')).toThrow(/more than one statement/);
    expect(() => runSelect(db, 'SELECT * FROM nowhere')).toThrow('SQL error: no such table: nowhere');
    db.close();
    expect(count(file, 'SELECT count(*) FROM runs')).toBe(1);
  });
});

describe('report definitions', () => {
  it('parses the header and the SQL', () => {
    const definition = parseDefinition('x', 'x.sql', [
      '-- title: A title', '-- about: first line', '--   continued', '-- overview: 5', '-- chart: a_bytes, b_bytes',
      '-- label: name', '-- text: name a_bytes', '-- detail: note', '-- a plain comment', '', 'SELECT 1 AS a_bytes;', '',
    ].join('\n'));
    expect(definition).toEqual({
      name: 'x', file: 'x.sql', title: 'A title', about: 'first line continued', overviewOrder: 5,
      chartSeries: ['a_bytes', 'b_bytes'], chartLabel: 'name', chartPlot: 'bars', textColumns: ['name', 'a_bytes'], detailColumns: ['note'],
      sql: 'SELECT 1 AS a_bytes',
    });
    expect(parseDefinition('x', 'x.sql', '-- title: T\n-- plot: line\nSELECT 1').chartPlot).toBe('line');
    expect(() => parseDefinition('x', 'x.sql', '-- title: T\n-- plot: pie\nSELECT 1')).toThrow("x.sql: 'plot' must be bars or line, got 'pie'");
  });

  it.each([
    ['-- title: t\n-- colour: red\nSELECT 1', "unknown header key 'colour'"],
    ['-- about: no title\nSELECT 1', "no '-- title:' line"],
    ['-- title: t\n', 'no SQL after the header'],
    ['-- title: t\n-- overview: soon\nSELECT 1', "'overview' must be a number"],
  ])('refuses %j', (text, message) => {
    expect(() => parseDefinition('x', 'x.sql', text)).toThrow(DefinitionError);
    expect(() => parseDefinition('x', 'x.sql', text)).toThrow(message);
  });

  it('loads extra folders over the built-in one; names must be kebab-case', () => {
    const extra = path.join(dir, 'defs');
    fs.mkdirSync(extra);
    fs.writeFileSync(path.join(extra, 'top-images.sql'), '-- title: Mine\nSELECT 1 AS n');
    const definitions = loadDefinitions([REPORTS_DIR, extra]);
    expect(definitions.get('top-images')!.title).toBe('Mine');
    expect(definitions.get('by-depth')!.title).toBe('Bytes per chain depth');
    fs.writeFileSync(path.join(extra, 'Bad_Name.sql'), '-- title: t\nSELECT 1');
    expect(() => loadDefinitions([extra])).toThrow(/name it in kebab-case/);
  });
});

describe('pruneDatabase', () => {
  it('a dry run changes nothing', () => {
    const file = estate(4);
    const before = fs.readFileSync(file);
    const result = pruneDatabase(file, { policy: { keepRuns: 1, olderThanMs: null, now: new Date() }, isDryRun: true, isVacuum: false });
    expect(result).toMatchObject({ removedRunIds: [1, 2, 3], keptRunIds: [4], isDryRun: true, counts: { runs: 3, chains: 3, maps: 3 } });
    expect(count(file, 'SELECT count(*) FROM runs')).toBe(4);
    expect(fs.readFileSync(file).equals(before)).toBe(true);
  });

  it('removes old runs and what only they used; keeps what the kept runs reference', () => {
    const file = estate(4);
    const result = pruneDatabase(file, { policy: { keepRuns: 2, olderThanMs: null, now: new Date() }, isDryRun: false, isVacuum: true });
    expect(result).toMatchObject({ removedRunIds: [1, 2], keptRunIds: [3, 4], counts: { runs: 2, chains: 2, maps: 2, files: 0 } });
    expect(count(file, 'SELECT count(*) FROM chains')).toBe(6); // vm1 in runs 3 and 4, four unchanged images
    expect(count(file, `SELECT count(*) FROM chains WHERE id NOT IN (SELECT chain_id FROM run_images)`)).toBe(0);
    expect(count(file, `SELECT count(*) FROM run_images ri LEFT JOIN chains c ON c.id = ri.chain_id WHERE c.id IS NULL`)).toBe(0);
    expect(count(file, 'SELECT count(*) FROM maps WHERE id NOT IN (SELECT map_id FROM chains WHERE map_id IS NOT NULL)')).toBe(0);
  });

  it('waits for no scan: a lock another process holds is an error', async () => {
    const file = estate();
    const holder = spawn(process.execPath, [HOLDER, 'hold', file], { stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve) => holder.stdout!.once('data', () => resolve()));
      expect(() => pruneDatabase(file, { policy: { keepRuns: 1, olderThanMs: null, now: new Date() }, isDryRun: false, isVacuum: false }))
        .toThrow(LockError);
    } finally {
      holder.kill('SIGKILL');
    }
  });
});
