/**
 * Small file systems for storage-fault tests: a tmpfs of a given size or
 * inode count (to fill it), mounted read-only or not. Needs the right to
 * mount (root with CAP_SYS_ADMIN); `canMount` says whether tests can.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

function tryMount(dir: string, options: string): boolean {
  return spawnSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { stdio: 'ignore' }).status === 0;
}

/** True when this process may mount a tmpfs. */
export const canMount: boolean = (() => {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-mount-probe-'));
  try {
    if (!tryMount(dir, 'size=64k')) return false;
    spawnSync('umount', [dir]);
    return true;
  } finally {
    fs.rmdirSync(dir);
  }
})();

/** A mounted tmpfs; `remount('ro')` and `unmount()` as the test needs. */
export interface Tmpfs {
  dir: string;
  remount(mode: 'ro' | 'rw'): void;
  unmount(): void;
}

/** Mounts a tmpfs with `options` (`size=64k`, `nr_inodes=3`) on a fresh directory. */
export function mountTmpfs(options: string): Tmpfs {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-tmpfs-'));
  if (!tryMount(dir, options)) throw new Error(`cannot mount a tmpfs on ${dir}`);
  return {
    dir,
    remount(mode) {
      const r = spawnSync('mount', ['-o', `remount,${mode}`, dir], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`remount ${mode} ${dir}: ${r.stderr}`);
    },
    unmount() {
      spawnSync('umount', ['-l', dir]);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
