/** The crawler: regular files only, no symlinks, exclusions, hidden entries, root problems, nested roots. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Candidate, type RootProblem, crawl, escapedName, nestedRoots, normaliseRoots } from '../../../src/crawl/crawler.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-crawl-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function touch(file: string): void {
  fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
  fs.writeFileSync(path.join(root, file), 'x');
}

async function collect(roots: string[], include = ['**/*.img'], exclude: string[] = []): Promise<(Candidate | RootProblem)[]> {
  const out: (Candidate | RootProblem)[] = [];
  for await (const item of crawl({ roots, include, exclude })) out.push(item);
  return out;
}

describe('crawl', () => {
  touch('a.img');
  touch('sub/b.img');
  touch('skip/c.img');
  touch('.hidden/d.img');
  touch('sub/.e.img');
  fs.mkdirSync(path.join(root, 'dir.img'));
  fs.symlinkSync(path.join(root, 'a.img'), path.join(root, 'link.img'));
  fs.symlinkSync(root, path.join(root, 'sub/loop'));
  // A FIFO named like an image must never be listed (opening it would block).
  spawnSync('mkfifo', [path.join(root, 'pipe.img')]);

  it('lists regular files matching include, minus exclusions, hidden entries and links', async () => {
    expect(fs.statSync(path.join(root, 'pipe.img')).isFIFO()).toBe(true);
    const items = await collect([root], ['**/*.img'], ['skip/**']);
    const found = items.map((item) => (item.kind === 'candidate' ? item.relativePath : item.code)).sort();
    expect(found).toEqual(['a.img', 'sub/b.img']);
    const first = items.find((item) => item.kind === 'candidate' && item.relativePath === 'sub/b.img') as Candidate;
    expect(first).toEqual({ kind: 'candidate', path: path.join(root, 'sub/b.img'), root, relativePath: 'sub/b.img' });
  });

  it('reports missing roots and takes a root that is a file as the candidate itself', async () => {
    const items = await collect([path.join(root, 'nope'), path.join(root, 'a.img')]);
    expect(items[0]).toMatchObject({ kind: 'root-problem', code: 'E_ROOT_MISSING' });
    expect(items[1]).toEqual({ kind: 'candidate', path: path.join(root, 'a.img'), root: path.join(root, 'a.img'), relativePath: 'a.img' });
  });
});

describe('normaliseRoots', () => {
  it('makes roots absolute, drops duplicates and roots inside other roots', () => {
    expect(normaliseRoots(['/srv/a/b', '/srv/a', '/srv/ab', '/srv/a/', '/srv/c/../a/x'])).toEqual(['/srv/a', '/srv/ab']);
  });
});

describe('nestedRoots', () => {
  it('names each dropped root with the root it lies in', () => {
    expect(nestedRoots(['/srv/a/b', '/srv/a', '/srv/ab', '/srv/a/'])).toEqual([{ root: '/srv/a/b', under: '/srv/a' }]);
  });
});

describe('names that are not UTF-8', () => {
  it('are problems with the name escaped, never silently dropped; the walk goes on', async () => {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-crawl-bytes-'));
    try {
      fs.writeFileSync(Buffer.concat([Buffer.from(`${base}/a-`), Buffer.from([0xff]), Buffer.from('.img')]), 'x');
      fs.mkdirSync(Buffer.concat([Buffer.from(`${base}/d-`), Buffer.from([0xc3, 0x28])]));
      fs.writeFileSync(path.join(base, 'ok-é.img'), 'x');
      fs.writeFileSync(Buffer.concat([Buffer.from(`${base}/notes-`), Buffer.from([0xff]), Buffer.from('.txt')]), 'x'); // no candidate
      const items = await collect([base]);
      expect(items.map((item) => (item.kind === 'candidate' ? item.relativePath : [item.code, item.path])).sort()).toEqual([
        ['E_NAME_NOT_UTF8', `${base}/a-\\xff.img`],
        ['E_NAME_NOT_UTF8', `${base}/d-\\xc3(`],
        'ok-é.img',
      ]);
    } finally {
      fs.rmSync(base, { recursive: true, force: true });
    }
  });

  it('escapedName keeps valid UTF-8 and escapes every other byte', () => {
    expect(escapedName(Buffer.from([0x61, 0xff, 0xc3, 0xa9, 0xe2, 0x82, 0x62]))).toBe('a\\xffé\\xe2\\x82b');
  });
});
