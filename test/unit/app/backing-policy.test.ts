/**
 * The scan's boundary for backing files, data files and extents: decided on
 * real paths (a symlink inside a root to a file outside, or a symlinked
 * directory plus `..`, is outside), regular files only, the real path
 * recorded; and, through ImageChain, the file opened is the file checked.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BackingOutsideRootsError, FileOutsideRootsError, isInsideRoots, rootsGuard } from '../../../src/app/backing-policy.js';
import { ImageChain } from '../../../src/map/image-chain.js';
import { buildQcow2 } from '../../support/qcow2-builder.js';

const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-backing-')));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const root = path.join(dir, 'root');
const outside = path.join(dir, 'outside');
fs.mkdirSync(path.join(root, 'sub'), { recursive: true });
fs.mkdirSync(path.join(outside, 'deep'), { recursive: true });
fs.writeFileSync(path.join(root, 'base.qcow2'), '');
fs.writeFileSync(path.join(outside, 'base.qcow2'), '');
fs.symlinkSync(root, path.join(dir, 'alias'));
fs.symlinkSync(path.join(outside, 'base.qcow2'), path.join(root, 'link-out.qcow2'));
fs.symlinkSync(path.join(outside, 'deep'), path.join(root, 'dirlink'));
fs.symlinkSync(path.join(root, 'base.qcow2'), path.join(root, 'link-in.qcow2'));
spawnSync('mkfifo', [path.join(root, 'fifo')]);

describe('isInsideRoots', () => {
  it('is exact on path boundaries', () => {
    expect(isInsideRoots('/srv/a/x.qcow2', ['/srv/a'])).toBe(true);
    expect(isInsideRoots('/srv/a', ['/srv/a'])).toBe(true);
    expect(isInsideRoots('/srv/ab/x.qcow2', ['/srv/a'])).toBe(false);
  });
});

describe('rootsGuard', () => {
  const guard = rootsGuard([root], false);
  const ino = (file: string) => fs.statSync(file).ino;

  it('allows files inside the roots, through symlinked paths too, and records their real path', () => {
    expect(guard(path.join(root, 'base.qcow2'), 'backing')).toMatchObject({ realPath: path.join(root, 'base.qcow2'), ino: ino(path.join(root, 'base.qcow2')) });
    expect(guard(path.join(dir, 'alias/base.qcow2'), 'backing')?.realPath).toBe(path.join(root, 'base.qcow2'));
    expect(guard(path.join(root, 'link-in.qcow2'), 'data-file')?.realPath).toBe(path.join(root, 'base.qcow2'));
    expect(guard(path.join(root, 'missing.qcow2'), 'backing')).toBeNull();
  });

  it('decides on the real path: a link inside a root to a file outside, or a linked directory plus .., is outside', () => {
    expect(() => guard(path.join(root, 'link-out.qcow2'), 'backing')).toThrow(BackingOutsideRootsError);
    expect(() => guard(path.join(root, 'link-out.qcow2'), 'backing'))
      .toThrow(`backing file '${root}/link-out.qcow2' (really '${outside}/base.qcow2') is outside the scanned roots`);
    // dirlink/.. is the parent of the link's target (outside), not `root`.
    expect(() => guard(`${root}/dirlink/../base.qcow2`, 'backing')).toThrow(`(really '${outside}/base.qcow2')`);
    expect(() => guard(path.join(outside, 'base.qcow2'), 'backing')).toThrow(BackingOutsideRootsError);
    expect(rootsGuard([root], true)(path.join(root, 'link-out.qcow2'), 'backing')?.realPath).toBe(path.join(outside, 'base.qcow2'));
  });

  it('gives data files and extents the same rules, with their own code', () => {
    expect(() => guard('/etc/passwd', 'data-file')).toThrow(FileOutsideRootsError);
    expect(() => guard('/etc/passwd', 'extent')).toThrow("vmdk extent '/etc/passwd' is outside the scanned roots");
    expect(() => guard(`${root}/../outside/base.qcow2`, 'extent')).toThrow(expect.objectContaining({ code: 'E_FILE_OUTSIDE_ROOTS' }));
  });

  it('refuses a FIFO or a device before anything opens it (even when outside files may be followed)', () => {
    expect(() => guard(path.join(root, 'fifo'), 'backing')).toThrow(expect.objectContaining({ code: 'E_NOT_REGULAR' }));
    expect(() => rootsGuard([root], true)('/dev/zero', 'data-file')).toThrow(expect.objectContaining({ code: 'E_NOT_REGULAR' }));
  });
});

describe('ImageChain with the guard', () => {
  it('stores the real path of a backing file reached through a symlinked directory and ..', () => {
    const real = path.join(dir, 'chain-real');
    fs.mkdirSync(path.join(real, 'a/b'), { recursive: true });
    fs.writeFileSync(path.join(real, 'a/base.raw'), Buffer.alloc(65536));
    fs.symlinkSync(path.join(real, 'a/b'), path.join(real, 'vmlink'));
    // vmlink/../base.raw is a/base.raw to the kernel; the text 'real/base.raw' names nothing.
    buildQcow2(path.join(real, 'top.qcow2'), { virtualSize: 65536, backing: { name: 'vmlink/../base.raw', format: 'raw' } });
    const chain = ImageChain.open(path.join(real, 'top.qcow2'), { guardFile: rootsGuard([real], false) });
    try {
      expect(chain.layers[1]!.file.path).toBe(path.join(real, 'a/base.raw'));
    } finally {
      chain.close();
    }
  });
});
