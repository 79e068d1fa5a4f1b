/**
 * Names stored in images (backing files, extent files, descriptor text).
 * QEMU handles them as bytes, and so does imgaudit: bytes that form valid
 * UTF-8 are that text; any other byte is held escaped (io/byte-path.ts), so
 * a backing file or extent whose name is not UTF-8 is opened by its exact
 * bytes, as qemu-img opens it.
 */
import { decodePath } from '../../io/byte-path.js';

/** The name held by `bytes` (up to the first NUL). */
export function imageName(bytes: Uint8Array): string {
  let end = bytes.indexOf(0);
  if (end < 0) end = bytes.length;
  return decodePath(bytes.subarray(0, end));
}

/** Re-decodes text that was read one character per byte (latin1) as a name. */
export function nameFromLatin1(text: string): string {
  return imageName(Buffer.from(text, 'latin1'));
}
