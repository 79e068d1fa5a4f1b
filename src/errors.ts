/**
 * Error families. Image-level errors never stop a batch: the scanner records
 * them per image. Run-level errors (usage, config, store) stop the process;
 * only the CLI layer turns any of them into an exit code.
 *
 * Image-level messages follow qemu-img's wording where `imgaudit map` must
 * print the same text (e.g. "Could not open 'x': ...").
 */
export abstract class ImgauditError extends Error {
  abstract readonly code: string;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The file is not in the format that was tried (drives probing). */
export class NotThisFormatError extends ImgauditError {
  readonly code = 'E_NOT_THIS_FORMAT';
}

/** Opening an image (or one of its backing files) failed: message is qemu-img's text. */
export class ImageOpenError extends ImgauditError {
  readonly code: string;
  /**
   * Lines QEMU prints with error_report() before the open error itself
   * (e.g. vhdx "VHDX region … overlaps with region …"), without the
   * program-name prefix; qemu-img prints each as `qemu-img: LINE`.
   */
  readonly reports: readonly string[];
  /**
   * Lines QEMU appends to the error (error_append_hint), printed after it
   * without the program-name prefix (e.g. "Is another process using the
   * image [x]?").
   */
  readonly hints: readonly string[];
  constructor(message: string, code = 'E_OPEN', options?: { cause?: unknown; reports?: readonly string[]; hints?: readonly string[] }) {
    super(message, options);
    this.code = code;
    this.reports = options?.reports ?? [];
    this.hints = options?.hints ?? [];
  }
}

/** A structure inside the image is invalid: names the structure and its offset. */
export class CorruptImageError extends ImgauditError {
  readonly code = 'E_CORRUPT';
  /** Text of qemu's "Image is corrupt" event when QEMU reports one for this case. */
  readonly qemuEvent: string | undefined;
  /**
   * strerror() text of the errno QEMU fails with while mapping, as qemu-img
   * prints it in "Could not read file metadata: <text>" (EIO unless the
   * driver returns another errno, e.g. qed's EINVAL → "Invalid argument").
   */
  readonly errnoText: string;
  constructor(message: string, qemuEvent?: string, errnoText = 'Input/output error') {
    super(message);
    this.qemuEvent = qemuEvent;
    this.errnoText = errnoText;
  }
}

/** The image uses a feature or format this reader does not map (never a wrong map). */
export class UnsupportedImageError extends ImgauditError {
  readonly code: string;
  constructor(message: string, code = 'E_UNSUPPORTED', options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** A host read failed (I/O error, file shrank under us). */
export class ReadError extends ImgauditError {
  readonly code = 'E_READ';
}

/** Bad command-line arguments. */
export class UsageError extends ImgauditError {
  readonly code = 'E_USAGE';
}
