/**
 * Open failures worded like QEMU 7.2. A driver that fails with an errno and
 * no message of its own makes the block layer report
 * "Could not open 'NODE': <strerror>" (qemu-img then adds its own
 * "Could not open 'FILE': " in front), so such errors name only the errno;
 * the structure at fault is kept in `cause` for diagnostics.
 */
import { CorruptImageError, ImageOpenError } from '../../errors.js';

/** strerror() texts of the errnos QEMU's format drivers fail with. */
export const EINVAL = 'Invalid argument';
export const ENOTSUP = 'Operation not supported';
export const EFBIG = 'File too large';
export const EIO = 'Input/output error';

/** An open error with QEMU's own message (the driver set one). */
export function openError(message: string, code = 'E_CORRUPT_HEADER', reports?: readonly string[]): ImageOpenError {
  return new ImageOpenError(message, code, reports === undefined ? {} : { reports });
}

/** QEMU's generic "Could not open 'NODE': <strerror>" for a driver errno; `detail` says what was wrong. */
export function errnoOpenError(nodeName: string, errnoText: string, detail: string, options: { code?: string; reports?: readonly string[] } = {}): ImageOpenError {
  return new ImageOpenError(`Could not open '${nodeName}': ${errnoText}`, options.code ?? 'E_CORRUPT_HEADER', {
    cause: new Error(detail),
    ...(options.reports === undefined ? {} : { reports: options.reports }),
  });
}

/** A metadata error while mapping; qemu-img prints "Could not read file metadata: <errnoText>". */
export function mapError(message: string, errnoText = EIO): CorruptImageError {
  return new CorruptImageError(message, undefined, errnoText);
}
