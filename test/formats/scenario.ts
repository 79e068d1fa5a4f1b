/**
 * Live differential scenarios for the native format readers: shell lines run
 * in a fresh directory with qemu-img/qemu-io, and map lines that compare
 * `node dist/cli.js map` with `qemu-img map` byte for byte (stdout, exit
 * code, stderr with `qemu-img: ` → `imgaudit: `), through the live tier's
 * harness (test/live/differential.ts).
 *
 * Line forms:
 *   map ARGS              compare `map --output=json ARGS` and `map --output=human ARGS`
 *   map= ARGS             compare `map ARGS` exactly as written
 *   mapopts [-f F] FILE   -s/-l windows (unaligned, at the end, past the end), both outputs
 *   patch FILE OFF FMT V  overwrite bytes (FMT: <I >I <Q >Q <H >H B, or hex / str with V as given)
 *   vhdsum FILE OFF       recompute the VHD footer checksum of the footer at OFF (negative: from the end)
 *   vhdx-dirty FILE       point the active VHDX header's log GUID at the log's first entry (needs replay)
 *   vmdk-footer FILE      move a sparse vmdk's header into a stream-optimized footer (gd_offset = -1)
 *   text FILE TEXT        write TEXT (verbatim, with \n escapes) to FILE
 *   anything else         a command that must exit 0
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, describe, it } from 'vitest';
import { join } from 'node:path';
import { crc32cWithoutField } from '../../src/formats/vhdx/crc32c.js';
import { vhdChecksum } from '../../src/formats/vpc/vpc-format.js';
import {
  type Comparison, type ReproStep, Workspace, assertAllMatch, cliMissing, compareMap, reproScript,
} from '../live/differential.js';
import { type Rng } from '../support/prng.js';
import { SETTLE_SHELL, runOk, settle, splitShell } from '../support/qemu.js';

export interface Scenario {
  id: string;
  title: string;
  lines: string[];
}

const OUTPUTS = ['--output=json', '--output=human'] as const;

/** -s/-l variants for an image of virtual size `v`. */
function optionVariants(v: number): string[][] {
  const third = Math.floor(v / 3 / 512) * 512;
  return [
    ['-s', String(third + 1234), '-l', String(Math.max(1, Math.floor(v / 3)))],
    ['-s', '64k', '--max-length=1M'],
    ['-s', String(Math.max(0, v - 1))],
    ['--start-offset', String(v + 4097)],
  ];
}

const FORMATS: Record<string, [number, (b: Buffer, v: bigint, at: number) => void]> = {
  '<I': [4, (b, v, at) => b.writeUInt32LE(Number(v), at)], '>I': [4, (b, v, at) => b.writeUInt32BE(Number(v), at)],
  '<H': [2, (b, v, at) => b.writeUInt16LE(Number(v), at)], '>H': [2, (b, v, at) => b.writeUInt16BE(Number(v), at)],
  '<Q': [8, (b, v, at) => b.writeBigUInt64LE(v, at)], '>Q': [8, (b, v, at) => b.writeBigUInt64BE(v, at)],
  B: [1, (b, v, at) => b.writeUInt8(Number(v), at)],
};

/** Bytes to write for `patch`: a number in a struct format, `hex` digits, or `str` text. */
function patchBytes(fmt: string, value: string): Buffer {
  if (fmt === 'hex') return Buffer.from(value, 'hex');
  if (fmt === 'str') return Buffer.from(value.replace(/\\0/g, '\0'), 'latin1');
  const spec = FORMATS[fmt];
  if (spec === undefined) throw new Error(`patch: unknown format ${fmt}`);
  const b = Buffer.alloc(spec[0]);
  spec[1](b, BigInt(value), 0);
  return b;
}

function writeAt(file: string, offset: number, bytes: Buffer): void {
  const image = readFileSync(file);
  const at = offset < 0 ? image.length + offset : offset;
  const grown = at + bytes.length > image.length ? Buffer.concat([image, Buffer.alloc(at + bytes.length - image.length)]) : image;
  bytes.copy(grown, at);
  writeFileSync(file, grown);
}

/** The VHDX header with the higher sequence number. */
function activeVhdxHeader(image: Buffer): number {
  const seq = (at: number) => image.readBigUInt64LE(at + 8);
  return seq(0x10000) > seq(0x20000) ? 0x10000 : 0x20000;
}

