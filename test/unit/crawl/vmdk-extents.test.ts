/** The extent files a vmdk text descriptor names (what a scan leaves to the descriptor's image). */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { descriptorExtentPaths, isVmdkName } from '../../../src/crawl/vmdk-extents.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-vmdk-extents-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const descriptor = (createType: string, extents: string): string =>
  `# Disk DescriptorFile\nversion=1\nCID=12345678\nparentCID=ffffffff\ncreateType="${createType}"\n`
  + `# Extent description\n${extents}\n# The Disk Data Base\n#DDB\nddb.adapterType = "ide"\n`;

function write(name: string, content: string | Buffer): string {
  const file = path.join(root, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
  return file;
}

describe('descriptorExtentPaths', () => {
  it('resolves extent names against the descriptor directory, absolute names as they are, each once', () => {
    const file = write('vm/disk.vmdk', descriptor('twoGbMaxExtentSparse',
      'RW 4192256 SPARSE "disk-s001.vmdk"\nRW 4192256 SPARSE "disk-s002.vmdk"\nRW 8 SPARSE "disk-s001.vmdk"\n'
      + 'RW 2048 FLAT "../shared/base.img" 0\nRW 2048 FLAT "/abs/x-flat.vmdk" 0'));
    expect(descriptorExtentPaths(file)).toEqual([
      path.join(root, 'vm/disk-s001.vmdk'), path.join(root, 'vm/disk-s002.vmdk'), path.join(root, 'shared/base.img'), '/abs/x-flat.vmdk',
    ]);
  });

  it('reads the lines the vmdk reader opens: RW only, known types, up to an invalid line; no protocol names', () => {
    const file = write('lines.vmdk', descriptor('monolithicFlat',
      'RDONLY 2048 FLAT "ro.raw" 0\nNOACCESS 10 FLAT "na.raw" 0\nRW 8 ZERO "zero.raw"\nRW 0 FLAT "empty.raw" 0\n'
      + 'RW 2048 FLAT "nbd:host:1234" 0\nRW 2048 FLAT "ok.raw" 0\nRW 2048 FLAT "noofs.raw"\nRW 2048 FLAT "after.raw" 0'));
    expect(descriptorExtentPaths(file)).toEqual([path.join(root, 'ok.raw')]);
  });

  it('decodes UTF-8 names', () => {
    const file = write('utf8.vmdk', descriptor('monolithicFlat', 'RW 2048 FLAT "grün-flat.vmdk" 0'));
    expect(descriptorExtentPaths(file)).toEqual([path.join(root, 'grün-flat.vmdk')]);
  });

  it('is null for files that are not text descriptors QEMU opens', () => {
    const sparse = Buffer.alloc(4096);
    sparse.write('KDMV', 0, 'latin1');
    expect(descriptorExtentPaths(write('sparse.vmdk', sparse))).toBeNull();
    expect(descriptorExtentPaths(write('flat-flat.vmdk', Buffer.alloc(4096, 7)))).toBeNull();
    expect(descriptorExtentPaths(write('empty.vmdk', ''))).toBeNull();
    expect(descriptorExtentPaths(write('notype.vmdk', 'version=1\nCID=1\nparentCID=ffffffff\nRW 2048 FLAT "a.raw" 0\n'))).toBeNull();
    expect(descriptorExtentPaths(write('mono.vmdk', descriptor('monolithicSparse', 'RW 2048 SPARSE "mono.vmdk"')))).toBeNull();
    expect(descriptorExtentPaths(path.join(root, 'missing.vmdk'))).toBeNull();
    fs.mkdirSync(path.join(root, 'dir.vmdk'));
    expect(descriptorExtentPaths(path.join(root, 'dir.vmdk'))).toBeNull();
  });

  it('isVmdkName: the .vmdk extension in any case', () => {
    expect([isVmdkName('/a/b.vmdk'), isVmdkName('/a/B.VMDK'), isVmdkName('/a/b.vmdk.bak'), isVmdkName('/a/vmdk')]).toEqual([true, true, false, false]);
  });
});
