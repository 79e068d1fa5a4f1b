/** File identity by stat, for change detection (incremental scans, changes during mapping). */
import fs from 'node:fs';
import { fsPath } from '../io/byte-path.js';
import type { FileIdentity } from '../map/image-chain.js';

/** The identity of the file at `path` now (following symlinks), or null when it is gone. */
export function statIdentity(path: string): FileIdentity | null {
  let stat: fs.BigIntStats;
  try {
    stat = fs.statSync(fsPath(path), { bigint: true });
  } catch {
    return null;
  }
  return {
    path,
    dev: Number(stat.dev),
    ino: Number(stat.ino),
    sizeBytes: Number(stat.size),
    allocatedBytes: Number(stat.blocks) * 512,
    mtimeNs: stat.mtimeNs,
    ctimeNs: stat.ctimeNs,
  };
}

/**
 * True when both describe the same unchanged file: (dev, ino, size, mtime_ns,
 * ctime_ns), plus st_blocks, because disk usage is recorded from it.
 */
export function isSameFile(a: FileIdentity, b: FileIdentity): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.sizeBytes === b.sizeBytes && a.mtimeNs === b.mtimeNs
    && a.ctimeNs === b.ctimeNs && a.allocatedBytes === b.allocatedBytes;
}

/** True when every file still has the identity recorded for it (`stat` defaults to a fresh stat). */
export function areAllUnchanged(
  recorded: readonly FileIdentity[],
  stat: (path: string) => FileIdentity | null = statIdentity,
): boolean {
  return recorded.every((file) => {
    const now = stat(file.path);
    return now !== null && isSameFile(now, file);
  });
}

/**
 * Stats remembered for the length of one scan, for files many chains share
 * (backing files): each is stat'ed once per scan rather than once per chain.
 * Bounded: the oldest entry goes when `maxEntries` is reached.
 */
export class StatCache {
  private readonly entries = new Map<string, FileIdentity | null>();

  constructor(private readonly maxEntries = 4096) {}

  /** The identity of `path` as first stat'ed during this scan. */
  stat(path: string): FileIdentity | null {
    if (this.entries.has(path)) return this.entries.get(path)!;
    const identity = statIdentity(path);
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(path, identity);
    return identity;
  }
}
