/**
 * Shared pieces of the native readers: checksums, QEMU's size arithmetic,
 * the paged table reader, probing scores, and the registry.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ImageOpenError, UnsupportedImageError } from '../../src/errors.js';
import { checkVirtualSize } from '../../src/formats/common/limits.js';
import { PAGE_BYTES, PagedTable } from '../../src/formats/common/paged-table.js';
import { formatByName, isMappedFormat, probeFormat } from '../../src/formats/registry.js';
import { crc32c, crc32cWithoutField } from '../../src/formats/vhdx/crc32c.js';
import { vhdChecksum } from '../../src/formats/vpc/vpc-format.js';
import { HostFile } from '../../src/io/host-file.js';
import { tempDir } from '../support/imgaudit.js';
import { seeds } from './fuzz-cases.js';

const dir = tempDir('formats-common');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const fileWith = (name: string, bytes: Buffer): HostFile => {
  fs.writeFileSync(path.join(dir, name), bytes);
  return HostFile.open(path.join(dir, name));
};

describe('checksums', () => {
  it('CRC-32C check value and chaining', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(crc32c(Buffer.from('56789'), crc32c(Buffer.from('1234')))).toBe(0xe3069283);
    const b = Buffer.from('ab\xff\xff\xff\xffcd', 'latin1');
    expect(crc32cWithoutField(b, 2)).toBe(crc32c(Buffer.from('ab\0\0\0\0cd', 'latin1')));
  });
  it('VHD footer checksum: one\'s complement of the byte sum without the checksum field', () => {
    const footer = Buffer.alloc(512, 1);
    footer.writeUInt32BE(0xdeadbeef, 64);
    expect(vhdChecksum(footer)).toBe(~508 >>> 0);
  });
});

describe("QEMU's virtual size arithmetic (int64 sectors)", () => {
  it('maps sizes up to 2^62', () => expect(checkVirtualSize('x', 2n ** 53n)).toBe(2 ** 62));
  it('fails the open like QEMU when sectors × 512 (mod 2^64) exceeds BDRV_MAX_LENGTH', () => {
    for (const s of [2n ** 54n - 1n, 2n ** 54n, 2n ** 63n - 1n, 2n ** 64n - 256n]) {
      expect(() => checkVirtualSize('x', s)).toThrow(ImageOpenError);
      expect(() => checkVirtualSize('x', s)).toThrow('Could not refresh total sector count: File too large');
    }
  });
  it('refuses what QEMU opens but cannot size (wrapped products) and what exceeds 2^62', () => {
    for (const s of [2n ** 55n, 2n ** 62n, 2n ** 63n, 2n ** 53n + 1n]) expect(() => checkVirtualSize('x', s)).toThrow(UnsupportedImageError);
  });
});

describe('paged tables', () => {
  const bytes = Buffer.alloc(3 * PAGE_BYTES);
  bytes.writeUInt32BE(0x11223344, PAGE_BYTES - 2); // straddles two pages
  bytes[2 * PAGE_BYTES + 100] = 7;
  const file = fileWith('paged.bin', bytes);
  afterAll(() => file.close());
  it('reads entries across page boundaries and past the end of the file (zeroes)', () => {
    const table = new PagedTable(file, 0, bytes.length);
    expect(table.u32(PAGE_BYTES - 2, false)).toBe(0x11223344);
    expect(table.u32(PAGE_BYTES - 2, true)).toBe(0x44332211);
    expect(table.u32(bytes.length + 4096, true)).toBe(0);
    expect(new PagedTable(file, Number.MAX_SAFE_INTEGER, 64).u32(0, true)).toBe(0);
  });
  it('finds the next non-zero entry, skipping zero pages', () => {
    const table = new PagedTable(file, 0, bytes.length);
    expect(table.firstNonZeroEntry(0, bytes.length / 4, 4)).toBe(Math.floor((PAGE_BYTES - 2) / 4));
    expect(table.firstNonZeroEntry(PAGE_BYTES / 4 + 1, bytes.length / 4, 4)).toBe(Math.floor((2 * PAGE_BYTES + 100) / 4));
    expect(table.firstNonZeroEntry((2 * PAGE_BYTES + 104) / 4, 1e9, 4)).toBe(1e9);
  });
});

describe('registry', () => {
  it('maps every format of the issue; probes each seed as its own format', () => {
    for (const name of ['qed', 'vdi', 'vpc', 'vmdk', 'qcow', 'parallels', 'vhdx'] as const) {
      expect(isMappedFormat(name)).toBe(true);
      expect(formatByName(name).name).toBe(name);
    }
    const expected: Record<string, string> = {
      'qed-small.qed': 'qed', 'vdi-dyn.vdi': 'vdi', 'vpc-dyn.vhd': 'vpc', 'vpc-fixed.vhd': 'raw', 'vmdk-sparse.vmdk': 'vmdk',
      'vmdk-flat.vmdk': 'vmdk', 'vmdk-flat-flat.vmdk': 'raw', 'qcow.qcow': 'qcow', 'parallels.parallels': 'parallels', 'vhdx.vhdx': 'vhdx',
    };
    for (const [name, format] of Object.entries(expected)) {
      const file = fileWith(name, seeds()[name]!);
      try {
        expect([name, probeFormat(file, name).name]).toEqual([name, format]);
      } finally {
        file.close();
      }
    }
  });
  it('formats still not mapped fail clearly', () => {
    expect(() => formatByName('bochs')).toThrow("imgaudit does not map 'bochs' images yet");
    expect(isMappedFormat('luks')).toBe(false);
  });
});
