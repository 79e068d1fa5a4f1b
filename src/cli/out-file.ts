/**
 * Writing a command's output to `--out FILE`, deliberately by kind of
 * target. A regular file (or a new name) is replaced atomically: a
 * temporary file in the same directory, then rename (what the
 * node_exporter textfile collector needs). A symbolic link is followed: the
 * file it names is replaced and the link stays. A FIFO, a character device
 * (`/dev/stdout`, `/dev/null`) or a socket is written in place, never
 * replaced; a FIFO with no reader is refused rather than waited on. The
 * database (and its -wal, -shm and lock files) is never a target. Names
 * are bytes (io/byte-path.ts): a name that is not UTF-8 is written as is.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ImgauditError } from '../errors.js';
import { decodePath, displayText, fsPath } from '../io/byte-path.js';
import { BufferedWriter } from './output.js';

/** The output file cannot be written (exit status 2). */
export class OutputError extends ImgauditError {
  readonly code = 'E_OUTPUT';
}

function reason(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? (error as Error).message;
}

/** The files of the database at `database` that no report may replace. */
function databaseFiles(database: string): string[] {
  return ['', '-wal', '-shm', '-journal', '.lock'].map((suffix) => database + suffix);
}

function isDatabaseFile(target: string, database: string | undefined): boolean {
  if (database === undefined) return false;
  const stats = fs.statSync(fsPath(target), { throwIfNoEntry: false });
  return databaseFiles(path.resolve(database)).some((file) => {
    if (path.resolve(file) === target) return true;
    const other = fs.statSync(fsPath(file), { throwIfNoEntry: false });
    return stats !== undefined && other !== undefined && stats.dev === other.dev && stats.ino === other.ino;
  });
}

/**
 * Where `outFile` really points: the real path of a regular file behind
 * symbolic links; other targets keep the name given, which opening follows
 * (`/dev/stdout` goes through /proc's links to a pipe, which have no path).
 * A dangling link is refused.
 */
function resolveTarget(outFile: string): string {
  const target = path.resolve(outFile);
  const link = fs.lstatSync(fsPath(target), { throwIfNoEntry: false });
  if (link === undefined || !link.isSymbolicLink()) return target;
  let stats: fs.Stats;
  try {
    stats = fs.statSync(fsPath(target));
  } catch (error) {
    throw new OutputError(`cannot write '${displayText(target)}': it is a symbolic link to nothing (${reason(error)}); give the file itself`,
      { cause: error });
  }
  return stats.isFile() ? decodePath(fs.realpathSync.native(fsPath(target), { encoding: 'buffer' })) : target;
}

function writeInPlace(target: string, text: string): void {
  let fd: number;
  try {
    fd = fs.openSync(fsPath(target), fs.constants.O_WRONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENXIO') {
      throw new OutputError(`cannot write '${displayText(target)}': it is a FIFO no process reads`, { cause: error });
    }
    throw new OutputError(`cannot write '${displayText(target)}': ${reason(error)}`, { cause: error });
  }
  try {
    const out = new BufferedWriter(fd);
    out.write(text);
    out.flush();
  } catch (error) {
    throw new OutputError(`cannot write '${displayText(target)}': ${reason(error)}`, { cause: error });
  } finally {
    fs.closeSync(fd);
  }
}

function replaceAtomically(target: string, text: string): void {
  const temporary = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.tmp`);
  try {
    fs.writeFileSync(fsPath(temporary), text, { mode: 0o644, flag: 'wx' });
    fs.renameSync(fsPath(temporary), fsPath(target));
  } catch (error) {
    fs.rmSync(fsPath(temporary), { force: true });
    throw new OutputError(`cannot write '${displayText(target)}': ${reason(error)}`, { cause: error });
  }
}

/** Writes `text` to `outFile` (see the module comment); `database` names the file it must never replace. */
export function writeOutFile(outFile: string, text: string, database?: string): void {
  const target = resolveTarget(outFile);
  if (isDatabaseFile(target, database)) {
    throw new OutputError(`cannot write '${displayText(path.resolve(outFile))}': it is the database (or one of its files); choose another --out`);
  }
  const stats = fs.statSync(fsPath(target), { throwIfNoEntry: false });
  if (stats === undefined || stats.isFile()) {
    replaceAtomically(target, text);
  } else if (stats.isDirectory()) {
    throw new OutputError(`cannot write '${displayText(target)}': it is a directory`);
  } else {
    writeInPlace(target, text);
  }
}
