/** Configuration: defaults, the example file, validation messages, merging and paths. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/config-error.js';
import { DEFAULT_CONFIG, mergeConfig, validateConfig } from '../../../src/config/config.js';
import { MAX_CONFIG_BYTES, loadConfig } from '../../../src/config/load-config.js';
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
      .toThrow(`'retention.olderThan': expected a duration such as "36h", "90d", "12w" or "1y" (at most 1000y), or null, got "3 days"`);
    expect(() => validateConfig({ check: { failOn: 'fatal' } }, named)).toThrow(/'check.failOn': expected one of "error"/);
    expect(() => validateConfig({ check: 3 }, named)).toThrow("'check': expected an object, got 3");
    expect(() => validateConfig({ check: { overcommitRatio: 0 } }, named))
      .toThrow("'check.overcommitRatio': expected a number greater than 0, got 0");
    expect(() => validateConfig({ check: { orphanMinAge: 'week' } }, named)).toThrow(/'check.orphanMinAge': expected a duration/);
    expect(() => validateConfig({ references: { libvirtDomainDirs: 'x' } }, named))
      .toThrow(`'references.libvirtDomainDirs': expected a list of non-empty strings, got "x"`);
    expect(() => validateConfig({ references: { pathlists: [] } }, named))
      .toThrow("'references.pathlists': unknown key (did you mean 'pathLists'?)");
    expect(validateConfig({ check: { overcommitRatio: '1.25' }, references: { pathLists: ['in-use.txt'] } }, named, 'flags', true))
      .toEqual({ check: { overcommitRatio: 1.25 }, references: { pathLists: ['in-use.txt'] } });
    expect(() => validateConfig([], named, 'x.json')).toThrow('x.json: expected a JSON object');
  });

  it('knows only its own keys: Object built-ins are unknown keys, and __proto__ stays data', () => {
    for (const key of ['constructor', 'hasOwnProperty', 'toString', 'valueOf', '__proto__']) {
      const raw = JSON.parse(`{"${key}": {"x": 1}}`) as unknown;
      expect(() => validateConfig(raw, named), key).toThrow(`'${key}': unknown key`);
      expect(() => validateConfig({ check: JSON.parse(`{"${key}": 1}`) as unknown }, named), key).toThrow(`'check.${key}': unknown key`);
    }
  });

  it('wants numbers as numbers in a file (strings only from flags), and says so of 1e400', () => {
    expect(() => validateConfig({ concurrency: '4' }, named)).toThrow(`'concurrency': expected an integer from 1 to 256, got "4"`);
    expect(() => validateConfig({ check: { overcommitRatio: '1.5' } }, named)).toThrow(`got "1.5"`);
    expect(validateConfig({ concurrency: '4' }, named, 'flags', true)).toEqual({ concurrency: 4 });
    expect(() => validateConfig(JSON.parse('{"concurrency": 1e400}'), named))
      .toThrow("'concurrency': expected an integer from 1 to 256, got a number too large to represent");
    expect(() => validateConfig(JSON.parse('{"check": {"overcommitRatio": 1e400}}'), named))
      .toThrow("'check.overcommitRatio': expected a number greater than 0, got a number too large to represent");
  });

  it('bounds durations (any instant that far back is a valid date)', () => {
    expect(durationMs('1000y')).toBe(1000 * 365 * 86_400_000);
    for (const text of ['1001y', '999999y', '999999w', '999999d']) {
      expect(durationMs(text), text).toBeNull();
      expect(() => validateConfig({ retention: { olderThan: text } }, named), text).toThrow('(at most 1000y)');
    }
    expect(durationMs('999999h')).toBe(999_999 * 3_600_000);
    expect(() => new Date(Date.now() - durationMs('1000y')!).toISOString()).not.toThrow();
  });

  it('throws ConfigError and ignores _doc', () => {
    expect(() => validateConfig({ followBackingOutsideRoots: 'yes' }, named)).toThrow(ConfigError);
    expect(validateConfig({ _doc: { anything: 1 }, concurrency: '8' }, named, 'flags', true)).toEqual({ concurrency: 8 });
  });
});

describe('loadConfig reads only a small regular file', () => {
  it('refuses a FIFO without blocking, a device, a directory and an oversized file', () => {
    const fifo = path.join(dir, 'config.fifo');
    execFileSync('mkfifo', [fifo]);
    expect(() => loadConfig({ file: fifo, cwd: '/' })).toThrow(`cannot read config file '${fifo}': it is a FIFO, not a regular file`);
    expect(() => loadConfig({ file: '/dev/zero', cwd: '/' })).toThrow("cannot read config file '/dev/zero': it is a device, not a regular file");
    expect(() => loadConfig({ file: dir, cwd: '/' })).toThrow(`cannot read config file '${dir}': it is a directory, not a regular file`);
    const big = writeConfig('big.json', { _doc: { pad: 'x'.repeat(MAX_CONFIG_BYTES) } });
    expect(() => loadConfig({ file: big, cwd: '/' })).toThrow(`cannot read config file '${big}': it is larger than ${MAX_CONFIG_BYTES} bytes`);
    expect(() => loadConfig({ file: path.join(dir, 'none.json'), cwd: '/' })).toThrow(/cannot read config file .*none.json': ENOENT/);
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
