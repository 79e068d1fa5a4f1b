/**
 * Opening an image with its backing chain, as qemu-img opens it for map:
 * read-only, format probed unless given, each backing file resolved relative
 * to its overlay and opened with the recorded backing format or probed.
 * The image may also be named by node options (`--image-opts`, `json:`
 * names, see open/node-spec.ts): raw windows, `backing` (null, a node
 * reference, `backing.*` options), `data-file`, `file.locking`. Error texts
 * nest like qemu-img's ("Could not open 'top': Could not open backing file:
 * ..."). Unlike QEMU we refuse loops and absurd depths. QEMU's lock bytes
 * are checked only when asked (imgaudit map); no lock is ever taken.
 */
import { ImageOpenError, ImgauditError, UnsupportedImageError } from '../errors.js';
import { openRawWindow, rawFormat } from '../formats/raw/raw-format.js';
import { formatByName, probeFormat } from '../formats/registry.js';
import type { ImageFormat, ImageLayer } from '../formats/types.js';
import { protocolOf, resolveBackingName } from './backing-name.js';
import type { HostFile } from '../io/host-file.js';
import { checkFormatLeftovers, rawWindow } from './open/format-options.js';
import {
  type FileSpec, type NodeSpec, type ProtocolSpec, forceShareOf, imageSpec, protocolSpec, specFromName,
} from './open/node-spec.js';
import { type FlatOptions, extractSubOptions, stringOption, typed } from './open/options.js';
import { type FileGuard, type LockCheck, OpenedFiles } from './opened-files.js';
import type { StagedOpen } from './staged-open.js';

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
  /** The top node when the image is named by options; `filename` is then its name in messages. */
  spec?: NodeSpec;
  /** Check QEMU's lock bytes of every file and refuse as qemu-img does (imgaudit map); off by default. */
  locks?: LockCheck;
  /** Receives qemu's warning lines as they happen (e.g. `"backing": ""` deprecated). */
  warnings?: string[];
  /**
   * Checks every file but the image itself (backing files, data files,
   * extents) before it is opened; throwing refuses it (the scanner's roots
   * boundary, on real paths).
   */
  guardFile?: FileGuard;
  /** The top image's host file, already opened (HostFile.openAsync); the chain closes it. */
  topFile?: HostFile;
  /**
   * Every file comes from this staged open (map/staged-open.ts: run the open
   * through its `run`); the chain closes them.
   */
  staged?: StagedOpen;
}

/** An opened chain: layers[0] is the image itself, layers[i+1] the backing of layers[i]. */
export interface OpenedChain {
  readonly layers: readonly ImageLayer[];
  close(): void;
}

/** A name with a protocol imgaudit does not follow as a backing file (kept as before: recorded, not followed). */
function refuseProtocol(name: string): never {
  const protocol = protocolOf(name) ?? 'nbd';
  if (!QEMU_PROTOCOLS.has(protocol)) throw new ImageOpenError(`Unknown protocol '${protocol}'`, 'E_UNKNOWN_PROTOCOL');
  throw new UnsupportedImageError(`imgaudit does not follow '${protocol}:' names ('${name}')`, 'E_PROTOCOL_BACKING');
}

/** The local file a protocol node names; NBD exports are mapped by map/nbd-map.ts only. */
function localFile(spec: ProtocolSpec, name: string): FileSpec {
  if (spec.kind === 'file') return spec;
  return refuseProtocol(name.startsWith('nbd') ? name : spec.target.displayName);
}

interface OpenedNode {
  layer: ImageLayer;
  /** Options left for the format's leftover check and the backing decision. */
  options: FlatOptions;
}

