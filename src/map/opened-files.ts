/**
 * The host files one open of an image makes (its own, qcow2 data files,
 * vmdk extents, backing files), closed together: the OpenContext the chain
 * opener and the layer-alone mapper hand to the format drivers. When asked
 * to, it checks QEMU's lock bytes of each file as qemu-img would (never
 * taking a lock) and refuses like qemu-img.
 */
import { ImageOpenError } from '../errors.js';
import type { OpenContext } from '../formats/types.js';
import { HostFile } from '../io/host-file.js';
import { type LockRole, qemuLockConflict } from '../io/qemu-locks.js';
import { resolveBackingName } from './backing-name.js';

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

  constructor(private readonly dataFileFromImageDir: boolean, private readonly locks: LockCheck | null = null) {}

  /** Refuses `file` as qemu-img would when its lock bytes conflict with `role`. */
  checkLock(file: HostFile, role: LockRole, locking = true): void {
    if (this.locks === null || !locking) return;
    const conflict = qemuLockConflict(file.fd, role, this.locks.forceShare);
    if (conflict !== null) throw lockError(conflict, file.filename);
  }

  /** Opens a file without a lock check (the caller checks once the role is known). */
  openUnchecked(name: string): HostFile {
    const file = HostFile.open(name);
    this.files.push(file);
    return file;
  }

  openFile(name: string, role: 'metadata' | 'data' = 'data'): HostFile {
    const file = this.openUnchecked(name);
    this.checkLock(file, role);
    return file;
  }

  openDataFile(name: string, imageName: string): HostFile {
    if (this.dataFileOverride !== undefined) {
      this.dataFileOverrideUsed = true;
      return this.dataFileOverride;
    }
    return this.openFile(this.dataFileFromImageDir ? resolveBackingName(imageName, name) : name, 'data');
  }

  closeAll(): void {
    for (const file of this.files) file.close();
  }
}
