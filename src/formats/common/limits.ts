/**
 * Limits shared by the native readers (SPEC §6: every size and offset read
 * from a file is checked against the file and against a named limit).
 */
import { ImageOpenError, UnsupportedImageError } from '../../errors.js';

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

/** QEMU's BDRV_MAX_LENGTH: INT64_MAX aligned down to 1 GiB. */
export const QEMU_MAX_LENGTH = 2n ** 63n - 2n ** 30n;
const INT64_MAX = 2n ** 63n - 1n;

/**
 * The virtual size in bytes for a node of `sectors` 512-byte sectors, as
 * QEMU's block layer treats it (int64 arithmetic that wraps):
 * - sectors × 512 (mod 2^64) above BDRV_MAX_LENGTH: QEMU fails the open
 *   with "Could not refresh total sector count: File too large";
 * - otherwise, a sector count that is negative as an int64 or whose bytes
 *   overflow it opens in QEMU but qemu-img map then fails with "Failed to
 *   get size for 'F'" after printing its header — imgaudit refuses such an
 *   image at open (UnsupportedImageError), as it does any size above 2^62.
 */
export function checkVirtualSize(format: string, sectors: bigint): number {
  const wrapped = BigInt.asUintN(64, sectors * 512n);
  if (wrapped > QEMU_MAX_LENGTH) {
    throw new ImageOpenError('Could not refresh total sector count: File too large', 'E_CORRUPT_HEADER');
  }
  const signed = BigInt.asIntN(64, sectors);
  if (signed < 0n || signed > INT64_MAX / 512n) {
    throw new UnsupportedImageError(`${format}: virtual size of ${BigInt.asUintN(64, sectors)} sectors overflows (qemu-img: "Failed to get size")`, 'E_UNSUPPORTED');
  }
  const bytes = signed * 512n;
  if (bytes > BigInt(MAX_VIRTUAL_SIZE)) {
    throw new UnsupportedImageError(`${format}: virtual size 0x${bytes.toString(16)} exceeds 2^62 bytes`, 'E_UNSUPPORTED');
  }
  return Number(bytes);
}