/** Opens one node (a format over a file, or a file alone) in `files`. */
function openNode(files: OpenedFiles, spec: NodeSpec, name: string, plainName: boolean, role: 'image' | 'backing'): OpenedNode {
  if (spec.kind !== 'format') {
    const fileSpec = localFile(spec, name);
    const file = files.openUnchecked(fileSpec.filename, role);
    if (fileSpec.leftoverError !== undefined) throw new ImageOpenError(fileSpec.leftoverError, 'E_IMAGE_OPTIONS');
    files.checkLock(file, 'filtered', fileSpec.locking);
    return { layer: rawFormat.open(file, fileSpec.filename, files), options: new Map() };
  }
  const fileSpec = localFile(spec.file, name);
  const file = files.openUnchecked(fileSpec.filename, role);
  if (fileSpec.leftoverError !== undefined) throw new ImageOpenError(fileSpec.leftoverError, 'E_IMAGE_OPTIONS');
  // A plain name keeps its spelling (`file:x` included) as the layer's name, as before.
  const layerName = plainName ? name : fileSpec.filename;
  const format: ImageFormat = spec.driver === undefined ? probeFormat(file, fileSpec.filename) : formatByName(spec.driver);
  const options = new Map(spec.options);
  // raw passes its child through (sharing everything) unless it exposes a window of it.
  const windowed = options.has('offset') || options.has('size');
  files.checkLock(file, format.name !== 'raw' ? 'metadata' : windowed ? 'data' : 'filtered', fileSpec.locking);
  if (format.name === 'raw') {
    const window = rawWindow(options, file.lengthBytes);
    options.delete('offset');
    options.delete('size');
    if (window !== undefined) return { layer: openRawWindow(file, layerName, window), options };
  }
  if (format.name === 'qcow2') {
    const reference = stringOption(options, 'data-file');
    if (reference !== undefined) throw new ImageOpenError(`Cannot find device='${reference}' nor node-name='${reference}'`, 'E_NODE_REFERENCE');
    options.delete('data-file');
    const dataOptions = extractSubOptions(options, 'data-file');
    if (dataOptions.size > 0) {
      const dataSpec = localFile(protocolSpec(dataOptions, undefined), name);
      const dataFile = files.openUnchecked(dataSpec.filename, 'data-file');
      if (dataSpec.leftoverError !== undefined) throw new ImageOpenError(dataSpec.leftoverError, 'E_IMAGE_OPTIONS');
      files.checkLock(dataFile, 'data', dataSpec.locking);
      files.dataFileOverride = dataFile;
    }
  }
  const layer = format.open(file, layerName, files);
  if (files.dataFileOverride !== undefined && !files.dataFileOverrideUsed) {
    throw new ImageOpenError("'data-file' can only be set for images with an external data file", 'E_IMAGE_OPTIONS');
  }
  files.dataFileOverride = undefined;
  files.dataFileOverrideUsed = false;
  return { layer, options };
}

/** What to open below `layer` (bdrv_open_backing_file): nothing, or a node spec and its name. */
type BackingPlan =
  | { kind: 'none' }
  | { kind: 'refuse'; name: string }
  | { kind: 'open'; options: FlatOptions; filename: string | undefined };

function planBacking(layer: ImageLayer, options: FlatOptions, warnings: string[] | undefined): BackingPlan {
  const value = options.get('backing');
  options.delete('backing');
  const backingOptions = extractSubOptions(options, 'backing');
  if (value !== undefined) {
    const v = typed(value);
    if (v.t === 'null') return { kind: 'none' };
    if (v.t === 'str' && v.v === '') {
      warnings?.push('warning: Use of "backing": "" is deprecated; use "backing": null instead');
      return { kind: 'none' };
    }
    if (v.t === 'str') {
      const own = stringOption(options, 'node-name');
      if (own === v.v) throw new ImageOpenError(`Making '${v.v}' a backing child of '${v.v}' would create a cycle`, 'E_NODE_REFERENCE');
      throw new ImageOpenError(`Could not open backing file: Cannot find device='${v.v}' nor node-name='${v.v}'`, 'E_NODE_REFERENCE');
    }
  }
  const explicitFile = backingOptions.has('file') || [...backingOptions.keys()].some((k) => k.startsWith('file.'));
  if (!explicitFile && layer.backing === null && backingOptions.size === 0) return { kind: 'none' };
  if (!layer.supportsBacking) throw new ImageOpenError("Driver doesn't support backing files", 'E_IMAGE_OPTIONS');
  if (!backingOptions.has('driver') && layer.backing?.format !== undefined) backingOptions.set('driver', layer.backing.format);
  let name: string | undefined;
  if (!explicitFile && layer.backing !== null) {
    name = resolveBackingName(layer.filename, layer.backing.name);
    const protocol = protocolOf(name);
    if (protocol !== null && protocol !== 'file' && protocol !== 'json') return { kind: 'refuse', name };
  }
  return { kind: 'open', options: backingOptions, filename: name };
}

