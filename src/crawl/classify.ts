/**
 * Is a candidate file a disk image? Its format comes from its magic, as QEMU
 * probes it; a file with no known magic is a raw image only when its name
 * matches the raw patterns, so arbitrary files are never audited as raw. A
 * file that cannot be read is an image that failed when its name says it is
 * one; otherwise nobody can tell (`unknown`): every file under the roots is a
 * candidate, and an unreadable log must not turn into a failed image.
 */
import path from 'node:path';
import { ImgauditError } from '../errors.js';
import { detectFormatOf } from '../formats/registry.js';
import type { HostFile } from '../io/host-file.js';
import { detectFormat } from '../map/detect.js';

/** The format a file's extension promises, for the mismatch finding (`.img` promises nothing). */
const EXTENSION_FORMATS: Readonly<Record<string, string>> = {
  '.qcow2': 'qcow2', '.qcow': 'qcow', '.qed': 'qed', '.vmdk': 'vmdk', '.vhd': 'vpc', '.vpc': 'vpc',
  '.vhdx': 'vhdx', '.vdi': 'vdi', '.raw': 'raw',
};

/** What a candidate turned out to be. */
export type Classification =
  | { kind: 'image'; format: string; extensionFormat: string | null }
  | { kind: 'not-image'; extensionFormat: string | null }
  | { kind: 'unreadable'; code: string; message: string }
  | { kind: 'unknown'; code: string; message: string };

/** The format `name`'s extension promises, or null. */
export function extensionFormat(name: string): string | null {
  return EXTENSION_FORMATS[path.extname(name).toLowerCase()] ?? null;
}

/** Reads the candidate's first sector (only that) and classifies it. */
export function classify(file: string, relativePath: string, isRawName: (relativePath: string) => boolean): Classification {
  const promised = extensionFormat(file);
  let format: string;
  try {
    format = detectFormat(file);
  } catch (error) {
    if (!(error instanceof ImgauditError)) throw error;
    return unreadable(file, isRawName(relativePath), error);
  }
  return byFormat(format, promised, () => isRawName(relativePath));
}

/**
 * A candidate that cannot be read: a failed image when named like one
 * (its extension promises a format, or it matches the raw patterns),
 * otherwise `unknown` (a warning: content-based discovery meets logs too).
 */
export function unreadable(file: string, isRawName: boolean, error: ImgauditError): Classification {
  const isNamedLikeImage = extensionFormat(file) !== null || isRawName;
  return { kind: isNamedLikeImage ? 'unreadable' : 'unknown', code: error.code, message: error.message };
}

function byFormat(format: string, promised: string | null, isRawName: () => boolean): Classification {
  if (format === 'raw' && !isRawName()) return { kind: 'not-image', extensionFormat: promised };
  return { kind: 'image', format, extensionFormat: promised };
}

/** `classify` over a file already opened (its head read); `isRawName` said by the caller. */
export function classifyOpened(file: HostFile, isRawName: boolean): Classification {
  const promised = extensionFormat(file.filename);
  let format: string;
  try {
    format = detectFormatOf(file, file.filename);
  } catch (error) {
    if (!(error instanceof ImgauditError)) throw error;
    return unreadable(file.filename, isRawName, error);
  }
  return byFormat(format, promised, () => isRawName);
}
