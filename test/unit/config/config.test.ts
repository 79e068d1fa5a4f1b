/** Configuration: defaults, the example file, validation messages, merging and paths. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/config-error.js';
import { DEFAULT_CONFIG, mergeConfig, validateConfig } from '../../../src/config/config.js';
import { loadConfig } from '../../../src/config/load-config.js';
import { durationMs } from '../../../src/config/parsers.js';

const REPO = path.resolve(import.meta.dirname, '../../..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-config-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function writeConfig(name: string, content: unknown): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

const named = (key: string): string => `'${key}'`;

describe('config.example.json', () => {
  it('holds the defaults (roots excepted) and documents every key', () => {
    const file = path.join(REPO, 'config.example.json');
    const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown> & { _doc: Record<string, string> };
    const config = loadConfig({ file, cwd: '/' });
    expect({ ...config, roots: [], database: 'imgaudit.db' }).toEqual({ ...DEFAULT_CONFIG });
    expect(config.database).toBe(path.join(REPO, 'imgaudit.db'));
    expect(Object.keys(raw._doc).filter((k) => k !== 'about').sort()).toEqual(Object.keys(DEFAULT_CONFIG).sort());
  });
});

describe('validateConfig', () => {
  it('names an unknown key and suggests the close one', () => {
    expect(() => validateConfig({ rots: [] }, named)).toThrow("'rots': unknown key (did you mean 'roots'?)");
    expect(() => validateConfig({ retention: { keepruns: 3 } }, named))
      .toThrow("'retention.keepruns': unknown key (did you mean 'keepRuns'?)");
  });

  it('names the key of a bad value and says what was expected', () => {
    expect(() => validateConfig({ concurrency: 0 }, named))
      .toThrow("'concurrency': expected an integer from 1 to 256, got 0");
    expect(() => validateConfig({ include: [] }, named))
      .toThrow("'include': expected a list of non-empty strings (at least 1), got []");
    expect(() => validateConfig({ retention: { olderThan: '3 days' } }, named))
      .toThrow(`'retention.olderThan': expected a duration such as "36h", "90d", "12w" or "1y", or null, got "3 days"`);
    expect(() => validateConfig({ check: { failOn: 'fatal' } }, named)).toThrow(/'check.failOn': expected one of "error"/);
    expect(() => validateConfig({ check: 3 }, named)).toThrow("'check': expected an object, got 3");
    expect(() => validateConfig({ check: { overcommitRatio: 0 } }, named))
      .toThrow("'check.overcommitRatio': expected a number greater than 0, got 0");
    expect(() => validateConfig({ check: { orphanMinAge: 'week' } }, named)).toThrow(/'check.orphanMinAge': expected a duration/);
    expect(() => validateConfig({ references: { libvirtDomainDirs: 'x' } }, named))
      .toThrow(`'references.libvirtDomainDirs': expected a list of non-empty strings, got "x"`);
    expect(() => validateConfig({ references: { pathlists: [] } }, named))
      .toThrow("'references.pathlists': unknown key (did you mean 'pathLists'?)");
    expect(validateConfig({ check: { overcommitRatio: '1.25' }, references: { pathLists: ['in-use.txt'] } }, named))
      .toEqual({ check: { overcommitRatio: 1.25 }, references: { pathLists: ['in-use.txt'] } });
    expect(() => validateConfig([], named, 'x.json')).toThrow('x.json: expected a JSON object');
  });

  it('throws ConfigError and ignores _doc', () => {
    expect(() => validateConfig({ followBackingOutsideRoots: 'yes' }, named)).toThrow(ConfigError);
    expect(validateConfig({ _doc: { anything: 1 }, concurrency: '8' }, named)).toEqual({ concurrency: 8 });
  });
});

describe('mergeConfig and loadConfig', () => {
  it('lets later layers win key by key, nested keys too', () => {
    const merged = mergeConfig(DEFAULT_CONFIG, { concurrency: 2, retention: { olderThan: '30d' } }, { concurrency: 9 });
    expect(merged.concurrency).toBe(9);
    expect(merged.retention).toEqual({ keepRuns: 400, olderThan: '30d' });
    expect(merged.check).toEqual(DEFAULT_CONFIG.check);
  });

  it('resolves config paths against the file and flag paths against cwd; flags win', () => {
    const file = writeConfig('paths.json', { roots: ['images'], database: 'db/audit.db', concurrency: 3 });
    const config = loadConfig({ file, cwd: '/somewhere', flags: { concurrency: '5' } });
    expect(config.roots).toEqual([path.join(dir, 'images')]);
    expect(config.database).toBe(path.join(dir, 'db/audit.db'));
    expect(config.concurrency).toBe(5);
    const flagged = loadConfig({ file, cwd: '/somewhere', flags: { roots: ['x'], database: 'y.db' } });
    expect(flagged.roots).toEqual(['/somewhere/x']);
    expect(flagged.database).toBe('/somewhere/y.db');
    expect(loadConfig({ cwd: '/here' }).database).toBe('/here/imgaudit.db');
  });

  it('names flags in messages', () => {
    expect(() => loadConfig({ cwd: '/', flags: { concurrency: 'many' }, flagNames: { concurrency: '--concurrency' } }))
      .toThrow("--concurrency: expected an integer from 1 to 256, got \"many\"");
  });

  it('reports unreadable and malformed files', () => {
    expect(() => loadConfig({ file: path.join(dir, 'missing.json'), cwd: '/' })).toThrow(/cannot read config file .*missing.json': ENOENT/);
    const bad = writeConfig('bad.json', '{ "roots": [ }');
    expect(() => loadConfig({ file: bad, cwd: '/' })).toThrow(/bad.json' is not valid JSON/);
    const typo = writeConfig('typo.json', { database: 'a.db', concurency: 2 });
    expect(() => loadConfig({ file: typo, cwd: '/' })).toThrow(`${typo}: 'concurency': unknown key (did you mean 'concurrency'?)`);
  });
});

describe('durationMs', () => {
  it('parses hours, days, weeks and years', () => {
    expect(durationMs('36h')).toBe(36 * 3_600_000);
    expect(durationMs('90d')).toBe(90 * 86_400_000);
    expect(durationMs('2w')).toBe(14 * 86_400_000);
    expect(durationMs('1y')).toBe(365 * 86_400_000);
    expect(durationMs('5m')).toBeNull();
    expect(durationMs('d')).toBeNull();
  });
});