/** Adds qemu-img's context ("Could not open 'top': ") to an image error and rethrows it. */
function prefixed(prefix: string, error: unknown): never {
  if (error instanceof ImgauditError) error.message = prefix + error.message;
  throw error;
}

/**
 * Opens `filename` (or `options.spec`) and its whole backing chain. Throws
 * ImageOpenError, CorruptImageError or UnsupportedImageError with qemu-img's
 * message text.
 */
export function openChain(filename: string, options: OpenChainOptions = {}): OpenedChain {
  const files = new OpenedFiles(options.dataFileFromImageDir === true, options.locks ?? null, options.guardFile, options.topFile,
    options.staged);
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_CHAIN_DEPTH;
  const layers: ImageLayer[] = [];
  const leftovers: FlatOptions[] = [];
  const seen = new Set<string>();
  try {
    try {
      const spec = options.spec ?? imageSpec({ kind: 'filename', name: filename }, options.format, false);
      const opened = openNode(files, spec, filename, options.spec === undefined && !filename.startsWith('json:'), 'image');
      layers.push(opened.layer);
      leftovers.push(opened.options);
      seen.add(`${opened.layer.file.dev}:${opened.layer.file.ino}`);
    } catch (error) {
      prefixed(`Could not open '${filename}': `, error);
    }
    for (;;) {
      const current = layers[layers.length - 1]!;
      let plan: BackingPlan;
      try {
        plan = planBacking(current, leftovers[leftovers.length - 1]!, options.warnings);
      } catch (error) {
        prefixed(`Could not open '${filename}': ${'Could not open backing file: '.repeat(layers.length - 1)}`, error);
      }
      if (plan.kind === 'none') break;
      try {
        if (plan.kind === 'refuse') refuseProtocol(plan.name);
        if (layers.length >= maxDepth) {
          throw new ImageOpenError(`backing chain deeper than ${maxDepth} layers`, 'E_CHAIN_TOO_DEEP');
        }
        // The backing node's spec (a `json:` name is parsed here, its errors are the backing file's).
        const spec = specFromName(plan.options, plan.filename);
        const name = plan.filename ?? '';
        const plainName = plan.filename !== undefined && !plan.filename.startsWith('json:');
        const checked = spec.kind === 'format' ? spec.file : spec;
        if (options.checkBacking !== undefined) {
          options.checkBacking(plainName ? name : localFile(checked, name).filename, current);
        }
        const opened = openNode(files, spec, name, plainName, 'backing');
        const identity = `${opened.layer.file.dev}:${opened.layer.file.ino}`;
        if (seen.has(identity)) {
          throw new ImageOpenError(`backing chain loop: '${opened.layer.filename}' is already in the chain`, 'E_CHAIN_LOOP');
        }
        seen.add(identity);
        layers.push(opened.layer);
        leftovers.push(opened.options);
      } catch (error) {
        prefixed(`Could not open '${filename}': ${'Could not open backing file: '.repeat(layers.length)}`, error);
      }
    }
    // QEMU checks a node's unused options once its backing is open: the deepest first.
    for (let depth = layers.length - 1; depth >= 0; depth--) {
      try {
        checkFormatLeftovers(leftovers[depth]!, layers[depth]!.format);
      } catch (error) {
        prefixed(`Could not open '${filename}': ${'Could not open backing file: '.repeat(depth)}`, error);
      }
    }
  } catch (error) {
    files.closeAll();
    throw error;
  }
  return {
    layers,
    close: () => {
      files.closeAll();
      options.staged?.closeAll();
    },
  };
}

/** True when the top node's options ask for force-share. */
export { forceShareOf };
