/** Run-level error for a bad configuration file or flag value. */
import { ImgauditError } from '../errors.js';

/**
 * A configuration key or command-line flag has a bad value (or is unknown).
 * The message always names the key or flag; the CLI exits 2 and nothing is written.
 */
export class ConfigError extends ImgauditError {
  readonly code = 'E_CONFIG';
}
