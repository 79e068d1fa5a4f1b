/**
 * A command loads only what it needs (start-up time counts for `map` of one
 * image and for the quick read commands): through the built CLI, the files
 * each command loads are recorded (load-recorder.mjs: the bundle's chunks
 * and the CommonJS packages it requires) and compared with what it must not need: `map`
 * loads neither yargs nor better-sqlite3 nor pg, a read of an SQLite file
 * and a scan load no pg, and no command loads string-width's emoji tables.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireBuild, runCli } from './scan-support.js';

const RECORDER = path.join(path.dirname(new URL(import.meta.url).pathname), 'load-recorder.mjs');

let dir: string;
let image: string;
let db: string;

function loaded(args: string[]): string[] {
  const out = path.join(dir, `loaded-${Math.random().toString(36).slice(2)}.txt`);
  const r = runCli(args, dir, { LOADED_OUT: out }, ['--import', RECORDER]);
  expect(r.status, r.stderr).toBe(0);
  return fs.readFileSync(out, 'utf8').split('\n');
}

/** Whether any loaded file lies in node_modules/NAME/. */
function loads(files: readonly string[], name: string): boolean {
  return files.some((file) => file.includes(`/node_modules/${name}/`));
}

/** The text of the bundle's files a command loaded (its entry and chunks). */
function bundleText(files: readonly string[]): string {
  return files.filter((file) => /\/dist\/[^/]+\.js$/.test(file))
    .map((file) => fs.readFileSync(file.startsWith('file:') ? new URL(file) : file, 'utf8')).join('\n');
}

beforeAll(() => {
  requireBuild();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-loads-'));
  image = path.join(dir, 'a.raw');
  fs.writeFileSync(image, Buffer.alloc(65536, 1));
  db = path.join(dir, 'a.db');
  expect(runCli(['scan', '--quiet', '--db', db, dir], dir).status).toBe(0);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('what each command loads', () => {
  it('the hook sees what a command loads (a read command loads better-sqlite3 and yargs)', () => {
    const files = loaded(['runs', '--db', db]);
    expect(loads(files, 'better-sqlite3')).toBe(true);
    expect(bundleText(files)).toContain('yargs');
  });

  it('map: neither yargs, nor better-sqlite3, nor pg', () => {
    const files = loaded(['map', '--output=json', image]);
    expect(loads(files, 'better-sqlite3')).toBe(false);
    expect(loads(files, 'pg')).toBe(false);
    expect(bundleText(files)).not.toMatch(/node_modules\/yargs/);
  });

  it.each([['runs'], ['report'], ['check'], ['scan']])('%s on an SQLite file: no pg, no emoji tables', (command) => {
    const args = command === 'scan' ? ['scan', '--quiet', '--db', db, dir] : [command, '--db', db];
    const files = loaded(args);
    expect(loads(files, 'pg')).toBe(false);
    expect(bundleText(files)).not.toContain('RGI_Emoji');
  });
});
