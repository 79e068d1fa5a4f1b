/**
 * The host files one open of an image makes (its own, qcow2 data files,
 * vmdk extents, backing files), closed together: the OpenContext the chain
 * opener and the layer-alone mapper hand to the format drivers. A guard
 * (the scanner's roots boundary) may refuse any file but the image itself
 * before it is opened; the file it approves is then opened only if it is
 * the very file (dev, ino) it checked, and is named by its real path.
 */
import type { OpenContext } from '../formats/types.js';
import { HostFile } from '../io/host-file.js';
import { resolveBackingName } from './backing-name.js';

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

/** Host files opened read-only for one image, closed together. */
export class OpenedFiles implements OpenContext {
  readonly files: HostFile[] = [];
  constructor(private readonly dataFileFromImageDir: boolean, private readonly guard?: FileGuard) {}
  openFile(name: string, role: FileRole = 'extent'): HostFile {
    const checked = role === 'image' || this.guard === undefined ? null : this.guard(name, role);
    const file = HostFile.open(name, checked === null ? undefined : { recordAs: checked.realPath, dev: checked.dev, ino: checked.ino });
    this.files.push(file);
    return file;
  }
  openDataFile(name: string, imageName: string): HostFile {
    return this.openFile(this.dataFileFromImageDir ? resolveBackingName(imageName, name) : name, 'data-file');
  }
  closeAll(): void {
    for (const file of this.files) file.close();
  }
}
