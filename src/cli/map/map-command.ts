/**
 * `imgaudit map`: qemu-img map (QEMU 7.2) re-implemented on the native
 * reader. stdout is byte-identical to qemu-img's; messages are qemu-img's,
 * prefixed with "imgaudit: ". The image is a file name, a `json:` name, an
 * NBD URI or (`--image-opts`) an option string. Local images are mapped by
 * the synchronous engine with QEMU's lock checks (never taking a lock);
 * NBD exports through the asynchronous NBD client. Returns the exit status
 * (0 or 1).
 */
import type tls from 'node:tls';
import { CorruptImageError, ImageOpenError, ImgauditError, UsageError } from '../../errors.js';
import { NbdError } from '../../io/nbd/nbd-error.js';
import { nativeAddonProblem } from '../../io/native-addon.js';
import { ImageChain } from '../../map/image-chain.js';
import type { EmittedEntry, MapRangeOptions } from '../../map/map-entries.js';
import type { NbdImage } from '../../map/nbd-map.js';
import type { NbdTarget } from '../../map/open/nbd-address.js';
import { type NodeSpec, forceShareOf, imageSpec, nbdTargetOf } from '../../map/open/node-spec.js';
import { ObjectError, type QemuObject, createObject } from '../../map/open/objects.js';
import { parseQemuOpts } from '../../map/open/qemu-opts.js';
import {
  HUMAN_HEADER, HumanOutputRefused, JSON_CLOSE, JSON_OPEN, type MapCompat, humanLine, jsonEntry,
} from '../../map/qemu-output.js';
import { BufferedWriter, writeStderr } from '../output.js';
import { getopt } from './getopt.js';
import { MAP_OPTIONS } from './map-options.js';
import { MAP_HELP } from './map-help.js';
import { parseQemuSize } from './size-arg.js';

const PREFIX = 'imgaudit: ';
const TRY = "Try 'imgaudit --help' for more information\n";
/** Deadline of every NBD wait (connect, each reply); IMGAUDIT_NBD_TIMEOUT_MS overrides it. */
const NBD_TIMEOUT_MS = 30_000;

function sizeOption(name: string, text: string): bigint | null {
  const parsed = parseQemuSize(text);
  if (parsed.ok) return parsed.value;
  writeStderr(parsed.reason === 'range'
    ? `${PREFIX}Invalid ${name} specified. Must be between 0 and 9223372036854775807.\n`
    : `${PREFIX}Invalid ${name} specified. You may use k, M, G, T, P or E suffixes for\n` +
      `${PREFIX}kilobytes, megabytes, gigabytes, terabytes, petabytes and exabytes.\n`);
  return null;
}

/** qemu's warning lines: "warning: …" lines get the program prefix, continuation lines do not. */
function printWarnings(lines: readonly string[]): void {
  for (const line of lines) writeStderr(`${line.startsWith('warning: ') ? PREFIX : ''}${line}\n`);
}

