/**
 * The options a format node reads once its driver is known (raw's
 * `offset`/`size`, the runtime options of each format QEMU accepts and
 * imgaudit has no use for), with QEMU 7.2's checks and texts; whatever is
 * left is "Block format 'F' does not support the option 'K'".
 */
import { ImageOpenError } from '../../errors.js';
import type { RawWindow } from '../../formats/raw/raw-format.js';
import { type FlatOptions, optionString } from './options.js';
import { UINT64_MAX, parseQemuSize } from './qemu-size.js';
import { checkLeftovers } from './node-spec.js';

const SIZE_HINTS = [
  'Optional suffix k, M, G, T, P or E means kilo-, mega-, giga-, tera-, peta-',
  'and exabytes, respectively.',
];

const QCOW2_KEYS = [
  'lazy-refcounts', 'pass-discard-request', 'pass-discard-snapshot', 'pass-discard-other', 'overlap-check',
  'overlap-check.template', 'overlap-check.main-header', 'overlap-check.active-l1', 'overlap-check.active-l2',
  'overlap-check.refcount-table', 'overlap-check.refcount-block', 'overlap-check.snapshot-table',
  'overlap-check.inactive-l1', 'overlap-check.inactive-l2', 'overlap-check.bitmap-directory', 'cache-size',
  'l2-cache-size', 'l2-cache-entry-size', 'refcount-cache-size', 'cache-clean-interval', 'encrypt.format',
  'encrypt.key-secret',
];
/** Runtime options each format accepts besides the common ones and those handled by the opener. */
const FORMAT_KEYS: Record<string, ReadonlySet<string>> = {
  raw: new Set(['offset', 'size']),
  qcow2: new Set(QCOW2_KEYS),
  qcow: new Set(['encrypt.format', 'encrypt.key-secret']),
};

/** Fails on options `driver` does not take (checked after its backing opened, as QEMU does). */
export function checkFormatLeftovers(options: FlatOptions, driver: string): void {
  checkLeftovers(options, driver, false, FORMAT_KEYS[driver] ?? new Set());
}

/** parse_option_size for a size option, or undefined when absent. */
function sizeOption(options: FlatOptions, key: string): bigint | undefined {
  const value = options.get(key);
  if (value === undefined) return undefined;
  const text = optionString(value) ?? '';
  const parsed = parseQemuSize(text, UINT64_MAX);
  if (parsed.ok) return parsed.value;
  if (parsed.reason === 'range') throw new ImageOpenError(`Value '${text}' is out of range for parameter '${key}'`, 'E_IMAGE_OPTIONS');
  throw new ImageOpenError(`Parameter '${key}' expects a non-negative number below 2^64`, 'E_IMAGE_OPTIONS', { hints: SIZE_HINTS });
}

/** raw's window (raw_read_options + raw_apply_options), or undefined without offset/size. */
export function rawWindow(options: FlatOptions, fileLengthBytes: number): RawWindow | undefined {
  const offset = sizeOption(options, 'offset');
  const size = sizeOption(options, 'size');
  if (offset === undefined && size === undefined) return undefined;
  const realSize = BigInt(fileLengthBytes);
  const start = offset ?? 0n;
  if (start > realSize) {
    throw new ImageOpenError(`Offset (${start}) cannot be greater than size of the containing file (${realSize})`, 'E_IMAGE_OPTIONS');
  }
  if (size !== undefined && realSize - start < size) {
    throw new ImageOpenError(
      `The sum of offset (${start}) and size (${size}) has to be smaller or equal to the  actual size of the containing file (${realSize})`,
      'E_IMAGE_OPTIONS');
  }
  if (size !== undefined && size % 512n !== 0n) throw new ImageOpenError('Specified size is not multiple of 512', 'E_IMAGE_OPTIONS');
  const length = size ?? realSize - start;
  if (length % 512n !== 0n) {
    // qemu-img 7.2 fails an assertion (and dumps core) on such a window.
    throw new ImageOpenError(`raw offset ${start} leaves ${length} bytes, not a multiple of 512 (qemu-img 7.2 aborts on this window)`, 'E_IMAGE_OPTIONS');
  }
  return { offsetBytes: Number(start), sizeBytes: Number(length) };
}
