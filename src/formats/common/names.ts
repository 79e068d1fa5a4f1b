/**
 * Names stored in images (backing files, extent files, descriptor text).
 * QEMU handles them as bytes; imgaudit's paths and messages are strings,
 * which Node opens and prints as UTF-8. So bytes that form valid UTF-8 —
 * what tools write — are decoded as UTF-8 and round-trip exactly; any other
 * bytes are kept one character per byte (latin1), which still reports them
 * but cannot name such a file.
 */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** The name held by `bytes` (up to the first NUL). */
export function imageName(bytes: Uint8Array): string {
  let end = bytes.indexOf(0);
  if (end < 0) end = bytes.length;
  const slice = bytes.subarray(0, end);
  try {
    return UTF8.decode(slice);
  } catch {
    return Buffer.from(slice.buffer, slice.byteOffset, slice.byteLength).toString('latin1');
  }
}

/** Re-decodes text that was read one character per byte (latin1) as a name. */
export function nameFromLatin1(text: string): string {
  return imageName(Buffer.from(text, 'latin1'));
}
