/**
 * SQLite opens a database by its name, as UTF-8 text: a path holding bytes
 * that are not UTF-8 (io/byte-path.ts keeps them as escapes) would open or
 * create another file, its bytes replaced by U+FFFD. Such a database path is
 * refused before anything is opened or created (the scan lock included).
 */
import { displayText, hasEscapes } from '../io/byte-path.js';
import { StoreError } from './store-error.js';

/** Throws StoreError when `file` holds bytes that are not UTF-8. */
export function requireUtf8DatabasePath(file: string): void {
  if (!hasEscapes(file)) return;
  throw new StoreError(`database '${displayText(file)}' is named with bytes that are not UTF-8, which SQLite cannot open `
    + 'by name; give the database a UTF-8 name');
}
