/**
 * `imgaudit map`: qemu-img map (QEMU 7.2) re-implemented on the native
 * reader. stdout is byte-identical to qemu-img's; messages are qemu-img's,
 * prefixed with "imgaudit: ". Returns the exit status (0 or 1).
 */
import { CorruptImageError, ImageOpenError, ImgauditError, UsageError } from '../../errors.js';
import { nativeAddonProblem } from '../../io/native-addon.js';
import { ImageChain } from '../../map/image-chain.js';
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


function sizeOption(name: string, text: string): bigint | null {
  const parsed = parseQemuSize(text);
  if (parsed.ok) return parsed.value;
  writeStderr(parsed.reason === 'range'
    ? `${PREFIX}Invalid ${name} specified. Must be between 0 and 9223372036854775807.\n`
    : `${PREFIX}Invalid ${name} specified. You may use k, M, G, T, P or E suffixes for\n` +
      `${PREFIX}kilobytes, megabytes, gigabytes, terabytes, petabytes and exabytes.\n`);
  return null;
}

export function runMap(args: readonly string[]): number {
  const parsed = getopt(args, MAP_OPTIONS);
  let format: string | undefined;
  let output: string | undefined;
  let start: bigint | undefined;
  let length: bigint | undefined;
  let compat: MapCompat = '7.2';
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
      case 'image-opts': writeStderr(`${PREFIX}--image-opts is not supported by imgaudit\n`); return 1;
      case 'compat':
        if (value !== '7.2' && value !== '8.2') {
          writeStderr(`${PREFIX}--compat must be 7.2 or 8.2\n`);
          return 1;
        }
        compat = value;
        break;
      default: break; // -U and --object: reading never takes locks or needs secrets
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
  return mapImage(parsed.operands[0]!, {
    json: output === 'json', format, start, length, compat,
  });
}

interface MapOptions { json: boolean; format: string | undefined; start: bigint | undefined; length: bigint | undefined; compat: MapCompat }

function mapImage(filename: string, options: MapOptions): number {
  const addonProblem = nativeAddonProblem();
  if (addonProblem !== null) {
    writeStderr(`${PREFIX}${addonProblem.message}\n`);
    return 1;
  }
  let chain: ImageChain;
  try {
    chain = ImageChain.open(filename, options.format === undefined ? {} : { format: options.format });
  } catch (error) {
    if (!(error instanceof ImgauditError)) throw error;
    // qemu-img prints a driver's error_report() lines as they happen, before the open error.
    const reports = error instanceof ImageOpenError ? error.reports.map((line) => `${PREFIX}${line}\n`).join('') : '';
    writeStderr(`${reports}${PREFIX}${error.message}\n`);
    return 1;
  }
  const out = new BufferedWriter(1);
  try {
    out.write(options.json ? JSON_OPEN : HUMAN_HEADER);
    const range = {
      ...(options.start !== undefined ? { startOffsetBytes: options.start } : {}),
      ...(options.length !== undefined ? { maxLengthBytes: options.length } : {}),
      humanRewrite: !options.json,
      mergeOnCompressed: options.compat === '8.2',
    };
    for (const emitted of chain.emitted(range)) {
      out.write(options.json ? jsonEntry(emitted, options.compat) : humanLine(emitted));
    }
    if (options.json) out.write(JSON_CLOSE);
    return 0;
  } catch (error) {
    out.flush();
    if (error instanceof HumanOutputRefused) {
      writeStderr(`${PREFIX}${error.message}\n`);
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
  } finally {
    out.flush();
    chain.close();
  }
}
