/**
 * QEMU's image locks, probed and never taken (block/file-posix.c,
 * raw_apply_lock_bytes / raw_check_lock_bytes of QEMU 7.2, confirmed against
 * qemu-io, qemu-nbd and qemu-img): a process that opens an image holds a
 * shared OFD lock on byte 100 + bit for each permission it uses and on byte
 * 200 + bit for each permission it refuses to share; bits are 0 consistent
 * read, 1 write, 2 write unchanged, 3 resize. F_OFD_GETLK tells whether
 * anyone holds a byte without taking it, so probing never stops a VM from
 * starting.
 */
import fs from 'node:fs';
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
    fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
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
