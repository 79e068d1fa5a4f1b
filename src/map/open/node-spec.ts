/**
 * From an image name to the node tree qemu-img 7.2 would open (block.c
 * bdrv_open_inherit / bdrv_fill_options, paraphrased): a plain file name,
 * a `json:` name or `--image-opts` options become a format node (driver
 * given or probed later) over a protocol node (`file` or `nbd`), or a
 * protocol node alone. Errors are QEMU's texts; the caller adds
 * "Could not open 'NAME': ". Options a node does not use are kept and
 * checked once its driver is known (format-options.ts).
 */
import { ImageOpenError, UnsupportedImageError } from '../../errors.js';
import { protocolOf } from '../backing-name.js';
import { NBD_OPTION_KEYS, type NbdTarget, nbdTarget, parseNbdFilename } from './nbd-address.js';
import { type FlatOptions, extractSubOptions, optionString, qdictFirstKey, stringOption } from './options.js';
import { JsonNameError, parseJsonName } from './qemu-json.js';

export interface FileSpec {
  kind: 'file';
  filename: string;
  locking: boolean;
  /** QEMU's error for an option the file driver does not take, raised once the file is open. */
  leftoverError?: string;
}
export interface NbdSpec { kind: 'nbd'; target: NbdTarget }
export type ProtocolSpec = FileSpec | NbdSpec;

export interface FormatSpec {
  kind: 'format';
  /** Driver named by `driver`/`-f`; undefined: probe. */
  driver: string | undefined;
  file: ProtocolSpec;
  /** The node's remaining options (backing*, data-file*, offset, size, node-name, …). */
  options: FlatOptions;
}

export type NodeSpec = FormatSpec | ProtocolSpec;

/** Protocol drivers of QEMU 7.2 (block drivers with bdrv_file_open). */
const PROTOCOL_DRIVERS = new Set([
  'file', 'host_device', 'host_cdrom', 'nbd', 'ssh', 'http', 'https', 'ftp', 'ftps', 'iscsi', 'iser', 'rbd',
  'gluster', 'nfs', 'nvme', 'null-co', 'null-aio', 'vvfat', 'blkdebug', 'blkverify',
]);
/** Protocol prefixes and the driver each selects (bdrv_find_protocol). */
const PROTOCOL_PREFIXES: Record<string, string> = {
  file: 'file', nbd: 'nbd', 'nbd+unix': 'nbd', 'nbd+tcp': 'nbd', http: 'http', https: 'https', ftp: 'ftp', ftps: 'ftps',
  ssh: 'ssh', iscsi: 'iscsi', iser: 'iser', rbd: 'rbd', gluster: 'gluster', 'gluster+tcp': 'gluster',
  'gluster+unix': 'gluster', 'gluster+rdma': 'gluster', nfs: 'nfs', nvme: 'nvme', 'null-co': 'null-co',
  'null-aio': 'null-aio', blkdebug: 'blkdebug', blkverify: 'blkverify', fat: 'vvfat', host_device: 'host_device',
  host_cdrom: 'host_cdrom',
};
/** Every driver name QEMU 7.2's qemu-img knows. */
export const QEMU_DRIVERS = new Set([
  'blkdebug', 'blklogwrites', 'blkverify', 'bochs', 'cloop', 'compress', 'copy-before-write', 'copy-on-read',
  'dmg', 'file', 'ftp', 'ftps', 'gluster', 'host_cdrom', 'host_device', 'http', 'https', 'iscsi', 'iser', 'luks',
  'nbd', 'nfs', 'null-aio', 'null-co', 'nvme', 'parallels', 'preallocate', 'qcow', 'qcow2', 'qed', 'quorum', 'raw',
  'rbd', 'replication', 'snapshot-access', 'ssh', 'throttle', 'vdi', 'vhdx', 'vmdk', 'vpc', 'vvfat',
]);
/** Format drivers imgaudit opens (mapped, or recognised and refused as unsupported by the registry). */
export const FORMAT_DRIVERS = new Set([
  'raw', 'qcow2', 'qcow', 'qed', 'vmdk', 'vpc', 'vhdx', 'vdi', 'parallels', 'luks', 'bochs', 'cloop', 'dmg',
]);

