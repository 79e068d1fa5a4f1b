/** The crawler: regular files only, no symlinks, exclusions, hidden entries, root problems, nested roots. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Candidate, type RootProblem, crawl, normaliseRoots } from '../../../src/crawl/crawler.js';

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
