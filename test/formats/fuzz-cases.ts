/**
 * Mutated images for the format fuzzers (test/fuzz/formats-*.fuzz.test.ts):
 * valid seeds made by qemu-img (seeds/seeds.json.gz, see make-seeds.sh),
 * then one to three mutations — header fields set to values that break
 * parsers, table entries pointed anywhere, descriptor text rewritten, bytes
 * flipped, the file cut or grown — with checksums (VHD footer, VHDX
 * headers, region table and log entries) often recomputed so that the
 * mutation reaches the code behind them.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { crc32c, crc32cWithoutField } from '../../src/formats/vhdx/crc32c.js';
import { vhdChecksum } from '../../src/formats/vpc/vpc-format.js';
import type { Rng } from '../support/prng.js';

export type FuzzFormat = 'qed' | 'vdi' | 'vpc' | 'vmdk' | 'qcow' | 'parallels' | 'vhdx';

const SEEDS_FILE = fileURLToPath(new URL('./seeds/seeds.json.gz', import.meta.url));
let seedCache: Record<string, Buffer> | undefined;

/** qemu-img's output for one map of a seed. */
export interface RecordedMap { stdout: string; stderr: string; code: number }
interface SeedFile { qemuImg: string; seeds: Record<string, string>; maps: Record<string, Record<'json' | 'human', RecordedMap>> }
let seedFile: SeedFile | undefined;

function load(): SeedFile {
  seedFile ??= JSON.parse(zlib.gunzipSync(fs.readFileSync(SEEDS_FILE)).toString('utf8')) as SeedFile;
  return seedFile;
}

/** The seed images by file name. */
export function seeds(): Record<string, Buffer> {
  seedCache ??= Object.fromEntries(Object.entries(load().seeds).map(([name, b64]) => [name, Buffer.from(b64, 'base64')]));
  return seedCache;
}

/** qemu-img's recorded maps of the seeds (by file name, then output format), and its version. */
export function recordedMaps(): { qemuImg: string; maps: SeedFile['maps'] } {
  const file = load();
  return { qemuImg: file.qemuImg, maps: file.maps };
}

/** A field or table entry: where, how wide, which byte order. */
interface Slot { at: number; width: 1 | 2 | 4 | 8; le: boolean; name: string }

const U64_MAX = (1n << 64n) - 1n;

function readUInt(b: Buffer, s: Slot): bigint {
  if (s.at < 0 || s.at + s.width > b.length) return 0n;
  if (s.width === 8) return s.le ? b.readBigUInt64LE(s.at) : b.readBigUInt64BE(s.at);
  if (s.width === 4) return BigInt(s.le ? b.readUInt32LE(s.at) : b.readUInt32BE(s.at));
  if (s.width === 2) return BigInt(s.le ? b.readUInt16LE(s.at) : b.readUInt16BE(s.at));
  return BigInt(b[s.at]!);
}

function writeUInt(b: Buffer, s: Slot, value: bigint): void {
  if (s.at < 0 || s.at + s.width > b.length) return;
  const v = value & ((1n << BigInt(8 * s.width)) - 1n);
  if (s.width === 8) { if (s.le) b.writeBigUInt64LE(v, s.at); else b.writeBigUInt64BE(v, s.at); }
  else if (s.width === 4) { if (s.le) b.writeUInt32LE(Number(v), s.at); else b.writeUInt32BE(Number(v), s.at); }
  else if (s.width === 2) { if (s.le) b.writeUInt16LE(Number(v), s.at); else b.writeUInt16BE(Number(v), s.at); }
  else b[s.at] = Number(v);
}

/** Values that break parsers: boundaries, powers of two, the file's own sizes and offsets. */
function interesting(rng: Rng, image: Buffer, original: bigint, unit: number): bigint {
  const size = BigInt(image.length);
  const u = BigInt(unit);
  const pool = [
    0n, 1n, 2n, 3n, 4n, 7n, 8n, 9n, 16n, 63n, 64n, 255n, 511n, 512n, 513n, 1023n, 1024n, 4095n, 4096n,
    65535n, 65536n, 1n << 20n, u, u - 1n, u + 1n, size, size - 1n, size + 1n, size / 512n, size * 2n,
    original + 1n, original - 1n, original * 2n, original / 2n, original + u, original ^ 0x80n,
    0x7fffffffn, 0x80000000n, 0xfffffffen, 0xffffffffn, 1n << 32n, (1n << 53n) - 1n, 1n << 53n, 1n << 62n,
    1n << 63n, U64_MAX, U64_MAX - 1n, BigInt(rng.nextU32()), (BigInt(rng.nextU32()) << 32n) | BigInt(rng.nextU32()),
    BigInt(rng.int(0, Math.max(0, Math.floor(image.length / unit)))) * u,
  ];
  const value = rng.pick(pool);
  return value < 0n ? 0n : value & U64_MAX;
}