export function runMap(args: readonly string[]): number | Promise<number> {
  const parsed = getopt(args, MAP_OPTIONS);
  let format: string | undefined;
  let output: string | undefined;
  let start: bigint | undefined;
  let length: bigint | undefined;
  let compat: MapCompat = '7.2';
  let imageOpts = false;
  let forceShare = false;
  const objects = new Map<string, QemuObject>();
  for (const item of parsed.items) {
    if (item.kind === 'unrecognized') {
      writeStderr(`${PREFIX}unrecognized option '${item.text}'\n${TRY}`);
      return 1;
    }
    if (item.kind === 'missing-argument') {
      writeStderr(`${PREFIX}missing argument for option '${item.text}'\n${TRY}`);
      return 1;
    }
    const value = item.value ?? '';
    switch (item.key) {
      case 'help': process.stdout.write(MAP_HELP); return 0;
      case 'format': format = value; break;
      case 'output': output = value; break;
      case 'start': { const v = sizeOption('start offset', value); if (v === null) return 1; start = v; break; }
      case 'length': { const v = sizeOption('max length', value); if (v === null) return 1; length = v; break; }
      case 'image-opts': imageOpts = true; break;
      case 'force-share': forceShare = true; break;
      case 'object':
        try {
          const object = createObject(value);
          objects.set(object.id, object);
        } catch (error) {
          if (!(error instanceof ObjectError)) throw error;
          writeStderr(`${PREFIX}${error.message}\n`);
          return 1;
        }
        break;
      case 'compat':
        if (value !== '7.2' && value !== '8.2') {
          writeStderr(`${PREFIX}--compat must be 7.2 or 8.2\n`);
          return 1;
        }
        compat = value;
        break;
      default: break;
    }
  }
  if (parsed.operands.length !== 1) {
    writeStderr(`${PREFIX}Expecting one image file name\n${TRY}`);
    return 1;
  }
  if (output !== undefined && output !== 'json' && output !== 'human') {
    writeStderr(`${PREFIX}--output must be used with human or json as argument.\n`);
    return 1;
  }
  const filename = parsed.operands[0]!;
  if (imageOpts && format !== undefined) {
    writeStderr(`${PREFIX}--image-opts and --format are mutually exclusive\n`);
    return 1;
  }
  const options: MapOptions = { json: output === 'json', format, start, length, compat, forceShare, objects };
  let spec: NodeSpec;
  const warnings: string[] = [];
  try {
    if (imageOpts) {
      const opts = parseQemuOpts(filename);
      printWarnings(opts.warnings);
      spec = imageSpec({ kind: 'options', options: opts.options }, undefined, forceShare);
    } else {
      spec = imageSpec({ kind: 'filename', name: filename }, format, forceShare);
    }
  } catch (error) {
    if (error instanceof ImageOpenError && error.code === 'E_USAGE_CONFLICT') {
      writeStderr(`${PREFIX}${error.message}\n`);
      return 1;
    }
    return openFailed(filename, error, true);
  }
  const target = nbdTargetOf(spec);
  if (target !== null) return mapNbd(filename, spec, target, options);
  // A plain file name is opened from its name (its spelling is the layer's name, `file:` included).
  const plain = !imageOpts && !filename.startsWith('json:');
  return mapLocal(filename, plain ? undefined : spec, options, warnings);
}

interface MapOptions {
  json: boolean; format: string | undefined; start: bigint | undefined; length: bigint | undefined; compat: MapCompat;
  forceShare: boolean; objects: Map<string, QemuObject>;
}

/** Prints an open failure as qemu-img does: reports, the message (prefixed with the image name), hints. */
function openFailed(filename: string, error: unknown, addName: boolean): number {
  if (!(error instanceof ImgauditError)) throw error;
  const reports = error instanceof ImageOpenError ? error.reports.map((line) => `${PREFIX}${line}\n`).join('') : '';
  const hints = error instanceof ImageOpenError || error instanceof NbdError ? error.hints : [];
  const name = addName ? `Could not open '${filename}': ` : '';
  writeStderr(`${reports}${PREFIX}${name}${error.message}\n${hints.map((h) => `${h}\n`).join('')}`);
  return 1;
}

function rangeOptions(options: MapOptions): MapRangeOptions {
  return {
    ...(options.start !== undefined ? { startOffsetBytes: options.start } : {}),
    ...(options.length !== undefined ? { maxLengthBytes: options.length } : {}),
    humanRewrite: !options.json,
    mergeOnCompressed: options.compat === '8.2',
  };
}

function printEntry(out: BufferedWriter, emitted: EmittedEntry, options: MapOptions): void {
  out.write(options.json ? jsonEntry(emitted, options.compat) : humanLine(emitted));
}

/** A failure after the header was printed (the map itself failed). */
function mapFailed(error: unknown): number {
  if (error instanceof HumanOutputRefused) {
    writeStderr(`${PREFIX}${error.message}\n`);
    return 1;
  }
  if (error instanceof NbdError) {
    writeStderr(`${PREFIX}${error.message}\n${error.hints.map((h) => `${h}\n`).join('')}`);
    return 1;
  }
  if (!(error instanceof ImgauditError)) throw error;
  if (error instanceof UsageError) {
    writeStderr(`${PREFIX}${error.message}\n`);
    return 1;
  }
  if (error instanceof CorruptImageError && error.qemuEvent !== undefined) {
    writeStderr(`qcow2: Image is corrupt: ${error.qemuEvent}; further non-fatal corruption events will be suppressed\n`);
  }
  // The errno the driver fails with (EIO in most drivers, EINVAL in qed); a host read error is EIO.
  const errnoText = error instanceof CorruptImageError ? error.errnoText : 'Input/output error';
  writeStderr(`${PREFIX}Could not read file metadata: ${errnoText}\n`);
  return 1;
}

