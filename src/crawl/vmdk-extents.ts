/**
 * The files a VMDK text descriptor names in its extent lines. A scan audits
 * the descriptor as the image; its extent files (`-s001.vmdk`, `-f001.vmdk`,
 * `-flat.vmdk`, or any file a hand-written descriptor names) belong to that
 * image and are not images of their own. The lines are read with the vmdk
 * reader's own parser, so a scan skips exactly the files the open would read
 * (RW extents of the types QEMU opens, up to the first invalid line).
 */
import fs from 'node:fs';
import path from 'node:path';
import { nameFromLatin1 } from '../formats/common/names.js';
import { cString, descriptionValue, extentLines, isVmdkDescriptor } from '../formats/vmdk/descriptor.js';
import * as S from '../formats/vmdk/spec.js';
import { fsPath } from '../io/byte-path.js';

/** Descriptor files are named `*.vmdk` (what qemu-img and VMware write). */
export function isVmdkName(file: string): boolean {
  return path.extname(file).toLowerCase() === '.vmdk';
}

/** Reads up to `length` bytes from the start of the open file `fd`. */
function readHead(fd: number, length: number): Buffer {
  const buffer = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const n = fs.readSync(fd, buffer, done, length - done, done);
    if (n === 0) break;
    done += n;
  }
  return buffer.subarray(0, done);
}

/**
 * Absolute, normalised paths of the extent files named by the text
 * descriptor at `file` (an absolute path), resolved like QEMU against the
 * descriptor's directory; null when `file` is not a text descriptor (a
 * sparse extent, a flat extent, anything else) or cannot be read. Extent
 * names with a protocol prefix are left out (the vmdk reader refuses them).
 */
export function descriptorExtentPaths(file: string): string[] | null {
  let fd: number;
  try {
    fd = fs.openSync(fsPath(file), 'r');
  } catch {
    return null;
  }
  let text: string;
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) return null;
    const head = readHead(fd, Math.min(stat.size, 512));
    if (!isVmdkDescriptor(head)) return null;
    text = cString(readHead(fd, Math.min(stat.size, S.MAX_DESCRIPTOR_BYTES)));
  } catch {
    return null;
  } finally {
    fs.closeSync(fd);
  }
  const createType = descriptionValue(text, 'createType', S.CREATE_TYPE_BUFFER);
  if (createType === null || !S.DESCRIPTOR_TYPES.includes(createType)) return null;
  const directory = path.dirname(file);
  const paths = new Set<string>();
  for (const line of extentLines(text)) {
    if ('invalidLine' in line) break;
    const name = nameFromLatin1(line.fileName);
    const colon = name.indexOf(':');
    const slash = name.indexOf('/');
    if (colon >= 0 && (slash < 0 || colon < slash)) continue;
    paths.add(path.resolve(directory, name));
  }
  return [...paths];
}