// ------------------------------------------------------------------ layouts

const le = (at: number, width: Slot['width'], name: string): Slot => ({ at, width, le: true, name });
const be = (at: number, width: Slot['width'], name: string): Slot => ({ at, width, le: false, name });

/** Table entries (at most `max` of them, spread over the table) as slots. */
function tableSlots(at: number, entries: number, width: 4 | 8, little: boolean, name: string, image: Buffer, max = 256): Slot[] {
  const slots: Slot[] = [];
  if (!Number.isSafeInteger(at) || at < 0 || at >= image.length) return slots;
  const n = Math.min(entries, Math.floor((image.length - at) / width));
  const step = Math.max(1, Math.floor(n / max));
  for (let i = 0; i < n; i += step) slots.push({ at: at + i * width, width, le: little, name: `${name}[${i}]` });
  return slots;
}

interface Layout { fields: Slot[]; tables: Slot[]; unit: number }

function qedLayout(b: Buffer): Layout {
  const fields = [le(4, 4, 'cluster_size'), le(8, 4, 'table_size'), le(12, 4, 'header_size'), le(16, 8, 'features'),
    le(24, 8, 'compat'), le(32, 8, 'autoclear'), le(40, 8, 'l1_table_offset'), le(48, 8, 'image_size'),
    le(56, 4, 'backing_name_offset'), le(60, 4, 'backing_name_size')];
  const cs = b.readUInt32LE(4);
  const tableBytes = cs * b.readUInt32LE(8);
  const l1 = Number(b.readBigUInt64LE(40));
  const tables = tableSlots(l1, tableBytes / 8, 8, true, 'L1', b, 64);
  for (const e of tableSlots(l1, tableBytes / 8, 8, true, 'L1', b, 4096)) {
    const l2 = Number(readUInt(b, e));
    if (l2 > 1 && l2 < b.length) tables.push(...tableSlots(l2, tableBytes / 8, 8, true, `L2@${l2}`, b, 64));
  }
  return { fields, tables, unit: cs };
}

function vdiLayout(b: Buffer): Layout {
  const fields = [le(0x44, 4, 'version'), le(0x48, 4, 'header_size'), le(0x4c, 4, 'image_type'), le(0x154, 4, 'offset_bmap'),
    le(0x158, 4, 'offset_data'), le(0x168, 4, 'sector_size'), le(0x170, 8, 'disk_size'), le(0x178, 4, 'block_size'),
    le(0x17c, 4, 'block_extra'), le(0x180, 4, 'blocks_in_image'), le(0x184, 4, 'blocks_allocated'),
    le(0x1a8, 4, 'uuid_link'), le(0x1b8, 4, 'uuid_parent')];
  return { fields, tables: tableSlots(b.readUInt32LE(0x154), b.readUInt32LE(0x180), 4, true, 'bmap', b), unit: 1 << 20 };
}

function vpcLayout(b: Buffer): Layout {
  const footer = (at: number, tag: string) => [be(at + 8, 4, `${tag}.features`), be(at + 12, 4, `${tag}.version`),
    be(at + 16, 8, `${tag}.data_offset`), be(at + 28, 4, `${tag}.creator_app`), be(at + 48, 8, `${tag}.current_size`),
    be(at + 56, 2, `${tag}.cylinders`), be(at + 58, 1, `${tag}.heads`), be(at + 59, 1, `${tag}.sectors`), be(at + 60, 4, `${tag}.type`)];
  const fields = [...footer(0, 'footer0'), ...footer(b.length - 512, 'footerEnd')];
  const dyn = b.toString('latin1', 0, 8) === 'conectix' ? Number(b.readBigUInt64BE(16)) : -1;
  const tables: Slot[] = [];
  if (dyn > 0 && dyn + 1024 <= b.length) {
    fields.push(be(dyn + 8, 8, 'dyn.data_offset'), be(dyn + 16, 8, 'dyn.table_offset'), be(dyn + 28, 4, 'dyn.max_table_entries'), be(dyn + 32, 4, 'dyn.block_size'));
    tables.push(...tableSlots(Number(b.readBigUInt64BE(dyn + 16)), b.readUInt32BE(dyn + 28), 4, false, 'BAT', b));
  }
  return { fields, tables, unit: 512 };
}

