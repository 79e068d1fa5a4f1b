/**
 * Reference sources (config `references`): the image paths named as in use,
 * by libvirt domain XML files (every `*.xml` directly in each configured
 * directory) and by path lists (one absolute path per line; `#` at the
 * start of a line or after white space starts a comment). Paths are stored
 * normalised (`path.resolve`: no `.`/`..`, no doubled or trailing slash),
 * not resolved through symlinks. A source that cannot be read, or a line
 * that is not an absolute path, is a warning finding; the scan goes on.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ReferencesConfig } from '../config/config.js';
import { decodePath, fsPath } from '../io/byte-path.js';
import type { FindingRecord } from '../store/records.js';
import { libvirtDiskSources } from './libvirt-xml.js';

/** A path a source names as in use. */
export interface Reference {
  path: string;
  /** The file that names it. */
  source: string;
}

/** Files bigger than this are not reference sources (a domain XML is a few KiB). */
const MAX_SOURCE_BYTES = 64 << 20;

function warning(code: string, message: string): FindingRecord {
  return { code, severity: 'warning', depth: null, message };
}

function errnoOf(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  return e.code ?? e.message;
}

function readSource(file: string, onFinding: (path: string, finding: FindingRecord) => void): string | null {
  try {
    const size = fs.statSync(fsPath(file)).size;
    if (size > MAX_SOURCE_BYTES) {
      onFinding(file, warning('E_REFERENCE_UNREADABLE', `reference source '${file}' is larger than ${MAX_SOURCE_BYTES} bytes; not read`));
      return null;
    }
    return decodePath(fs.readFileSync(fsPath(file))); // paths in it are bytes
  } catch (error) {
    onFinding(file, warning('E_REFERENCE_UNREADABLE', `reference source '${file}' cannot be read: ${errnoOf(error)}`));
    return null;
  }
}

/** The paths one path list names; non-absolute lines are findings. */
export function pathListEntries(text: string): { paths: string[]; badLines: number[] } {
  const paths: string[] = [];
  const badLines: number[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (line === '') return;
    if (path.isAbsolute(line)) paths.push(path.resolve(line));
    else badLines.push(index + 1);
  });
  return { paths, badLines };
}

function* fromPathList(file: string, onFinding: (path: string, finding: FindingRecord) => void): Generator<Reference> {
  const text = readSource(file, onFinding);
  if (text === null) return;
  const { paths, badLines } = pathListEntries(text);
  if (badLines.length > 0) {
    onFinding(file, warning('E_REFERENCE_INVALID', `path list '${file}': ignored line${badLines.length > 1 ? 's' : ''} ` +
      `${badLines.slice(0, 10).join(', ')}${badLines.length > 10 ? ', ...' : ''} (not an absolute path)`));
  }
  for (const p of paths) yield { path: p, source: file };
}

function* fromDomainDir(dir: string, onFinding: (path: string, finding: FindingRecord) => void): Generator<Reference> {
  let names: string[];
  try {
    names = fs.readdirSync(fsPath(dir), { withFileTypes: true, encoding: 'buffer' })
      .filter((entry) => entry.isFile() || entry.isSymbolicLink())
      .map((entry) => decodePath(entry.name as unknown as Buffer))
      .filter((name) => name.endsWith('.xml'))
      .sort();
  } catch (error) {
    onFinding(dir, warning('E_REFERENCE_UNREADABLE', `libvirt domain directory '${dir}' cannot be read: ${errnoOf(error)}`));
    return;
  }
  for (const name of names) {
    const file = path.join(dir, name);
    const xml = readSource(file, onFinding);
    if (xml === null) continue;
    const { paths, problem } = libvirtDiskSources(xml);
    if (problem !== null) {
      onFinding(file, warning('E_REFERENCE_INVALID', `libvirt domain XML '${file}': ${problem}; disks after it are not read`));
    }
    const relative = paths.filter((p) => !path.isAbsolute(p));
    if (relative.length > 0) {
      onFinding(file, warning('E_REFERENCE_INVALID',
        `libvirt domain XML '${file}': ignored disk source${relative.length > 1 ? 's' : ''} ${relative.map((p) => `'${p}'`).join(', ')} (not an absolute path)`));
    }
    for (const p of paths) if (path.isAbsolute(p)) yield { path: path.resolve(p), source: file };
  }
}

/** Every reference the configured sources name; problems go to `onFinding`. */
export function* collectReferences(
  config: ReferencesConfig,
  onFinding: (path: string, finding: FindingRecord) => void,
): Generator<Reference> {
  for (const dir of config.libvirtDomainDirs) yield* fromDomainDir(path.resolve(dir), onFinding);
  for (const file of config.pathLists) yield* fromPathList(path.resolve(file), onFinding);
}
