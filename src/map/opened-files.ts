/**
 * The host files one open of an image makes (its own, qcow2 data files,
 * vmdk extents, backing files), closed together: the OpenContext the chain
 * opener and the layer-alone mapper hand to the format drivers. When asked
 * to, it checks QEMU's lock bytes of each file as qemu-img would (never
 * taking a lock) and refuses like qemu-img. A guard (the scanner's roots
 * boundary) may refuse any file but the image itself before it is opened;
 * the file it approves is then opened only if it is the very file (dev, ino)
 * it checked, and is named by its real path.
 */
import { ImageOpenError } from '../errors.js';
import type { OpenContext } from '../formats/types.js';
import { HostFile } from '../io/host-file.js';
import { type LockRole, qemuLockConflict } from '../io/qemu-locks.js';
import { resolveBackingName } from './backing-name.js';
import type { StagedOpen } from './staged-open.js';

/** Why a file other than the image itself is opened. */
export type FileRole = 'image' | 'backing' | 'data-file' | 'extent';

/** The file a guard approved: its real path and identity. */
export interface GuardedFile {
  realPath: string;
  dev: number;
  ino: number;
}

/**
 * Checks a file before it is opened: throws to refuse it; returns what it
 * checked, or null when there is nothing to check (the open then reports
 * the missing file as QEMU does).
 */
export type FileGuard = (name: string, role: Exclude<FileRole, 'image'>) => GuardedFile | null;

/** qemu-img's lock refusal: the message, then its hint line. */
export function lockError(conflict: string, filename: string): ImageOpenError {
  return new ImageOpenError(conflict, 'E_IMAGE_LOCKED', { hints: [`Is another process using the image [${filename}]?`] });
}

/** Lock checking for one open: off (the library default, the scan) or qemu-img's (map). */
export interface LockCheck {
  /** -U / force-share: only a refused "consistent read" stops the open. */
  forceShare: boolean;
}

/** Host files opened read-only for one image, closed together. */
export class OpenedFiles implements OpenContext {
  readonly files: HostFile[] = [];
  /** A `data-file` given in the image options, used instead of the image's own. */
  dataFileOverride: HostFile | undefined;
  dataFileOverrideUsed = false;

  /** Files the staged open owns (it closes them): closeAll leaves them. */
  private readonly borrowed = new Set<HostFile>();

  /**
   * `adopted`: the image's own file opened beforehand (HostFile.openAsync), used for the first open of its name.
   * `staged`: every file comes from a staged open (map/staged-open.ts), which opens them asynchronously.
   */
  constructor(
    private readonly dataFileFromImageDir: boolean,
    private readonly locks: LockCheck | null = null,
    private readonly guard?: FileGuard,
    private adopted?: HostFile,
    private readonly staged?: StagedOpen,
  ) {
    if (adopted !== undefined) this.files.push(adopted);
  }

  /** Refuses `file` as qemu-img would when its lock bytes conflict with `role`. */
  checkLock(file: HostFile, role: LockRole, locking = true): void {
    if (this.locks === null || !locking) return;
    const conflict = qemuLockConflict(file.fd, role, this.locks.forceShare);
    if (conflict !== null) throw lockError(conflict, file.filename);
  }

  /**
   * Opens a file without a lock check (the caller checks once the role is
   * known); the guard checks it first unless it is the image itself.
   */
  openUnchecked(name: string, fileRole: FileRole = 'image'): HostFile {
    if (fileRole === 'image' && this.adopted !== undefined && this.adopted.filename === name) {
      const file = this.adopted;
      this.adopted = undefined;
      return file;
    }
    const checked = fileRole === 'image' || this.guard === undefined ? null : this.guard(name, fileRole);
    // The image's own file is seldom read by other chains; backing files, data files and extents often are.
    const identity = checked === null ? undefined : { recordAs: checked.realPath, dev: checked.dev, ino: checked.ino };
    if (this.staged !== undefined) {
      const file = this.staged.take(name, fileRole === 'image' ? 'image' : 'other', identity, fileRole !== 'image');
      this.borrowed.add(file);
      this.files.push(file);
      return file;
    }
    const file = HostFile.open(name, identity, fileRole !== 'image');
    this.files.push(file);
    return file;
  }

  openFile(name: string, role: 'metadata' | 'data' = 'data', fileRole: FileRole = 'extent'): HostFile {
    const file = this.openUnchecked(name, fileRole);
    this.checkLock(file, role);
    return file;
  }

  openDataFile(name: string, imageName: string): HostFile {
    if (this.dataFileOverride !== undefined) {
      this.dataFileOverrideUsed = true;
      return this.dataFileOverride;
    }
    return this.openFile(this.dataFileFromImageDir ? resolveBackingName(imageName, name) : name, 'data', 'data-file');
  }

  closeAll(): void {
    for (const file of this.files) if (!this.borrowed.has(file)) file.close();
  }
}