function vmdkLayout(b: Buffer): Layout {
  if (b.readUInt32BE(0) !== 0x4b444d56) return { fields: [], tables: [], unit: 512 };
  const fields = [le(4, 4, 'version'), le(8, 4, 'flags'), le(12, 8, 'capacity'), le(20, 8, 'granularity'), le(28, 8, 'desc_offset'),
    le(36, 8, 'desc_size'), le(44, 4, 'num_gtes_per_gt'), le(48, 8, 'rgd_offset'), le(56, 8, 'gd_offset'), le(64, 8, 'grain_offset'),
    le(77, 2, 'compress_algorithm')];
  const gtes = b.readUInt32LE(44);
  const gd = Number(b.readBigUInt64LE(56)) * 512;
  const gdEntries = Math.ceil(Number(b.readBigUInt64LE(12)) / Math.max(1, gtes * Number(b.readBigUInt64LE(20))));
  const tables = tableSlots(gd, gdEntries, 4, true, 'GD', b, 64);
  for (const e of tableSlots(gd, gdEntries, 4, true, 'GD', b, 64)) {
    const gt = Number(readUInt(b, e)) * 512;
    if (gt > 0 && gt < b.length) tables.push(...tableSlots(gt, gtes, 4, true, `GT@${gt}`, b, 64));
  }
  return { fields, tables, unit: Number(b.readBigUInt64LE(20)) * 512 };
}

function qcowLayout(b: Buffer): Layout {
  const fields = [be(4, 4, 'version'), be(8, 8, 'backing_file_offset'), be(16, 4, 'backing_file_size'), be(24, 8, 'size'),
    be(32, 1, 'cluster_bits'), be(33, 1, 'l2_bits'), be(36, 4, 'crypt_method'), be(40, 8, 'l1_table_offset')];
  const shift = b[32]! + b[33]!;
  const l1 = Number(b.readBigUInt64BE(40));
  const l1Entries = Number((b.readBigUInt64BE(24) + (1n << BigInt(shift)) - 1n) >> BigInt(shift));
  const tables = tableSlots(l1, l1Entries, 8, false, 'L1', b, 64);
  for (const e of tableSlots(l1, l1Entries, 8, false, 'L1', b, 64)) {
    const l2 = Number(readUInt(b, e));
    if (l2 > 0 && l2 < b.length) tables.push(...tableSlots(l2, 2 ** b[33]!, 8, false, `L2@${l2}`, b, 64));
  }
  return { fields, tables, unit: 2 ** b[32]! };
}

function parallelsLayout(b: Buffer): Layout {
  const fields = [le(16, 4, 'version'), le(20, 4, 'heads'), le(24, 4, 'cylinders'), le(28, 4, 'tracks'), le(32, 4, 'bat_entries'),
    le(36, 8, 'nb_sectors'), le(44, 4, 'inuse'), le(48, 4, 'data_off'), le(52, 4, 'flags'), le(56, 8, 'ext_off')];
  return { fields, tables: tableSlots(64, b.readUInt32LE(32), 4, true, 'BAT', b), unit: b.readUInt32LE(28) * 512 };
}

