/**
 * The documentation a newcomer reads: README.md is a landing page and the
 * reference lives in docs/, one file per topic. Every relative link (and its
 * #anchor, slugged as GitHub does) must resolve, and every command has its
 * section in docs/commands.md.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMAND_LOADERS } from '../../../src/cli/commands.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const DOCS = ['README.md', ...fs.readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** Text outside fenced code blocks. */
function prose(markdown: string): string {
  return markdown.replace(/^```[^\n]*\n[\s\S]*?^```$/gm, '');
}

/** The anchors GitHub gives a file's headings. */
function anchors(file: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const match of prose(fs.readFileSync(path.join(ROOT, file), 'utf8')).matchAll(/^#{1,6} (.+)$/gm)) {
    const slug = match[1]!.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    out.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return out;
}

describe('documentation', () => {
  it('keeps README.md a landing page that points into docs/', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    expect(readme.length).toBeLessThan(12_000);
    for (const topic of ['commands', 'reports', 'sql', 'prometheus', 'formats', 'operations', 'map']) {
      expect(readme).toContain(`(docs/${topic}.md)`);
    }
  });

  it.each(DOCS)('%s: every relative link and anchor resolves', (file) => {
    const text = prose(fs.readFileSync(path.join(ROOT, file), 'utf8'));
    const broken: string[] = [];
    for (const match of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = match[1]!;
      if (/^[a-z]+:/.test(target)) continue;
      const [name, anchor] = target.split('#') as [string, string | undefined];
      const linked = name === '' ? file : path.posix.normalize(path.posix.join(path.posix.dirname(file), name));
      if (!fs.existsSync(path.join(ROOT, linked))) broken.push(target);
      else if (anchor !== undefined && !anchors(linked).has(anchor)) broken.push(target);
    }
    expect(broken).toEqual([]);
  });

  it('gives every command a section in docs/commands.md', () => {
    const sections = anchors('docs/commands.md');
    const names = [...Object.keys(COMMAND_LOADERS), 'map'];
    expect(names.filter((name) => !sections.has(`imgaudit-${name}`))).toEqual([]);
  });
});