/** Options every node accepts (bdrv_runtime_opts and BlockdevOptionsBase); imgaudit reads none of them. */
export const COMMON_OPTION_KEYS = new Set([
  'driver', 'node-name', 'discard', 'cache.direct', 'cache.no-flush', 'read-only', 'auto-read-only',
  'detect-zeroes', 'force-share', 'filename',
]);
const FILE_OPTION_KEYS = new Set(['locking', 'aio', 'aio-max-batch', 'pr-manager', 'drop-cache', 'x-check-cache-dropped']);

const openError = (message: string, code = 'E_IMAGE_OPTIONS'): ImageOpenError => new ImageOpenError(message, code);

/** The error for a driver imgaudit does not implement, naming it. */
export function unimplementedDriver(driver: string): UnsupportedImageError {
  return new UnsupportedImageError(`imgaudit does not implement the '${driver}' block driver`, 'E_UNSUPPORTED_DRIVER');
}

/** qemu's "Block protocol 'D' doesn't support the option 'K'" for leftovers, or undefined. */
function leftoverMessage(options: FlatOptions, driver: string, isProtocol: boolean, allowed: ReadonlySet<string>): string | undefined {
  const left = [...options.keys()].filter((key) => !allowed.has(key) && !COMMON_OPTION_KEYS.has(key));
  const first = qdictFirstKey(left);
  if (first === undefined) return undefined;
  return isProtocol
    ? `Block protocol '${driver}' doesn't support the option '${first}'`
    : `Block format '${driver}' does not support the option '${first}'`;
}

/** Throws qemu's error for options the driver does not take. */
export function checkLeftovers(options: FlatOptions, driver: string, isProtocol: boolean, allowed: ReadonlySet<string>): void {
  const message = leftoverMessage(options, driver, isProtocol, allowed);
  if (message !== undefined) throw openError(message);
}

/** A driver named by the options: undefined when absent or not a string; unknown names fail like QEMU. */
function namedDriver(options: FlatOptions): string | undefined {
  const driver = stringOption(options, 'driver');
  if (driver !== undefined && !QEMU_DRIVERS.has(driver)) throw openError(`Unknown driver '${driver}'`, 'E_UNKNOWN_DRIVER');
  return driver;
}

/** `on`/`off`/`auto` of an OnOffAuto option (file.locking). */
function onOffAuto(options: FlatOptions, key: string): 'on' | 'off' | 'auto' {
  const value = options.get(key);
  if (value === undefined) return 'auto';
  const text = optionString(value);
  if (text !== 'on' && text !== 'off' && text !== 'auto') throw openError(`invalid parameter value: ${text ?? ''}`);
  return text;
}

/**
 * A protocol node (bdrv_fill_options with BDRV_O_PROTOCOL): the driver from
 * `driver` or the filename's prefix, then the driver's own options.
 */
export function protocolSpec(options: FlatOptions, filename: string | undefined): ProtocolSpec {
  let driver = namedDriver(options);
  let name = filename;
  let parseFilename = false;
  if (filename !== undefined) {
    if (options.has('filename')) throw openError("Can't specify 'file' and 'filename' options at the same time");
    parseFilename = true;
  } else {
    name = stringOption(options, 'filename');
  }
  if (driver === undefined) {
    if (name === undefined) throw openError('Must specify either driver or file');
    const prefix = parseFilename ? protocolOf(name) : null;
    if (prefix === null) driver = 'file';
    else {
      driver = PROTOCOL_PREFIXES[prefix];
      if (driver === undefined) throw openError(`Unknown protocol '${prefix}'`, 'E_UNKNOWN_PROTOCOL');
    }
  }
  if (driver === 'file') {
    if (name !== undefined && parseFilename && name.startsWith('file:')) name = name.slice('file:'.length);
    if (name === undefined) throw openError("The 'file' block driver requires a file name");
    const locking = onOffAuto(options, 'locking');
    const leftoverError = leftoverMessage(options, 'file', true, FILE_OPTION_KEYS);
    return { kind: 'file', filename: name, locking: locking !== 'off', ...(leftoverError !== undefined ? { leftoverError } : {}) };
  }
  if (driver === 'nbd') {
    const rest = new Map(options);
    if (name !== undefined && parseFilename) parseNbdFilename(name, rest);
    rest.delete('filename');
    rest.delete('driver');
    const target = nbdTarget(rest);
    checkLeftovers(rest, 'nbd', true, NBD_OPTION_KEYS);
    return { kind: 'nbd', target };
  }
  throw unimplementedDriver(driver);
}