function vhdxLayout(b: Buffer): Layout {
  const fields: Slot[] = [];
  for (const h of [0x10000, 0x20000]) {
    fields.push(le(h + 8, 8, `h${h >> 16}.sequence`), le(h + 48, 4, `h${h >> 16}.log_guid`), le(h + 64, 2, `h${h >> 16}.log_version`),
      le(h + 66, 2, `h${h >> 16}.version`), le(h + 68, 4, `h${h >> 16}.log_length`), le(h + 72, 8, `h${h >> 16}.log_offset`));
  }
  const rt = 0x30000;
  fields.push(le(rt + 8, 4, 'rt.count'));
  for (let i = 0; i < 3; i++) fields.push(le(rt + 16 + 32 * i, 4, `rt[${i}].guid`), le(rt + 32 + 32 * i, 8, `rt[${i}].offset`), le(rt + 40 + 32 * i, 4, `rt[${i}].length`), le(rt + 44 + 32 * i, 4, `rt[${i}].bits`));
  const tables: Slot[] = [];
  for (let i = 0; i < b.readUInt32LE(rt + 8) && i < 4; i++) {
    const guid = b.toString('hex', rt + 16 + 32 * i, rt + 32 + 32 * i);
    const offset = Number(b.readBigUInt64LE(rt + 32 + 32 * i));
    if (offset <= 0 || offset >= b.length) continue;
    if (guid === '06a27c8b90479a4bb8fe575f050f886e') { // metadata
      fields.push(le(offset + 10, 2, 'md.count'));
      for (let k = 0; k < 6; k++) {
        fields.push(le(offset + 32 + 32 * k, 4, `md[${k}].guid`), le(offset + 48 + 32 * k, 4, `md[${k}].offset`), le(offset + 56 + 32 * k, 4, `md[${k}].bits`));
        const item = offset + b.readUInt32LE(offset + 48 + 32 * k);
        if (item < b.length - 8) fields.push(le(item, 4, `md[${k}].value`), le(item, 8, `md[${k}].value64`));
      }
    } else {
      tables.push(...tableSlots(offset, b.readUInt32LE(rt + 40 + 32 * i) / 8, 8, true, 'BAT', b, 32));
    }
  }
  const logOffset = Number(b.readBigUInt64LE(0x20000 + 72));
  if (logOffset > 0 && logOffset + 4096 < b.length) {
    for (const [o, w, n] of [[8, 4, 'entry_length'], [12, 4, 'tail'], [16, 8, 'sequence'], [24, 4, 'descriptors'], [32, 4, 'guid'],
      [64, 4, 'desc0.signature'], [72, 8, 'desc0.length'], [80, 8, 'desc0.file_offset'], [88, 8, 'desc0.sequence']] as const) {
      fields.push(le(logOffset + o, w, `log.${n}`));
    }
  }
  return { fields, tables, unit: 1 << 20 };
}

const LAYOUTS: Record<FuzzFormat, (b: Buffer) => Layout> = {
  qed: qedLayout, vdi: vdiLayout, vpc: vpcLayout, vmdk: vmdkLayout, qcow: qcowLayout, parallels: parallelsLayout, vhdx: vhdxLayout,
};

/** Seeds per format, and other files a case needs next to it (written once per run). */
export const SEEDS: Record<FuzzFormat, string[]> = {
  qed: ['qed-small.qed', 'qed-backing.qed'],
  vdi: ['vdi-dyn.vdi', 'vdi-static.vdi'],
  vpc: ['vpc-dyn.vhd', 'vpc-fixed.vhd'],
  vmdk: ['vmdk-sparse.vmdk', 'vmdk-stream.vmdk', 'vmdk-child.vmdk', 'vmdk-flat.vmdk'],
  qcow: ['qcow.qcow', 'qcow-backing.qcow'],
  parallels: ['parallels.parallels'],
  vhdx: ['vhdx.vhdx', 'vhdx-dirty.vhdx'],
};

/** Writes the files every case of `format` may refer to (backing files, extents, parents) into `dir`. */
export function writeCompanions(dir: string): void {
  fs.writeFileSync(path.join(dir, 'fz-base.raw'), Buffer.alloc(3 << 20, 0x44));
  const all = seeds();
  for (const name of ['vmdk-sparse.vmdk', 'vmdk-flat-flat.vmdk']) fs.writeFileSync(path.join(dir, name), all[name]!);
}

// ------------------------------------------------------------------ mutations

