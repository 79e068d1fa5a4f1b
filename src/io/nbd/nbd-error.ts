/** The error of the NBD client (its own module, so that naming it loads no socket code). */
import { ImgauditError } from '../../errors.js';

/** An NBD connection or protocol failure; the message is QEMU's text where QEMU has one. */
export class NbdError extends ImgauditError {
  readonly code: string;
  /** Lines printed after the message without the program prefix (QEMU's hints). */
  readonly hints: readonly string[];
  constructor(message: string, code = 'E_NBD', hints: readonly string[] = []) {
    super(message);
    this.code = code;
    this.hints = hints;
  }
}
