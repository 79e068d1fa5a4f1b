/** CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of VHDX structures. */

const TABLE = (() => {
  const table = new Int32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[i] = c;
  }
  return table;
})();

/** Continues a CRC over `bytes`: pass the previous result as `crc` (0 to start). */
export function crc32c(bytes: Uint8Array, crc = 0): number {
  let c = ~crc;
  for (let i = 0; i < bytes.length; i++) c = TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** CRC-32C of `bytes` with the 4-byte checksum field at `fieldOffset` taken as zero. */
export function crc32cWithoutField(bytes: Uint8Array, fieldOffset: number): number {
  let crc = crc32c(bytes.subarray(0, fieldOffset));
  crc = crc32c(new Uint8Array(4), crc);
  return crc32c(bytes.subarray(fieldOffset + 4), crc);
}
