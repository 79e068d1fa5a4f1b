/**
 * The only importer of fast-glob: streams the candidate files under each
 * root without building the full list. Regular files only (symlinks are not
 * followed, so there are no loops and no file is seen twice through a link);
 * hidden files and directories are skipped; exclusions are never entered.
 * Nothing is left out silently: a directory that cannot be read is a
 * problem reported with its path (fast-glob's own error handling would skip
 * it without a word: its directory reads go through a wrapper here). Names
 * are bytes: the wrapper reads them as such and hands fast-glob each name
 * not UTF-8 escaped (io/byte-path.ts), so such files and directories are
 * walked, matched and audited like any other.
 */
import fs from 'node:fs';
import path from 'node:path';
import fg from 'fast-glob';
import { decodePath, displayText, fsPath } from '../io/byte-path.js';

/** A file found under a root. */
export interface Candidate {
  kind: 'candidate';
  /** Absolute path. */
  path: string;
  root: string;
  /** Path relative to the root, `/`-separated (what patterns match). */
  relativePath: string;
}

/** A root, or a directory or name under it, that could not be crawled. */
export interface RootProblem {
  kind: 'root-problem';
  root: string;
  /** What could not be crawled (the root itself for root-level problems). */
  path: string;
  code: 'E_ROOT_MISSING' | 'E_ROOT_NOT_DIRECTORY' | 'E_DIR_UNREADABLE';
  message: string;
  /** Images may lie in what could not be read (a root, a directory): the run is no complete picture. */
  isGap: boolean;
  severity: 'error' | 'warning';
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
  return unique.filter((root) => enclosingRoot(root, unique) === null);
}

function enclosingRoot(root: string, roots: readonly string[]): string | null {
  return roots.find((other) => other !== root && root.startsWith(other.endsWith(path.sep) ? other : other + path.sep)) ?? null;
}

/** The roots normaliseRoots drops for lying inside another root, each with that root. */
export function nestedRoots(roots: readonly string[]): { root: string; under: string }[] {
  const unique = [...new Set(roots.map((root) => path.resolve(root)))].sort();
  return unique.flatMap((root) => {
    const under = enclosingRoot(root, unique);
    return under === null ? [] : [{ root, under }];
  });
}

type ReaddirCallback = (error: NodeJS.ErrnoException | null, entries?: fs.Dirent[]) => void;

/**
 * fast-glob's `readdir`, wrapped: a directory that cannot be read becomes a
 * problem, and the walk goes on; names are read as bytes.
 */
function watchedReaddir(root: string, problems: RootProblem[]) {
  return (directory: string, options: unknown, callback?: ReaddirCallback): void => {
    const done = (typeof options === 'function' ? options : callback) as ReaddirCallback;
    fs.readdir(fsPath(directory), { withFileTypes: true, encoding: 'buffer' }, (error, entries) => {
      if (error !== null) {
        if (error.code === 'ENOENT' && directory !== root) {
          done(null, []); // removed while we walked
          return;
        }
        const code = error.code ?? 'EIO';
        problems.push(directory === root
          ? { kind: 'root-problem', root, path: root, code: 'E_ROOT_MISSING', message: `root '${displayText(root)}' cannot be read: ${code}`,
              isGap: true, severity: 'error' }
          : { kind: 'root-problem', root, path: directory, code: 'E_DIR_UNREADABLE', isGap: true, severity: 'error',
              message: `directory '${displayText(directory)}' cannot be read: ${code}; the images under it are not in this run` });
        done(null, []);
        return;
      }
      for (const entry of entries) {
        // Names are bytes: one that is not UTF-8 is held escaped (io/byte-path.ts), and crawled like any other.
        (entry as unknown as { name: string }).name = decodePath(entry.name as unknown as Buffer);
      }
      const named = entries as unknown as fs.Dirent[];
      done(null, named);
    });
  };
}

function rootKind(root: string): 'directory' | 'file' | RootProblem {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(fsPath(root));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    return { kind: 'root-problem', root, path: root, code: 'E_ROOT_MISSING', message: `root '${displayText(root)}' cannot be read: ${code}`,
      isGap: true, severity: 'error' };
  }
  if (stat.isDirectory()) return 'directory';
  if (stat.isFile()) return 'file';
  return { kind: 'root-problem', root, path: root, code: 'E_ROOT_NOT_DIRECTORY', message: `root '${displayText(root)}' is not a directory`,
    isGap: true, severity: 'error' };
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
    const problems: RootProblem[] = [];
    const stream = fg.stream([...options.include], {
      cwd: root,
      ignore: [...options.exclude],
      onlyFiles: true,
      followSymbolicLinks: false,
      dot: false,
      unique: true,
      // Reading errors are caught by watchedReaddir; what is left (a race with a removal) is not an error.
      suppressErrors: true,
      fs: {
        readdir: watchedReaddir(root, problems) as unknown as typeof fs.readdir,
        // fast-glob stats an entry only when its type is unknown: the same bytes as readdir gave.
        lstat: ((file: string, callback: (error: NodeJS.ErrnoException | null, stats: fs.Stats) => void) =>
          fs.lstat(fsPath(file), callback)) as unknown as typeof fs.lstat,
        stat: ((file: string, callback: (error: NodeJS.ErrnoException | null, stats: fs.Stats) => void) =>
          fs.stat(fsPath(file), callback)) as unknown as typeof fs.stat,
      },
    });
    for await (const entry of stream) {
      yield* problems.splice(0);
      const relativePath = String(entry);
      yield { kind: 'candidate', path: path.join(root, relativePath), root, relativePath };
    }
    yield* problems.splice(0);
  }
}
