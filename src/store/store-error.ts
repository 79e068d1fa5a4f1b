/** Run-level errors of the database layer: each makes the CLI exit 2. */
import { ImgauditError } from '../errors.js';

/** The database cannot be opened, read or written. */
export class StoreError extends ImgauditError {
  readonly code = 'E_DB';
}

/** The database's migrations do not match the ones this imgaudit knows. */
export class MigrationError extends ImgauditError {
  readonly code = 'E_MIGRATION';
}

/** Another scan holds the database's lock. */
export class LockError extends ImgauditError {
  readonly code = 'E_LOCK';
}
