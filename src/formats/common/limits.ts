/**
 * Limits shared by the native readers (SPEC §6: every size and offset read
 * from a file is checked against the file and against a named limit).
 */
import { UnsupportedImageError } from '../../errors.js';

/**
 * Largest virtual size mapped: guest offsets are multiples of 512 and exact
 * as doubles up to 2^62 (QEMU's own limit is INT64_MAX).
 */
export const MAX_VIRTUAL_SIZE = 2 ** 62;
/** Host offsets must stay exact as doubles. */
export const MAX_HOST_OFFSET = Number.MAX_SAFE_INTEGER;

/** Throws UnsupportedImageError unless `bytes` ≤ `limit`. */
export function withinLimit(format: string, what: string, bytes: number | bigint, limit: number): void {
  if (BigInt(bytes) > BigInt(limit)) {
    throw new UnsupportedImageError(`${format}: ${what} of ${bytes} bytes exceeds imgaudit's limit of ${limit} bytes`, 'E_UNSUPPORTED');
  }
}

/** Throws UnsupportedImageError when a virtual size (bytes) exceeds MAX_VIRTUAL_SIZE. */
export function checkVirtualSize(format: string, bytes: bigint): number {
  if (bytes > BigInt(MAX_VIRTUAL_SIZE)) {
    throw new UnsupportedImageError(`${format}: virtual size 0x${bytes.toString(16)} exceeds 2^62 bytes`, 'E_UNSUPPORTED');
  }
  return Number(bytes);
}
