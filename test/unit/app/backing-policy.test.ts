/** Which backing files a scan opens: inside the roots (also through symlinks), regular, protocols left alone. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BackingOutsideRootsError, backingPolicy, isInsideRoots } from '../../../src/app/backing-policy.js';

const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-backing-')));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const root = path.join(dir, 'root');
const outside = path.join(dir, 'outside');
fs.mkdirSync(root);
fs.mkdirSync(outside);
fs.writeFileSync(path.join(root, 'base.qcow2'), '');
fs.writeFileSync(path.join(outside, 'base.qcow2'), '');
fs.symlinkSync(root, path.join(dir, 'alias'));
spawnSync('mkfifo', [path.join(root, 'fifo')]);

describe('isInsideRoots', () => {
  it('is lexical and exact on path boundaries', () => {
    expect(isInsideRoots('/srv/a/x.qcow2', ['/srv/a'])).toBe(true);
    expect(isInsideRoots('/srv/a/sub/../x.qcow2', ['/srv/a'])).toBe(true);
    expect(isInsideRoots('/srv/ab/x.qcow2', ['/srv/a'])).toBe(false);
    expect(isInsideRoots('/srv/a/../b/x.qcow2', ['/srv/a'])).toBe(false);
  });
});

describe('backingPolicy', () => {
  const check = backingPolicy([root], false);

  it('allows backing files inside the roots, also through a symlinked path', () => {
    expect(() => check(path.join(root, 'base.qcow2'))).not.toThrow();
    expect(() => check(path.join(dir, 'alias/base.qcow2'))).not.toThrow();
    expect(() => check(path.join(root, 'missing.qcow2'))).not.toThrow();
  });

  it('refuses backing files outside the roots unless allowed', () => {
    expect(() => check(path.join(outside, 'base.qcow2'))).toThrow(BackingOutsideRootsError);
    expect(() => check(path.join(root, '../outside/base.qcow2'))).toThrow(/outside the scanned roots/);
    expect(() => backingPolicy([root], true)(path.join(outside, 'base.qcow2'))).not.toThrow();
  });

  it('refuses a FIFO before anything opens it, and leaves protocol names to the map engine', () => {
    expect(() => check(path.join(root, 'fifo'))).toThrow(expect.objectContaining({ code: 'E_NOT_REGULAR' }));
    expect(() => check('json:{"driver":"qcow2"}')).not.toThrow();
    expect(() => check('nbd://server/export')).not.toThrow();
  });
});