/** Runs a test-only step; returns its repro text. */
function runSpecial(words: string[], dir: string): string | null {
  const [kind, file, ...rest] = words;
  if (file === undefined) return null;
  const path = join(dir, file);
  switch (kind) {
    case 'patch': {
      const [offset, fmt, value] = rest as [string, string, string];
      const bytes = patchBytes(fmt, value);
      writeAt(path, Number(offset), bytes);
      return `python3 -c "import sys;f=open('${file}','r+b');f.seek(${Number(offset)}, 0 if ${Number(offset)}>=0 else 2);f.write(bytes.fromhex('${bytes.toString('hex')}'))"`;
    }
    case 'vhdsum': {
      const image = readFileSync(path);
      const offset = Number(rest[0]);
      const at = offset < 0 ? image.length + offset : offset;
      const footer = image.subarray(at, at + 512);
      footer.writeUInt32BE(vhdChecksum(footer), 64);
      writeFileSync(path, image);
      return `# (test step) recompute the VHD footer checksum at ${offset} of ${file}`;
    }
    case 'vhdx-dirty': {
      const image = readFileSync(path);
      const header = activeVhdxHeader(image);
      const logOffset = Number(image.readBigUInt64LE(header + 72));
      image.copy(image, header + 48, logOffset + 32, logOffset + 48); // the first log entry's GUID
      image.writeUInt32LE(crc32cWithoutField(image.subarray(header, header + 4096), 4), header + 4);
      writeFileSync(path, image);
      return `# (test step) set the active header's log GUID of ${file} to its first log entry's (a log to replay)`;
    }
    case 'vmdk-footer': {
      const image = readFileSync(path);
      const header = Buffer.from(image.subarray(0, 512));
      image.writeBigUInt64LE(0xffffffffffffffffn, 56);
      const marker = Buffer.alloc(512);
      marker.writeBigUInt64LE(1n, 0);
      marker.writeUInt32LE(3, 12); // MARKER_FOOTER
      const padded = Buffer.concat([image, Buffer.alloc((512 - (image.length % 512)) % 512)]);
      writeFileSync(path, Buffer.concat([padded, marker, header, Buffer.alloc(512)]));
      return `# (test step) ${file}: header gd_offset = -1, footer marker + header + end-of-stream marker appended`;
    }
    case 'text': {
      const text = (rest.join(' ')).replace(/\\n/g, '\n').replace(/\\t/g, '\t').replace(/\\r/g, '\r');
      writeFileSync(path, text, 'latin1');
      return `printf '%s' '${text.replace(/'/g, `'\\''`)}' > ${file}`;
    }
    default:
      return null;
  }
}

export interface ScenarioResult { comparisons: number }

/** Runs one scenario in its own directory of `ws`; throws with a repro script when a map differs. */
export async function runScenario(ws: Workspace, sc: Scenario): Promise<ScenarioResult> {
  const missing = cliMissing();
  if (missing) throw new Error(missing);
  const dir = ws.caseDir(sc.id);
  const steps: ReproStep[] = [];
  const pending: Promise<Comparison>[] = [];
  const done: Comparison[] = [];
  let dirty = true;
  for (const line of sc.lines) {
    // `text FILE CONTENT`: the content is taken verbatim (it holds quotes).
    const textLine = /^text (\S+) (.*)$/s.exec(line);
    const words = textLine ? ['text', textLine[1]!, textLine[2]!] : splitShell(line);
    const kind = words[0];
    if (kind === 'map' || kind === 'map=' || kind === 'mapopts') {
      if (dirty) {
        settle(dir);
        steps.push(SETTLE_SHELL);
        dirty = false;
      }
      const rest = words.slice(1);
      let argLists: string[][];
      if (kind === 'map=') argLists = [rest];
      else if (kind === 'map') argLists = OUTPUTS.map((o) => [o, ...rest]);
      else {
        const file = rest[rest.length - 1]!;
        const fmt = rest[0] === '-f' ? rest[1] : undefined;
        const info = JSON.parse(runOk(['qemu-img', 'info', '-U', '--output=json', ...(fmt ? ['-f', fmt] : []), file], dir)) as { 'virtual-size': number };
        argLists = optionVariants(info['virtual-size']).map((variant, k) => [...rest.slice(0, -1), OUTPUTS[k % 2]!, ...variant, file]);
      }
      for (const args of argLists) {
        steps.push({ map: args });
        pending.push(compareMap(dir, args));
      }
      continue;
    }
    done.push(...(await Promise.all(pending.splice(0))));
    const special = runSpecial(words, dir);
    if (special !== null) steps.push(special);
    else {
      steps.push(line);
      runOk(words, dir);
    }
    dirty = true;
  }
  done.push(...(await Promise.all(pending)));
  const script = reproScript(`imgaudit format scenario ${sc.id}: ${sc.title}`, steps);
  assertAllMatch(`scenario ${sc.id} (${sc.title})`, dir, script, done, ws);
  return { comparisons: done.length };
}

/** qemu-io with a list of -c operations, as one shell line. */
export const qio = (fmt: string, file: string, ops: readonly string[]): string =>
  `qemu-io -f ${fmt} ${ops.map((o) => `-c "${o}"`).join(' ')} ${file}`;

/** The Appendix A write pattern: 64 KiB of data at 64 KiB, `write -z` of 64 KiB at 1 MiB. */
export const APPENDIX_A = ['write -P 0x55 64k 64k', 'write -z 1M 64k'];

/**
 * Seeded random writes inside [0, size): data of random patterns and zero
 * writes, lengths from 512 B to a few clusters, aligned to 512 bytes
 * (qemu-io needs sector alignment for some formats).
 */
export function randomOps(rng: Rng, size: number, count: number, options: { zero?: boolean; granule?: number } = {}): string[] {
  const granule = options.granule ?? 512;
  const ops: string[] = [];
  const slots = Math.floor(size / granule);
  for (let i = 0; i < count && slots > 0; i++) {
    const start = rng.int(0, slots - 1);
    const length = Math.min(slots - start, rng.logInt(1, Math.max(1, Math.floor((512 * 1024) / granule))));
    const zero = options.zero !== false && rng.chance(0.25);
    ops.push(zero ? `write -z ${start * granule} ${length * granule}` : `write -P 0x${rng.int(1, 255).toString(16)} ${start * granule} ${length * granule}`);
  }
  return ops;
}

/** Registers `scenarios` as concurrent live tests (skipped without qemu-img/qemu-io). */
export function liveScenarios(title: string, scenarios: readonly Scenario[], hasQemu: boolean): void {
  describe.skipIf(!hasQemu)(title, () => {
    const ws = new Workspace();
    afterAll(() => ws.finish());
    for (const sc of scenarios) {
      it.concurrent(`${sc.id}: ${sc.title}`, { timeout: 300_000 }, async () => {
        await runScenario(ws, sc);
      });
    }
  });
}
