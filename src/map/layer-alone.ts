/**
 * One layer mapped in isolation, as if it had no backing file: what
 * `qemu-img map --output=json 'json:{"driver":"FMT","backing":null,
 * "file":{"driver":"file","filename":"PATH"}}'` prints. Ranges the layer
 * does not allocate read as zero at depth 0 with `present` false (QEMU's
 * block layer synthesises zeroes for a backing-capable node without backing).
 */
import { ImgauditError } from '../errors.js';
import { formatByName } from '../formats/registry.js';
import { mapEntries } from './map-entries.js';
import type { MapEntry } from './map-entry.js';
import { type FileGuard, OpenedFiles } from './opened-files.js';

export interface LayerAloneOptions {
  /**
   * Resolve a relative qcow2 `data_file` name against the image's directory
   * (what `scan` does) instead of the current directory (qemu-img 7.2).
   */
  dataFileFromImageDir?: boolean;
  /** Checks the layer's data files and extents before they are opened (the scan's roots boundary). */
  guardFile?: FileGuard;
}

/**
 * Streams the map entries of the layer `filename` in format `format` (any
 * name `-f` accepts), without opening its backing file. Throws the open
 * errors of the chain opener, prefixed "Could not open 'NAME': ".
 */
export function* layerAloneEntries(filename: string, format: string, options: LayerAloneOptions = {}): Generator<MapEntry> {
  const files = new OpenedFiles(options.dataFileFromImageDir === true, null, options.guardFile);
  try {
    let layer;
    try {
      const driver = formatByName(format);
      layer = driver.open(files.openUnchecked(filename), filename, files);
    } catch (error) {
      if (error instanceof ImgauditError) error.message = `Could not open '${filename}': ${error.message}`;
      throw error;
    }
    for (const emitted of mapEntries([layer])) yield emitted.entry;
  } finally {
    files.closeAll();
  }
}

/** True when the entry is a range the layer itself holds (mapped alone: present at depth 0). */
export function isOwnAllocation(entry: Pick<MapEntry, 'present' | 'depth'>): boolean {
  return entry.present && entry.depth === 0;
}