/** The spec of a format node, or of a protocol node when `driver` names one. */
export function nodeSpec(options: FlatOptions, filename: string | undefined): NodeSpec {
  const driver = namedDriver(options);
  if (driver !== undefined && PROTOCOL_DRIVERS.has(driver)) return protocolSpec(options, filename);
  if (driver !== undefined && !FORMAT_DRIVERS.has(driver)) throw unimplementedDriver(driver);
  const reference = stringOption(options, 'file');
  if (reference !== undefined) throw openError(`Cannot find device='${reference}' nor node-name='${reference}'`, 'E_NODE_REFERENCE');
  const fileOptions = extractSubOptions(options, 'file');
  options.delete('file');
  if (fileOptions.size === 0 && filename === undefined) {
    throw openError(driver !== undefined ? 'A block device must be specified for "file"' : 'Must specify either driver or file');
  }
  return { kind: 'format', driver, file: protocolSpec(fileOptions, filename), options };
}

/**
 * The node for `filename` with `options` (bdrv_open_inherit): a `json:`
 * name's options join the given ones (given keys win).
 */
export function specFromName(options: FlatOptions, filename: string | undefined): NodeSpec {
  if (filename !== undefined && filename.startsWith('json:')) {
    let json: FlatOptions;
    try {
      json = parseJsonName(filename.slice('json:'.length));
    } catch (error) {
      if (error instanceof JsonNameError) throw openError(error.message, 'E_JSON_NAME');
      throw error;
    }
    for (const [key, value] of json) if (!options.has(key)) options.set(key, value);
    return nodeSpec(options, undefined);
  }
  return nodeSpec(options, filename);
}

/** How the image was named on the command line. */
export type ImageName =
  | { kind: 'filename'; name: string }
  | { kind: 'options'; options: FlatOptions };

/**
 * The top node of `qemu-img map` for an image name: `-f` sets `driver`
 * (and wins over a `json:` name's), `-U` sets force-share.
 */
export function imageSpec(name: ImageName, format: string | undefined, forceShare: boolean): NodeSpec {
  let options: FlatOptions;
  let filename: string | undefined;
  if (name.kind === 'options') {
    options = new Map(name.options);
    if (forceShare) {
      const given = options.get('force-share');
      if (given !== undefined && optionString(given) !== 'on') throw new ImageOpenError('--force-share/-U conflicts with image options', 'E_USAGE_CONFLICT');
      options.set('force-share', 'on');
    }
  } else {
    options = new Map();
    if (format !== undefined) options.set('driver', format);
    if (forceShare) options.set('force-share', { t: 'bool', v: true });
    filename = name.name;
  }
  return specFromName(options, filename);
}

/** True when force-share is on for this node's options. */
export function forceShareOf(options: FlatOptions): boolean {
  const value = options.get('force-share');
  return value !== undefined && optionString(value) === 'on';
}

/** The NBD export a node spec reads, or null when the image is not on NBD. */
export function nbdTargetOf(spec: NodeSpec): NbdTarget | null {
  if (spec.kind === 'nbd') return spec.target;
  if (spec.kind === 'format' && spec.file.kind === 'nbd') return spec.file.target;
  return null;
}