async function mapLocal(filename: string, spec: NodeSpec | undefined, options: MapOptions, warnings: string[]): Promise<number> {
  const addonProblem = nativeAddonProblem();
  if (addonProblem !== null) {
    writeStderr(`${PREFIX}${addonProblem.message}\n`);
    return 1;
  }
  let chain: ImageChain;
  const forceShare = options.forceShare || (spec?.kind === 'format' && forceShareOf(spec.options));
  try {
    chain = ImageChain.open(filename, {
      ...(spec !== undefined ? { spec } : {}),
      ...(options.format !== undefined ? { format: options.format } : {}),
      locks: { forceShare }, warnings,
    });
  } catch (error) {
    printWarnings(warnings);
    return openFailed(filename, error, false);
  }
  printWarnings(warnings);
  return printMap(options, (print) => chain.forEachEmitted(rangeOptions(options), print), () => chain.close());
}

/**
 * Writes the map as `emit` produces it (JSON or human, qemu-img's framing),
 * then closes the image; a failure part way is reported as qemu-img does.
 */
async function printMap(
  options: MapOptions, emit: (print: (emitted: EmittedEntry) => void) => Promise<void>, close: () => void,
): Promise<number> {
  const out = new BufferedWriter(1);
  try {
    out.write(options.json ? JSON_OPEN : HUMAN_HEADER);
    await emit((emitted) => printEntry(out, emitted, options));
    if (options.json) out.write(JSON_CLOSE);
    return 0;
  } catch (error) {
    out.flush();
    return mapFailed(error);
  } finally {
    out.flush();
    close();
  }
}

/** TLS options for the target's tls-creds (qemu's nbd_get_tls_creds), or a QEMU error. */
function tlsFor(target: NbdTarget, objects: Map<string, QemuObject>): tls.ConnectionOptions | undefined {
  if (target.tlsCreds === undefined) return undefined;
  const object = objects.get(target.tlsCreds);
  if (object === undefined) throw new NbdError(`No TLS credentials with id '${target.tlsCreds}'`, 'E_NBD_TLS');
  if (!object.type.startsWith('tls-creds-')) throw new NbdError(`Object with id '${target.tlsCreds}' is not TLS credentials`, 'E_NBD_TLS');
  if (!('ca' in object)) throw new NbdError(`imgaudit supports only tls-creds-x509 credentials for NBD, not ${object.type}`, 'E_NBD_TLS');
  if (object.endpoint !== 'client') throw new NbdError('Expecting TLS credentials with a client endpoint', 'E_NBD_TLS');
  return {
    ca: object.ca,
    ...(object.cert !== undefined ? { cert: object.cert } : {}),
    ...(object.key !== undefined ? { key: object.key } : {}),
  };
}

async function mapNbd(filename: string, spec: NodeSpec, target: NbdTarget, options: MapOptions): Promise<number> {
  const envTimeout = Number(process.env.IMGAUDIT_NBD_TIMEOUT_MS);
  const timeoutMs = Number.isFinite(envTimeout) && envTimeout > 0 ? envTimeout : NBD_TIMEOUT_MS;
  let image: NbdImage;
  try {
    const address = target.server.type === 'unix'
      ? { type: 'unix' as const, path: target.server.path }
      : { type: 'inet' as const, host: target.server.host, port: Number(target.server.port) };
    if (address.type === 'inet' && !(Number.isInteger(address.port) && address.port > 0 && address.port < 65536)) {
      throw new NbdError(`address resolution failed for ${address.host}:${String(address.port)}: Servname not supported for ai_socktype`, 'E_NBD_CONNECT');
    }
    // The NBD client loads only when an export is mapped (start-up time counts for local images).
    const { NbdImage: Image } = await import('../../map/nbd-map.js');
    const tlsHost = target.tlsHostname ?? (target.server.type === 'inet' ? target.server.host : undefined);
    image = await Image.open(spec, target, { address, tls: tlsFor(target, options.objects), tlsHost, timeoutMs });
  } catch (error) {
    return openFailed(filename, error, true);
  }
  const opened = image;
  return printMap(options, async (print) => {
    for await (const emitted of opened.emitted(rangeOptions(options))) print(emitted);
  }, () => opened.close());
}
