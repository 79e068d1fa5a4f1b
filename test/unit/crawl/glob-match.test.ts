/** The raw-pattern matcher agrees with fast-glob, which the crawler uses for include/exclude. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fg from 'fast-glob';
import { afterAll, describe, expect, it } from 'vitest';
import { globMatcher } from '../../../src/crawl/glob-match.js';

const FILES = [
  'a.img', 'b.raw', 'c.qcow2', 'x.img.bak', 'disk', 'sub/d.img', 'sub/e.RAW', 'sub/deep/f.img', 'sub/deep/g.raw',
  'vm1/disk.img', 'vm2/disk.raw', 'vm2/disk0', 'vm2/disk1', 'base/[x].img', 'ab/c/ab.img', 'qq/a.b.c',
];
const PATTERNS = [
  '**/*.img', '*.img', '**/*.{img,raw}', 'sub/**', 'sub/**/*.raw', '**/disk[01]', '**/disk[!0]', 'vm[0-9]/*', '**/disk?',
  '**/deep/*', '**/*.{im{g,x},raw}', 'qq/*.b.*', '**', 'ab/**/ab.img', '**/disk*',
];

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-glob-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
for (const file of FILES) {
  fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
  fs.writeFileSync(path.join(root, file), '');
}

describe('globMatcher', () => {
  for (const pattern of PATTERNS) {
    it(`matches like fast-glob: ${pattern}`, () => {
      const expected = fg.sync(pattern, { cwd: root, onlyFiles: true }).sort();
      const matches = globMatcher([pattern]);
      expect(FILES.filter((file) => matches(file)).sort()).toEqual(expected);
    });
  }

  it('matches any of several patterns, none for an empty list', () => {
    const matches = globMatcher(['**/*.img', '**/*.raw']);
    expect(matches('a/b.raw')).toBe(true);
    expect(matches('a/b.qcow2')).toBe(false);
    expect(globMatcher([])('a.img')).toBe(false);
  });
});
