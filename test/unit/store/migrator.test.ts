/** Migrations: name order, one transaction each with bookkeeping, refusal of unknown or edited ones. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../../src/store/db.js';
import { type Migration, loadMigrations, migrate } from '../../../src/store/migrator.js';
import { MigrationError } from '../../../src/store/store-error.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-migrate-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
let n = 0;
const freshDb = () => openDatabase(path.join(dir, `m${n++}.db`));
const m = (name: string, sql: string): Migration => ({ name, sql, checksum: `sum-${sql.length}-${name}` });

describe('loadMigrations', () => {
  it('reads the project migrations in name order', () => {
    const names = loadMigrations().map((migration) => migration.name);
    expect(names.length).toBeGreaterThanOrEqual(2);
    expect(names).toEqual([...names].sort());
    for (const name of names) expect(name).toMatch(/^\d{4}_[a-z0-9_]+\.sql$/);
  });

  it('refuses badly named and duplicate-numbered files', () => {
    const bad = fs.mkdtempSync(path.join(dir, 'bad-'));
    fs.writeFileSync(path.join(bad, '0001_Create.sql'), '');
    expect(() => loadMigrations(bad)).toThrow(/'0001_Create.sql' is not named NNNN_verb_object.sql/);
    const twice = fs.mkdtempSync(path.join(dir, 'twice-'));
    fs.writeFileSync(path.join(twice, '0001_create_a.sql'), '');
    fs.writeFileSync(path.join(twice, '0001_create_b.sql'), '');
    expect(() => loadMigrations(twice)).toThrow(/number 0001 is used twice/);
  });
});

describe('migrate', () => {
  it('applies the project schema once, with WAL and foreign keys on', () => {
    const db = freshDb();
    expect(migrate(db).length).toBeGreaterThanOrEqual(2);
    expect(migrate(db)).toEqual([]);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    const tables = db.prepare("SELECT name FROM sqlite_schema WHERE type IN ('table', 'view') ORDER BY name").pluck().all();
    expect(tables).toEqual(expect.arrayContaining(['runs', 'files', 'chains', 'chain_layers', 'maps', 'map_entries',
      'run_images', 'run_findings', 'run_depth_totals', 'run_image_states', 'run_image_depths', 'latest_image_states',
      'image_growth', 'run_base_usage', 'run_findings_all', 'run_root_depth_totals', 'latest_run', '_migrations']));
    db.close();
  });

  it('applies pending migrations in order and only those', () => {
    const db = freshDb();
    const first = [m('0001_create_a.sql', 'CREATE TABLE a (x)')];
    expect(migrate(db, first)).toEqual(['0001_create_a.sql']);
    const both = [...first, m('0002_create_b.sql', 'CREATE TABLE b (y)')];
    expect(migrate(db, both)).toEqual(['0002_create_b.sql']);
    expect(db.prepare('SELECT name FROM _migrations ORDER BY name').pluck().all()).toEqual(['0001_create_a.sql', '0002_create_b.sql']);
    db.close();
  });

  it('rolls a failing migration back together with its bookkeeping row', () => {
    const db = freshDb();
    const broken = [m('0001_create_a.sql', 'CREATE TABLE a (x); CREATE TABLE oops (')];
    expect(() => migrate(db, broken)).toThrow(/migration '0001_create_a.sql' failed/);
    expect(db.prepare("SELECT count(*) FROM sqlite_schema WHERE name = 'a'").pluck().get()).toBe(0);
    expect(db.prepare('SELECT count(*) FROM _migrations').pluck().get()).toBe(0);
    db.close();
  });

  it('refuses a database with a migration it does not know, or an edited one', () => {
    const db = freshDb();
    migrate(db, [m('0001_create_a.sql', 'CREATE TABLE a (x)'), m('0002_create_b.sql', 'CREATE TABLE b (x)')]);
    expect(() => migrate(db, [m('0001_create_a.sql', 'CREATE TABLE a (x)')]))
      .toThrow("the database has migration '0002_create_b.sql', which this imgaudit does not know");
    expect(() => migrate(db, [m('0001_create_a.sql', 'CREATE TABLE a (x, y)'), m('0002_create_b.sql', 'CREATE TABLE b (x)')]))
      .toThrow(MigrationError);
    db.close();
  });
});

describe('0007_split_commit_growth', () => {
  it('drops the data-only commit figures of qcow2 backing files and keeps raw ones as min, max and data', () => {
    const db = freshDb();
    const all = loadMigrations();
    migrate(db, all.filter((migration) => migration.name < '0007'));
    const file = db.prepare(`INSERT INTO files (path, dev, ino, size_bytes, allocated_bytes, mtime_ns, ctime_ns, format)
      VALUES (?, 1, ?, 0, 0, 0, 0, ?)`);
    const chain = db.prepare(`INSERT INTO chains (key, top_file_id, layer_count, commit_growth_bytes, has_layer_figures)
      VALUES (?, ?, 2, ?, 1)`);
    const layer = db.prepare('INSERT INTO chain_layers (chain_id, depth, file_id) VALUES (?, ?, ?)');
    const top = Number(file.run('/top.qcow2', 1, 'qcow2').lastInsertRowid);
    const chainOf = (key: string, backingFormat: string, growth: number | null): number => {
      const backing = Number(file.run(`/${key}.${backingFormat}`, 100 + key.length, backingFormat).lastInsertRowid);
      const id = Number(chain.run(key, top, growth).lastInsertRowid);
      layer.run(id, 0, top);
      layer.run(id, 1, backing);
      return id;
    };
    const overQcow2 = chainOf('q', 'qcow2', 65536);
    const overRaw = chainOf('raw', 'raw', -4096);
    const unknown = chainOf('none', 'raw', null);
    expect(migrate(db, all).filter((name) => name >= '0007')).toContain('0007_split_commit_growth.sql');
    const row = (id: number) => db.prepare(`SELECT commit_growth_bytes, commit_growth_min_bytes, commit_growth_max_bytes,
      commit_data_growth_bytes, commit_end_growth_min_bytes, commit_end_growth_max_bytes FROM chains WHERE id = ?`).raw().get(id);
    expect(row(overQcow2)).toEqual([null, null, null, null, null, null]);
    expect(row(overRaw)).toEqual([-4096, -4096, -4096, -4096, null, null]);
    expect(row(unknown)).toEqual([null, null, null, null, null, null]);
    db.close();
  });
});
