/**
 * Every finding code a scan or `check` can give (the tables in README.md
 * and docs/safety.md), so that `check --ignore CODE` can refuse a code that
 * cannot occur instead of silencing nothing.
 */
export const FINDING_CODES: ReadonlySet<string> = new Set([
  // A chain that could not be mapped, or a layer of it.
  'E_BACKING_MISSING', 'E_CHAIN_LOOP', 'E_CHAIN_TOO_DEEP', 'E_BACKING_OUTSIDE_ROOTS', 'E_FILE_OUTSIDE_ROOTS',
  'E_PROTOCOL_BACKING', 'E_UNKNOWN_PROTOCOL', 'E_UNKNOWN_DRIVER', 'E_CORRUPT', 'E_CORRUPT_HEADER', 'E_UNSUPPORTED',
  'E_UNSUPPORTED_FEATURE', 'E_UNSUPPORTED_VERSION', 'E_OPEN', 'E_NOT_REGULAR', 'E_READ', 'E_INTERNAL',
  // The crawl.
  'E_ROOT_MISSING', 'E_ROOT_NOT_DIRECTORY', 'E_ROOT_NO_IMAGES', 'E_ROOT_IGNORED', 'E_DIR_UNREADABLE',
  'E_CANDIDATE_UNREADABLE',
  // Image state.
  'E_IMAGE_CHANGED', 'E_IMAGE_DIRTY', 'E_IMAGE_CORRUPT', 'E_NOT_AN_IMAGE', 'E_FORMAT_MISMATCH', 'E_SNAPSHOT_TABLE',
  // No longer given (names are bytes, and audited), but runs stored by earlier versions hold it.
  'E_NAME_NOT_UTF8',
  // Derived by check, and per-layer figures.
  'E_CHAIN_DEEP', 'E_IMAGE_ORPHAN', 'E_BASE_ORPHANED', 'E_BASE_UNUSED', 'E_FS_FILLING', 'E_FS_OVERCOMMIT',
  'E_SNAPSHOT_OLD', 'E_SNAPSHOT_EXTERNAL_OLD', 'E_LAYER_FIGURES', 'E_REFERENCE_UNREADABLE', 'E_REFERENCE_INVALID',
]);
