/**
 * The only importer of fast-glob: streams the candidate files under each
 * root without building the full list. Regular files only (symlinks are not
 * followed, so there are no loops and no file is seen twice through a link);
 * hidden files and directories are skipped; exclusions are never entered.
 */
import fs from 'node:fs';
import path from 'node:path';
import fg from 'fast-glob';

/** A file found under a root. */
export interface Candidate {
  kind: 'candidate';
  /** Absolute path. */
  path: string;
  root: string;
  /** Path relative to the root, `/`-separated (what patterns match). */
  relativePath: string;
}

/** A root that could not be crawled. */
export interface RootProblem {
  kind: 'root-problem';
  root: string;
  code: 'E_ROOT_MISSING' | 'E_ROOT_NOT_DIRECTORY';
  message: string;
}

/** What to crawl. */
export interface CrawlOptions {
  roots: readonly string[];
  include: readonly string[];
  exclude: readonly string[];
}

/**
 * Absolute, de-duplicated roots; a root inside another root is dropped, so
 * that no file is found twice.
 */
export function normaliseRoots(roots: readonly string[]): string[] {
  const unique = [...new Set(roots.map((root) => path.resolve(root)))].sort();
  return unique.filter((root) => !unique.some((other) =>
    other !== root && root.startsWith(other.endsWith(path.sep) ? other : other + path.sep)));
}

function rootKind(root: string): 'directory' | 'file' | RootProblem {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(root);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    return { kind: 'root-problem', root, code: 'E_ROOT_MISSING', message: `root '${root}' cannot be read: ${code}` };
  }
  if (stat.isDirectory()) return 'directory';
  if (stat.isFile()) return 'file';
  return { kind: 'root-problem', root, code: 'E_ROOT_NOT_DIRECTORY', message: `root '${root}' is not a directory` };
}

/**
 * Streams candidates root by root, in the order fast-glob finds them. A root
 * that is a regular file is itself a candidate. Iteration pulls: a consumer
 * that waits applies backpressure to the directory walk.
 */
export async function* crawl(options: CrawlOptions): AsyncGenerator<Candidate | RootProblem> {
  for (const root of options.roots) {
    const kind = rootKind(root);
    if (typeof kind !== 'string') {
      yield kind;
      continue;
    }
    if (kind === 'file') {
      yield { kind: 'candidate', path: root, root, relativePath: path.basename(root) };
      continue;
    }
    const stream = fg.stream([...options.include], {
      cwd: root,
      ignore: [...options.exclude],
      onlyFiles: true,
      followSymbolicLinks: false,
      dot: false,
      unique: true,
      suppressErrors: true,
    });
    for await (const entry of stream) {
      const relativePath = String(entry);
      yield { kind: 'candidate', path: path.join(root, relativePath), root, relativePath };
    }
  }
}
