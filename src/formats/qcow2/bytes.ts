/** Big-endian field readers for qcow2 structures, 64-bit values kept exact. */
import { CorruptImageError } from '../../errors.js';

export const u32 = (b: Buffer, at: number): number => b.readUInt32BE(at);

/** A u64 that must fit in 2^53 (sizes and offsets); `what` names the field. */
export function u64(b: Buffer, at: number, what: string): number {
  const value = b.readBigUInt64BE(at);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new CorruptImageError(`qcow2: ${what} 0x${value.toString(16)} exceeds 2^53`);
  }
  return Number(value);
}

/** C's "%#x": 0 prints as "0", others as "0x…". */
export const cHex = (value: number | bigint): string => (value === 0 || value === 0n ? '0' : `0x${value.toString(16)}`);

/** Host offset of a table entry (bits 9..55) from its u32 halves. */
export const entryOffset = (hi: number, lo: number): number =>
  (hi & 0x00ffffff) * 0x100000000 + ((lo & 0xfffffe00) >>> 0);
