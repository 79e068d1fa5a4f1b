/**
 * QEMU's image locks, probed and never taken (block/file-posix.c,
 * raw_apply_lock_bytes / raw_check_lock_bytes of QEMU 7.2, confirmed against
 * qemu-io, qemu-nbd and qemu-img): a process that opens an image holds a
 * shared OFD lock on byte 100 + bit for each permission it uses and on byte
 * 200 + bit for each permission it refuses to share; bits are 0 consistent
 * read, 1 write, 2 write unchanged, 3 resize. F_OFD_GETLK tells whether
 * anyone holds a byte without taking it, so probing never stops a VM from
 * starting. The scan reads the same bytes from /proc/locks, which lists
 * every lock on the host (OFD locks of every pid namespace included)
 * without opening the image, so an unchanged re-scan still opens no file;
 * it probes with F_OFD_GETLK only where /proc/locks cannot be read.
 */
import fs from 'node:fs';
import { fsPath } from './byte-path.js';
import { LOCK_WRITE, lockProbe } from './native-addon.js';

const PERM_BASE = 100;
const SHARED_BASE = 200;
const PERM_NAMES = ['consistent read', 'write', 'write unchanged', 'resize'] as const;
const CONSISTENT_READ = 0;
const WRITE = 1;
const RESIZE = 3;

/**
 * What qemu-img's node needs of a file: a format's own file or a sparse
 * extent (`metadata`: refuses writers and resizers), a data file or flat
 * extent (`data`: refuses resizers), or the file under raw (`filtered`:
 * shares everything). Every node wants consistent reads.
 */
export type LockRole = 'metadata' | 'data' | 'filtered';

/** True when another open file description holds byte `byte`. */
function held(fd: number, byte: number): boolean {
  return lockProbe(fd, true, LOCK_WRITE, byte, 1) !== null;
}

/**
 * The lock conflict qemu-img 7.2 reports for opening `fd` read-only in
 * `role`, or null: `Failed to get "consistent read" lock` when someone
 * refuses to share reads, else `Failed to get shared "write" lock` /
 * `… "resize" …` when someone writes or resizes and the node does not share
 * that (never under -U / force-share).
 */
export function qemuLockConflict(fd: number, role: LockRole, forceShare: boolean): string | null {
  if (held(fd, SHARED_BASE + CONSISTENT_READ)) return `Failed to get "${PERM_NAMES[CONSISTENT_READ]}" lock`;
  if (forceShare || role === 'filtered') return null;
  const unshared = role === 'metadata' ? [WRITE, RESIZE] : [RESIZE];
  for (const bit of unshared) {
    if (held(fd, PERM_BASE + bit)) return `Failed to get shared "${PERM_NAMES[bit]}" lock`;
  }
  return null;
}

/** Who holds the image open, by QEMU's lock bytes: a writer, only readers, or nobody. */
export type InUse = 'write' | 'read' | null;

/** Probes QEMU's lock bytes of `fd` (read-only; takes no lock). */
export function qemuInUse(fd: number): InUse {
  if (held(fd, PERM_BASE + WRITE) || held(fd, PERM_BASE + RESIZE)) return 'write';
  if (lockProbe(fd, true, LOCK_WRITE, PERM_BASE, 4) !== null) return 'read';
  if (lockProbe(fd, true, LOCK_WRITE, SHARED_BASE, 4) !== null) return 'read';
  return null;
}

/** Who holds the file at `path` open (QEMU's lock bytes); null also when it cannot be opened or probed. */
export function probeInUse(path: string): InUse {
  let fd: number;
  try {
    fd = fs.openSync(fsPath(path), fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch {
    return null;
  }
  try {
    return qemuInUse(fd);
  } catch {
    return null;
  } finally {
    fs.closeSync(fd);
  }
}

/** One held byte range [start, end] (inclusive, as /proc/locks prints it). */
type Range = readonly [number, number];

/** Locks held on the host, by file (`major:minor:inode`), from /proc/locks. */
export class LockTable {
  private constructor(private readonly byFile: ReadonlyMap<string, readonly Range[]>) {}

  /** Parses /proc/locks text: held POSIX and OFD locks (waiters, `->` lines, are not held). */
  static parse(text: string): LockTable {
    const byFile = new Map<string, Range[]>();
    for (const line of text.split('\n')) {
      const m = /^\d+:\s+(POSIX|OFDLCK)\s+\S+\s+(?:READ|WRITE)\s+-?\d+\s+([0-9a-f]+):([0-9a-f]+):(\d+)\s+(\d+)\s+(\d+|EOF)\s*$/.exec(line);
      if (m === null) continue;
      const key = `${parseInt(m[2]!, 16)}:${parseInt(m[3]!, 16)}:${m[4]}`;
      const range: Range = [Number(m[5]), m[6] === 'EOF' ? Number.MAX_SAFE_INTEGER : Number(m[6])];
      const list = byFile.get(key);
      if (list === undefined) byFile.set(key, [range]);
      else list.push(range);
    }
    return new LockTable(byFile);
  }

  /** /proc/locks now, or null where it cannot be read. */
  static read(file = '/proc/locks'): LockTable | null {
    try {
      return LockTable.parse(fs.readFileSync(file, 'latin1'));
    } catch {
      return null;
    }
  }

  /** Who holds the file with st_dev `dev` and inode `ino` (QEMU's lock bytes). */
  inUse(dev: bigint, ino: bigint): InUse {
    const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
    const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
    const ranges = this.byFile.get(`${major}:${minor}:${ino}`);
    if (ranges === undefined) return null;
    const held = (from: number, to: number): boolean => ranges.some(([start, end]) => start <= to && end >= from);
    if (held(PERM_BASE + WRITE, PERM_BASE + WRITE) || held(PERM_BASE + RESIZE, PERM_BASE + RESIZE)) return 'write';
    if (held(PERM_BASE, PERM_BASE + 3) || held(SHARED_BASE, SHARED_BASE + 3)) return 'read';
    return null;
  }
}

/** How long a read of /proc/locks answers for (a scan audits many images a second). */
const TABLE_TTL_MS = 1000;
let table: { at: number; locks: LockTable | null } | undefined;

/**
 * Reads /proc/locks without blocking this thread, for the imageInUse calls
 * that follow (a scan starts it as it begins: the first read of /proc/locks
 * in a process takes the kernel 15-30 ms, which the crawl and the database
 * then hide). Never rejects.
 */
export async function loadLockTable(file = '/proc/locks'): Promise<void> {
  let locks: LockTable | null;
  try {
    locks = LockTable.parse(await fs.promises.readFile(file, 'latin1'));
  } catch {
    locks = null;
  }
  table = { at: Date.now(), locks };
}

/**
 * Who holds the image at `path` open, for the scan: from /proc/locks
 * (refreshed every second; the image is only stat'ed), else by probing an
 * opened descriptor. Null also when the file cannot be stat'ed.
 */
export function imageInUse(path: string): InUse {
  const now = Date.now();
  if (table === undefined || now - table.at > TABLE_TTL_MS) table = { at: now, locks: LockTable.read() };
  if (table.locks === null) return probeInUse(path);
  let stat: fs.BigIntStats;
  try {
    stat = fs.statSync(fsPath(path), { bigint: true });
  } catch {
    return null;
  }
  return table.locks.inUse(stat.dev, stat.ino);
}