function fixChecksums(format: FuzzFormat, b: Buffer): void {
  if (format === 'vpc') {
    for (const at of [0, b.length - 512]) {
      if (at >= 0 && at + 512 <= b.length && b.toString('latin1', at, at + 8) === 'conectix') {
        b.writeUInt32BE(vhdChecksum(b.subarray(at, at + 512)), at + 64);
      }
    }
  } else if (format === 'vhdx' && b.length >= 0x40000) {
    for (const h of [0x10000, 0x20000]) b.writeUInt32LE(crc32cWithoutField(b.subarray(h, h + 4096), 4), h + 4);
    b.writeUInt32LE(crc32cWithoutField(b.subarray(0x30000, 0x40000), 4), 0x30000 + 4);
    const log = Number(b.readBigUInt64LE(0x20000 + 72));
    if (log > 0 && log + 4096 <= b.length) {
      const length = b.readUInt32LE(log + 8);
      if (length > 0 && length % 4096 === 0 && log + length <= b.length) {
        const entry = Buffer.from(b.subarray(log, log + length));
        entry.fill(0, 4, 8);
        b.writeUInt32LE(crc32c(entry), log + 4);
      }
    }
  }
}

/** Points the active VHDX header's log GUID at the first log entry's (a log that needs replay). */
function vhdxDirty(b: Buffer): string {
  if (b.length < 0x30000) return 'dirty:short';
  const seq = (h: number) => b.readBigUInt64LE(h + 8);
  const h = seq(0x10000) > seq(0x20000) ? 0x10000 : 0x20000;
  const log = Number(b.readBigUInt64LE(h + 72));
  if (log + 48 > b.length) return 'dirty:no-log';
  b.copy(b, h + 48, log + 32, log + 48);
  return 'dirty';
}

const NAMES = ['fz-base.raw', 'vmdk-sparse.vmdk', 'vmdk-flat-flat.vmdk', 'case.vmdk', 'missing.vmdk', '', 'x'.repeat(600),
  '../fz-base.raw', '/nonexistent/x.vmdk', 'nbd:host:1', 'a"b', 'sub dir/x'];

