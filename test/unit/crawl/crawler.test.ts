/** The crawler: regular files only, no symlinks, exclusions, hidden entries, root problems, nested roots. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Candidate, type RootProblem, crawl, nestedRoots, normaliseRoots } from '../../../src/crawl/crawler.js';
import { decodePath, escapedName, pathBytes } from '../../../src/io/byte-path.js';

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
  it('are crawled like any other, held escaped; files and directories both, matched by include and exclude', async () => {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-crawl-bytes-'));
    const bytes = (...parts: (string | number[])[]): Buffer =>
      Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part) : Buffer.from(part))));
    try {
      fs.writeFileSync(bytes(`${base}/a-`, [0xff], '.img'), 'x');
      fs.mkdirSync(bytes(`${base}/d-`, [0xc3, 0x28]));
      fs.writeFileSync(bytes(`${base}/d-`, [0xc3, 0x28], '/in-', [0xe2, 0x82], '.img'), 'x');
      fs.mkdirSync(bytes(`${base}/skip-`, [0x80]));
      fs.writeFileSync(bytes(`${base}/skip-`, [0x80], '/x.img'), 'x');
      fs.writeFileSync(path.join(base, 'ok-é.img'), 'x');
      fs.writeFileSync(bytes(`${base}/notes-`, [0xff], '.txt'), 'x'); // no candidate
      const items = await collect([base], ['**/*.img'], ['skip-\udc80/**']);
      expect(items.every((item) => item.kind === 'candidate')).toBe(true);
      const found = items.map((item) => (item as Candidate).relativePath).sort();
      expect(found).toEqual(['a-\udcff.img', 'd-\udcc3(/in-\udce2\udc82.img', 'ok-é.img']);
      // Each candidate's path names the file's exact bytes.
      for (const item of items as Candidate[]) expect(fs.readFileSync(pathBytes(item.path), 'utf8')).toBe('x');
      expect(pathBytes((items as Candidate[]).find((item) => item.relativePath.startsWith('d-'))!.path))
        .toEqual(bytes(`${base}/d-`, [0xc3, 0x28], '/in-', [0xe2, 0x82], '.img'));
    } finally {
      fs.rmSync(base, { recursive: true, force: true });
    }
  });

  it('a root whose own name is not UTF-8 is crawled', async () => {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-crawl-root-'));
    try {
      const rootBytes = Buffer.concat([Buffer.from(`${base}/r-`), Buffer.of(0xfe)]);
      fs.mkdirSync(rootBytes);
      fs.writeFileSync(Buffer.concat([rootBytes, Buffer.from('/v.img')]), 'x');
      const rootPath = decodePath(rootBytes);
      const items = await collect([rootPath]);
      expect(items).toEqual([{ kind: 'candidate', path: `${rootPath}/v.img`, root: rootPath, relativePath: 'v.img' }]);
    } finally {
      fs.rmSync(base, { recursive: true, force: true });
    }
  });

  it('escapedName keeps valid UTF-8 and escapes every other byte', () => {
    expect(escapedName(Buffer.from([0x61, 0xff, 0xc3, 0xa9, 0xe2, 0x82, 0x62]))).toBe('a\\xffé\\xe2\\x82b');
  });
});
