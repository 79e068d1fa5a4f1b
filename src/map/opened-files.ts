/**
 * The host files one open of an image makes (its own, qcow2 data files,
 * vmdk extents, backing files), closed together: the OpenContext the chain
 * opener and the layer-alone mapper hand to the format drivers.
 */
import type { OpenContext } from '../formats/types.js';
import { HostFile } from '../io/host-file.js';
import { resolveBackingName } from './backing-name.js';

/** Host files opened read-only for one image, closed together. */
export class OpenedFiles implements OpenContext {
  readonly files: HostFile[] = [];
  constructor(private readonly dataFileFromImageDir: boolean) {}
  openFile(name: string): HostFile {
    const file = HostFile.open(name);
    this.files.push(file);
    return file;
  }
  openDataFile(name: string, imageName: string): HostFile {
    return this.openFile(this.dataFileFromImageDir ? resolveBackingName(imageName, name) : name);
  }
  closeAll(): void {
    for (const file of this.files) file.close();
  }
}
