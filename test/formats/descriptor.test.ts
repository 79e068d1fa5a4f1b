/**
 * The VMDK descriptor reader keeps QEMU 7.2's C-string quirks on purpose;
 * these cases pin them (each was observed with qemu-img 7.2, see
 * vmdk.live.test.ts for the live comparisons).
 */
import { describe, expect, it } from 'vitest';
import {
  descriptionValue, extentLines, hasCid, isVmdkDescriptor, parentFileNameHint, scanExtentLine,
} from '../../src/formats/vmdk/descriptor.js';
import { DESC_SIZE } from '../../src/formats/vmdk/spec.js';

const bytes = (text: string): Buffer => Buffer.from(text, 'latin1');
const desc = (text: string): Buffer => {
  const b = Buffer.alloc(DESC_SIZE + 1);
  b.write(text, 'latin1');
  return b;
};

describe('vmdk descriptor probe (version= line after comments and blank lines of spaces)', () => {
  it.each([
    ['version=1\n', true], ['version=3\r\n', true], ['# c\n   \nversion=2\n', true], ['  \r\nversion=1\n', true],
    ['\nversion=1\n', false], ['version=4\n', false], ['version=1', false], [' version=1\n', false], ['#only a comment', false],
  ])('%j → %s', (text, expected) => {
    expect(isVmdkDescriptor(bytes(text))).toBe(expected);
  });
});

describe('sscanf of extent lines', () => {
  it('reads five fields, across newlines', () => {
    expect(scanExtentLine('RW 2048\n FLAT\n "a b.raw" 7', 0)).toMatchObject({ matches: 5, access: 'RW', sectors: 2048n, type: 'FLAT', fileName: 'a b.raw', flatOffset: 7n });
  });
  it('stops at the first field that does not convert', () => {
    expect(scanExtentLine('RW x FLAT "a"', 0).matches).toBe(1);
    expect(scanExtentLine('RW 1 FLAT a', 0).matches).toBe(3);
    expect(scanExtentLine('RW 1 FLAT ""', 0).matches).toBe(3);
    expect(scanExtentLine('   ', 0).matches).toBe(-1);
  });
  it('%10s splits long words, names stop at 511 characters, numbers saturate', () => {
    expect(scanExtentLine('RWRWRWRWRW1 FLAT "a"', 0)).toMatchObject({ access: 'RWRWRWRWRW', sectors: 1n, matches: 4 });
    expect(scanExtentLine(`RW 1 FLAT "${'n'.repeat(600)}" 3`, 0)).toMatchObject({ matches: 4, fileName: 'n'.repeat(511) });
    expect(scanExtentLine('RW 99999999999999999999 FLAT "a"', 0).sectors).toBe(2n ** 63n - 1n);
  });
});

describe('extent lines as vmdk_parse_extents walks them', () => {
  const lines = (text: string) => [...extentLines(text)];
  it('a blank line before an extent line makes it count twice', () => {
    expect(lines('createType="x"\n\nRW 8 FLAT "a" 0\n')).toHaveLength(2);
    expect(lines('# Extent description\nRW 8 FLAT "a" 0\n')).toHaveLength(1);
  });
  it('skips other access modes, sizes ≤ 0 and unknown types; VMFS defaults to offset 0', () => {
    expect(lines('RDONLY 8 FLAT "a" 0\nNOACCESS 8 FLAT "a" 0\nRW 0 FLAT "a" 0\nRW -1 FLAT "a" 0\nRW 8 VMFS "v"\n'))
      .toEqual([{ type: 'VMFS', sectors: 8n, fileName: 'v', flatOffset: 0n }]);
  });
  it('reports the invalid line as QEMU prints it', () => {
    expect(lines('x\nRW 8 FLAT "a" -1\ny')).toEqual([{ invalidLine: 'RW 8 FLAT "a" -1' }]);
    expect(lines('x\n\nRW 8 FLAT "a"\n')).toEqual([{ invalidLine: '' }]);
    expect(lines('RW 8 SPARSE "s" 3\n')).toEqual([{ invalidLine: 'RW 8 SPARSE "s" 3' }]);
    expect(lines('RW 8 VMFS "s" 3\n')).toEqual([{ invalidLine: 'RW 8 VMFS "s" 3' }]);
  });
});

describe('keys found by substring', () => {
  it('createType="…" anywhere, into char[128]', () => {
    expect(descriptionValue('# createType="monolithicFlat"\n', 'createType', 128)).toBe('monolithicFlat');
    expect(descriptionValue('createType=x', 'createType', 128)).toBeNull();
    expect(descriptionValue('createType="abc', 'createType', 128)).toBeNull();
    expect(descriptionValue(`createType="${'t'.repeat(128)}"`, 'createType', 128)).toBeNull();
  });
  it('parentFileNameHint skips two characters whatever they are', () => {
    expect(parentFileNameHint(desc('parentFileNameHint="base.vmdk"\n'))).toBe('base.vmdk');
    expect(parentFileNameHint(desc('#parentFileNameHintXYbase.vmdk"'))).toBe('base.vmdk');
    expect(parentFileNameHint(desc('parentFileNameHint=""'))).toBe('');
    expect(parentFileNameHint(desc('parentFileNameHint="base.vmdk'))).toBe('invalid');
    expect(parentFileNameHint(desc('no hint here'))).toBeNull();
  });
  it('CID and parentCID need a hexadecimal number one character after the key', () => {
    expect(hasCid(desc('CID=fffffffe\nparentCID=ffffffff\n'), 'CID')).toBe(true);
    expect(hasCid(desc('XID=1\nparentCID=ffffffff\n'), 'CID')).toBe(true); // "CID" inside "parentCID"
    expect(hasCid(desc('CID=zz\n'), 'CID')).toBe(false);
    expect(hasCid(desc('parentCID=\n'), 'parentCID')).toBe(false);
    expect(hasCid(desc('CID=1\n'), 'parentCID')).toBe(false);
  });
});