/** Rewrites the descriptor text (embedded in a sparse file at sector 1, or a whole descriptor file). */
function mutateDescriptor(rng: Rng, b: Buffer): { what: string; image: Buffer } {
  const sparse = b.length >= 4 && b.readUInt32BE(0) === 0x4b444d56;
  const start = sparse ? 512 : 0;
  const area = sparse ? Math.min(b.length, 512 + 20 * 512) : b.length;
  if (area <= start) return { what: 'desc:none', image: b };
  let end = b.indexOf(0, start);
  if (end < 0 || end > area) end = area;
  let text = b.toString('latin1', start, end);
  const lines = text.split('\n');
  const op = rng.int(0, 9);
  const pick = () => rng.int(0, Math.max(0, lines.length - 1));
  let what: string;
  switch (op) {
    case 0: { const i = pick(); lines.splice(i, 0, ''); what = `blank@${i}`; break; }
    case 1: { const i = pick(); lines.splice(i, 1); what = `drop@${i}`; break; }
    case 2: { const i = pick(); lines.splice(i, 0, lines[i] ?? ''); what = `dup@${i}`; break; }
    case 3: {
      const i = pick();
      lines[i] = (lines[i] ?? '').replace(/-?\d+/, String(interesting(rng, b, 0n, 512)));
      what = `number@${i}`;
      break;
    }
    case 4: {
      const word = rng.pick(['RW', 'RDONLY', 'NOACCESS', 'FLAT', 'SPARSE', 'VMFS', 'VMFSSPARSE', 'SESPARSE', 'ZERO', 'rw']);
      const i = pick();
      lines[i] = (lines[i] ?? '').replace(/\b(RW|RDONLY|NOACCESS|FLAT|SPARSE|VMFS)\b/, word);
      what = `word@${i}=${word}`;
      break;
    }
    case 5: {
      const type = rng.pick(['monolithicFlat', 'monolithicSparse', 'twoGbMaxExtentSparse', 'twoGbMaxExtentFlat', 'vmfs', 'vmfsSparse', 'seSparse', 'streamOptimized', 'x'.repeat(200), '']);
      text = lines.join('\n').replace(/createType="[^"]*"/, `createType="${type}"`);
      return writeDescriptor(b, start, area, text, sparse, `createType=${type.slice(0, 20)}`);
    }
    case 6: {
      const name = rng.pick(NAMES);
      lines.splice(pick(), 0, rng.chance(0.8) ? `parentFileNameHint="${name}"` : `parentFileNameHint="${name}`);
      what = `parent=${name.slice(0, 20)}`;
      break;
    }
    case 7: {
      const name = rng.pick(NAMES);
      const line = `${rng.pick(['RW', 'RW', 'RDONLY'])} ${rng.pick([1, 2048, 4096, 0, -1, 2 ** 40])} ${rng.pick(['FLAT', 'SPARSE', 'VMFS', 'VMFSSPARSE'])} "${name}"${rng.chance(0.6) ? ` ${rng.pick([0, 1, 2048, -3])}` : ''}`;
      lines.splice(pick(), 0, line);
      what = `extent:${line.slice(0, 40)}`;
      break;
    }
    case 8: { text = lines.join('\n').replace(rng.pick([/CID=\w+/, /parentCID=\w+/, /version=\d/]), ''); return writeDescriptor(b, start, area, text, sparse, 'drop-key'); }
    default: {
      const i = pick();
      lines[i] = (lines[i] ?? '').replace(/"/, rng.pick(['', '""', '\r', '\t']));
      what = `quote@${i}`;
    }
  }
  return writeDescriptor(b, start, area, lines.join('\n'), sparse, what);
}

function writeDescriptor(b: Buffer, start: number, area: number, text: string, sparse: boolean, what: string): { what: string; image: Buffer } {
  const bytes = Buffer.from(text, 'latin1');
  if (!sparse) return { what: `desc-file:${what}`, image: bytes };
  b.fill(0, start, area);
  bytes.copy(b, start, 0, Math.min(bytes.length, area - start));
  return { what: `desc:${what}`, image: b };
}

export interface FuzzCase { seed: string; image: Buffer; what: string[] }

/** One mutated image of `format`. */
export function mutate(rng: Rng, format: FuzzFormat): FuzzCase {
  const seed = rng.pick(SEEDS[format]);
  let image: Buffer = Buffer.from(seeds()[seed]!);
  const what: string[] = [];
  const count = rng.weighted([[1, 6], [2, 3], [3, 1]] as const);
  const text = format === 'vmdk' && !(image.length >= 4 && image.readUInt32BE(0) === 0x4b444d56);
  for (let i = 0; i < count; i++) {
    // Layouts read the image zero-padded (it may have been cut short); slots past its end are skipped.
    const padded = image.length >= 0x41000 ? image : Buffer.concat([image, Buffer.alloc(0x41000 - image.length)]);
    const layout = text ? { fields: [], tables: [], unit: 512 } : LAYOUTS[format](padded);
    const family = rng.weighted([
      ['field', layout.fields.length > 0 ? 5 : 0], ['table', layout.tables.length > 0 ? 4 : 0], ['flip', 2], ['resize', 1],
      ['desc', format === 'vmdk' ? 4 : 0], ['dirty', format === 'vhdx' ? 1 : 0],
    ] as const);
    switch (family) {
      case 'field':
      case 'table': {
        const slot = rng.pick(family === 'field' ? layout.fields : layout.tables);
        const value = interesting(rng, image, readUInt(image, slot), layout.unit || 512);
        writeUInt(image, slot, value);
        what.push(`${slot.name}=0x${value.toString(16)}`);
        break;
      }
      case 'flip': {
        const n = rng.int(1, 8);
        for (let k = 0; k < n && image.length > 0; k++) {
          const at = rng.chance(0.7) ? rng.int(0, Math.min(image.length, 0x40000) - 1) : rng.int(0, image.length - 1);
          image[at] = image[at]! ^ (1 << rng.int(0, 7));
        }
        what.push(`flip×${n}`);
        break;
      }
      case 'resize': {
        const size = rng.pick([0, 1, 511, 512, 1023, rng.int(0, image.length), image.length - 512, image.length + rng.int(1, 1 << 20)]);
        const resized = Buffer.alloc(Math.max(0, size));
        image.copy(resized, 0, 0, Math.min(image.length, resized.length));
        image = resized;
        what.push(`size=${image.length}`);
        break;
      }
      case 'desc': {
        const result = mutateDescriptor(rng, image);
        image = result.image;
        what.push(result.what);
        break;
      }
      case 'dirty':
        what.push(vhdxDirty(image));
        break;
    }
  }
  if ((format === 'vpc' || format === 'vhdx') && rng.chance(0.7)) {
    fixChecksums(format, image);
    what.push('checksums fixed');
  }
  return { seed, image, what };
}
