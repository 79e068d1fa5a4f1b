/** Format detection for the crawler: by magic only, without opening a chain. */
import { detectFormatOf } from '../formats/registry.js';
import type { FormatName } from '../formats/types.js';
import { HostFile } from '../io/host-file.js';

/** The probed format of `path` ('raw' when no magic matches). Throws ImageOpenError. */
export function detectFormat(path: string): FormatName {
  const file = HostFile.open(path);
  try {
    return detectFormatOf(file, path);
  } finally {
    file.close();
  }
}
