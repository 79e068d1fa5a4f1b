/**
 * Opening an image with its backing chain, as qemu-img opens it for map:
 * read-only, format probed unless given, each backing file resolved relative
 * to its overlay and opened with the recorded backing format or probed.
 * Error texts nest like qemu-img's ("Could not open 'top': Could not open
 * backing file: ..."). Unlike QEMU we refuse loops and absurd depths.
 */
import { ImageOpenError, ImgauditError, UnsupportedImageError } from '../errors.js';
import { formatByName, probeFormat } from '../formats/registry.js';
import type { ImageFormat, ImageLayer } from '../formats/types.js';
import { protocolOf, resolveBackingName } from './backing-name.js';
import { type FileGuard, OpenedFiles } from './opened-files.js';

/** Protocol prefixes QEMU 7.2 knows; others are "Unknown protocol". */
const QEMU_PROTOCOLS = new Set([
  'json', 'nbd', 'nbd+unix', 'nbd+tcp', 'http', 'https', 'ftp', 'ftps', 'ssh', 'iscsi', 'iser', 'rbd',
  'gluster', 'gluster+tcp', 'gluster+unix', 'gluster+rdma', 'nfs', 'nvme', 'null-co', 'null-aio',
  'blkdebug', 'blkverify', 'vvfat', 'host_device', 'host_cdrom', 'fat',
]);

/** Deepest chain we follow; QEMU has no limit but runs out of file descriptors. */
export const DEFAULT_MAX_CHAIN_DEPTH = 64;

export interface OpenChainOptions {
  /** Force the top image's format (`-f`), skipping probing. */
  format?: string;
  /** Refuse chains with more layers than this (default 64). */
  maxDepth?: number;
  /**
   * Called with each resolved backing name before it is opened; throwing
   * refuses it (the scanner uses this for backing files outside its roots).
   */
  checkBacking?: (resolvedName: string, overlay: ImageLayer) => void;
  /**
   * Resolve a relative qcow2 `data_file` name against the image's directory
   * (what an auditor running from cron expects) instead of the current
   * directory (qemu-img 7.2's behaviour, the default).
   */
  dataFileFromImageDir?: boolean;
  /**
   * Checks every file but the image itself (backing files, data files,
   * extents) before it is opened; throwing refuses it (the scanner's roots
   * boundary, on real paths).
   */
  guardFile?: FileGuard;
}

/** An opened chain: layers[0] is the image itself, layers[i+1] the backing of layers[i]. */
export interface OpenedChain {
  readonly layers: readonly ImageLayer[];
  close(): void;
}

function openLayer(files: OpenedFiles, name: string, formatName: string | undefined, role: 'image' | 'backing'): ImageLayer {
  const protocol = protocolOf(name);
  if (protocol !== null && protocol !== 'file') {
    if (!QEMU_PROTOCOLS.has(protocol)) throw new ImageOpenError(`Unknown protocol '${protocol}'`, 'E_UNKNOWN_PROTOCOL');
    throw new UnsupportedImageError(`imgaudit does not follow '${protocol}:' names ('${name}')`, 'E_PROTOCOL_BACKING');
  }
  const path = protocol === 'file' ? name.slice('file:'.length) : name;
  const format: ImageFormat | undefined = formatName === undefined ? undefined : formatByName(formatName);
  const file = files.openFile(path, role);
  return (format ?? probeFormat(file, path)).open(file, name, files);
}

/** Adds qemu-img's context ("Could not open 'top': ") to an image error and rethrows it. */
function prefixed(prefix: string, error: unknown): never {
  if (error instanceof ImgauditError) error.message = prefix + error.message;
  throw error;
}

/**
 * Opens `filename` and its whole backing chain. Throws ImageOpenError,
 * CorruptImageError or UnsupportedImageError with qemu-img's message text.
 */
export function openChain(filename: string, options: OpenChainOptions = {}): OpenedChain {
  const files = new OpenedFiles(options.dataFileFromImageDir === true, options.guardFile);
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_CHAIN_DEPTH;
  const layers: ImageLayer[] = [];
  const seen = new Set<string>();
  try {
    try {
      layers.push(openLayer(files, filename, options.format, 'image'));
    } catch (error) {
      prefixed(`Could not open '${filename}': `, error);
    }
    seen.add(`${layers[0]!.file.dev}:${layers[0]!.file.ino}`);
    for (let current = layers[0]!; current.backing !== null; current = layers[layers.length - 1]!) {
      const resolved = resolveBackingName(current.filename, current.backing.name);
      let backing: ImageLayer;
      try {
        if (layers.length >= maxDepth) {
          throw new ImageOpenError(`backing chain deeper than ${maxDepth} layers`, 'E_CHAIN_TOO_DEEP');
        }
        options.checkBacking?.(resolved, current);
        backing = openLayer(files, resolved, current.backing.format, 'backing');
        const identity = `${backing.file.dev}:${backing.file.ino}`;
        if (seen.has(identity)) {
          throw new ImageOpenError(`backing chain loop: '${resolved}' is already in the chain`, 'E_CHAIN_LOOP');
        }
        seen.add(identity);
      } catch (error) {
        const nesting = 'Could not open backing file: '.repeat(layers.length);
        prefixed(`Could not open '${filename}': ${nesting}`, error);
      }
      layers.push(backing);
    }
  } catch (error) {
    files.closeAll();
    throw error;
  }
  return { layers, close: () => files.closeAll() };
}
