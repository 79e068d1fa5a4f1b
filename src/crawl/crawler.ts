/**
 * The only importer of fast-glob: streams the candidate files under each
 * root without building the full list. Regular files only (symlinks are not
 * followed, so there are no loops and no file is seen twice through a link);
 * hidden files and directories are skipped; exclusions are never entered.
 * Nothing is left out silently: a directory that cannot be read, and a name
 * that is not UTF-8 (which a string path could not open), are problems
 * reported with their path (fast-glob's own error handling would skip them
 * without a word: its directory reads go through a wrapper here).
 */
import fs from 'node:fs';
import path from 'node:path';
import fg from 'fast-glob';
import { extensionFormat } from './classify.js';
import { globMatcher } from './glob-match.js';

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
  code: 'E_ROOT_MISSING' | 'E_ROOT_NOT_DIRECTORY' | 'E_DIR_UNREADABLE' | 'E_NAME_NOT_UTF8';
  message: string;
  /**
   * Images may lie in what could not be read (a root, a directory): the run
   * is no complete picture. False for a file whose name is not UTF-8.
   */
  isGap: boolean;
  /** `warning` for a file with a non-UTF-8 name not named like an image; `error` otherwise. */
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

/** A name as messages show it: bytes that are not UTF-8 as \xNN escapes. */
export function escapedName(bytes: Buffer): string {
  let out = '';
  for (let at = 0; at < bytes.length;) {
    const length = utf8SequenceLength(bytes, at);
    if (length === 0) {
      out += `\\x${bytes[at]!.toString(16).padStart(2, '0')}`;
      at++;
    } else {
      out += bytes.subarray(at, at + length).toString('utf8');
      at += length;
    }
  }
  return out;
}

/** Length of the valid UTF-8 sequence at `at`, or 0 when there is none. */
function utf8SequenceLength(bytes: Buffer, at: number): number {
  const lead = bytes[at]!;
  const length = lead < 0x80 ? 1 : lead >= 0xc2 && lead < 0xe0 ? 2 : lead >= 0xe0 && lead < 0xf0 ? 3 : lead >= 0xf0 && lead < 0xf5 ? 4 : 0;
  if (length === 0 || at + length > bytes.length) return 0;
  const sequence = bytes.subarray(at, at + length);
  return Buffer.from(sequence.toString('utf8')).equals(sequence) ? length : 0;
}

type ReaddirCallback = (error: NodeJS.ErrnoException | null, entries?: fs.Dirent[]) => void;

/**
 * fast-glob's `readdir`, wrapped: a directory that cannot be read and a
 * name that is not UTF-8 become problems, and the walk goes on.
 */
function watchedReaddir(root: string, problems: RootProblem[], isCandidateName: (relativePath: string) => boolean) {
  return (directory: string, options: unknown, callback?: ReaddirCallback): void => {
    const done = (typeof options === 'function' ? options : callback) as ReaddirCallback;
    fs.readdir(directory, { withFileTypes: true, encoding: 'buffer' }, (error, entries) => {
      if (error !== null) {
        if (error.code === 'ENOENT' && directory !== root) {
          done(null, []); // removed while we walked
          return;
        }
        const code = error.code ?? 'EIO';
        problems.push(directory === root
          ? { kind: 'root-problem', root, path: root, code: 'E_ROOT_MISSING', message: `root '${root}' cannot be read: ${code}`,
              isGap: true, severity: 'error' }
          : { kind: 'root-problem', root, path: directory, code: 'E_DIR_UNREADABLE', isGap: true, severity: 'error',
              message: `directory '${directory}' cannot be read: ${code}; the images under it are not in this run` });
        done(null, []);
        return;
      }
      const named: fs.Dirent[] = [];
      for (const entry of entries) {
        const bytes = entry.name as unknown as Buffer;
        const name = bytes.toString('utf8');
        if (!Buffer.from(name).equals(bytes)) {
          // A file only when its name (undecodable bytes read as U+FFFD) would be a candidate; a directory always.
          const relative = path.relative(root, path.join(directory, name)).split(path.sep).join('/');
          if (!entry.isDirectory() && !isCandidateName(relative)) continue;
          const shown = path.join(directory, escapedName(bytes));
          // A directory is a gap (what it holds is unknown); a file an error when named like an image.
          const isGap = entry.isDirectory();
          const isNamedLikeImage = extensionFormat(name) !== null;
          problems.push({ kind: 'root-problem', root, path: shown, code: 'E_NAME_NOT_UTF8', isGap,
            severity: isGap || isNamedLikeImage ? 'error' : 'warning',
            message: `'${shown}' is named with bytes that are not UTF-8; imgaudit does not ${isGap ? 'read' : 'audit'} it `
              + '(rename it to audit it)' });
          continue;
        }
        (entry as unknown as { name: string }).name = name;
        named.push(entry as unknown as fs.Dirent);
      }
      done(null, named);
    });
  };
}

function rootKind(root: string): 'directory' | 'file' | RootProblem {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(root);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    return { kind: 'root-problem', root, path: root, code: 'E_ROOT_MISSING', message: `root '${root}' cannot be read: ${code}`,
      isGap: true, severity: 'error' };
  }
  if (stat.isDirectory()) return 'directory';
  if (stat.isFile()) return 'file';
  return { kind: 'root-problem', root, path: root, code: 'E_ROOT_NOT_DIRECTORY', message: `root '${root}' is not a directory`,
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
    const included = globMatcher(options.include);
    const excluded = globMatcher(options.exclude);
    const isCandidateName = (relativePath: string): boolean => included(relativePath) && !excluded(relativePath);
    const stream = fg.stream([...options.include], {
      cwd: root,
      ignore: [...options.exclude],
      onlyFiles: true,
      followSymbolicLinks: false,
      dot: false,
      unique: true,
      // Reading errors are caught by watchedReaddir; what is left (a race with a removal) is not an error.
      suppressErrors: true,
      fs: { readdir: watchedReaddir(root, problems, isCandidateName) as unknown as typeof fs.readdir },
    });
    for await (const entry of stream) {
      yield* problems.splice(0);
      const relativePath = String(entry);
      yield { kind: 'candidate', path: path.join(root, relativePath), root, relativePath };
    }
    yield* problems.splice(0);
  }
}
