/**
 * From image names to node specs (src/map/open/node-spec.ts,
 * nbd-address.ts): drivers, protocols, NBD addresses and their canonical
 * names, and QEMU's errors; unimplemented drivers are refused by name.
 */
import { describe, expect, it } from 'vitest';
import { ImageOpenError, UnsupportedImageError } from '../../../../src/errors.js';
import { imageSpec } from '../../../../src/map/open/node-spec.js';
import { parseQemuOpts } from '../../../../src/map/open/qemu-opts.js';

const byName = (name: string, format?: string) => imageSpec({ kind: 'filename', name }, format, false);
const byOpts = (text: string) => imageSpec({ kind: 'options', options: parseQemuOpts(text).options }, undefined, false);

/** The ImageOpenError `fn` throws, as [class, message]. */
function failure(fn: () => unknown): [string, string] {
  try {
    fn();
  } catch (error) {
    return [(error as Error).constructor.name, (error as Error).message];
  }
  return ['none', ''];
}

describe('imageSpec', () => {
  it('a plain name is a probed format over a file; -f names the driver; file: is stripped', () => {
    expect(byName('a.qcow2')).toMatchObject({ kind: 'format', driver: undefined, file: { kind: 'file', filename: 'a.qcow2', locking: true } });
    expect(byName('file:a.qcow2', 'raw')).toMatchObject({ kind: 'format', driver: 'raw', file: { filename: 'a.qcow2' } });
  });

  it('options: file.locking, a protocol driver at the top, force-share conflicts', () => {
    expect(byOpts('driver=qcow2,file.filename=a,file.locking=off')).toMatchObject({ file: { locking: false } });
    expect(byOpts('driver=file,filename=x')).toEqual({ kind: 'file', filename: 'x', locking: true });
    expect(() => imageSpec({ kind: 'options', options: parseQemuOpts('file.filename=a,force-share=off').options }, undefined, true))
      .toThrow('--force-share/-U conflicts with image options');
  });

  it.each([
    ['nbd+unix:///exp?socket=/run/s.sock', { type: 'unix', path: '/run/s.sock' }, 'exp', 'nbd+unix:///exp?socket=/run/s.sock'],
    ['nbd+unix://?socket=/s', { type: 'unix', path: '/s' }, undefined, 'nbd+unix://?socket=/s'],
    ['nbd:unix:/s:exportname=e', { type: 'unix', path: '/s' }, 'e', 'nbd+unix:///e?socket=/s'],
    ['nbd://host', { type: 'inet', host: 'host', port: '10809' }, undefined, 'nbd://host:10809'],
    ['nbd+tcp://[::1]:99/a%20b', { type: 'inet', host: '::1', port: '99' }, 'a b', 'nbd://::1:99/a b'],
    ['nbd:h:1234', { type: 'inet', host: 'h', port: '1234' }, undefined, 'nbd://h:1234'],
  ])('%s', (name, server, exportName, displayName) => {
    const spec = byName(name);
    const target = spec.kind === 'format' && spec.file.kind === 'nbd' ? spec.file.target : null;
    expect(target).toMatchObject({ server, exportName, displayName });
  });

  it.each([
    ['nbd://', 'No valid URL specified'], ['nbd:', 'NBD server address missing'], ['nbd+unix:///x', 'No valid URL specified'],
    ['nbd://h:p/x', 'No valid URL specified'], ['nbd:hostonly', "error parsing address 'hostonly'"],
    ['foo:bar', "Unknown protocol 'foo'"], ['json:{}', 'Must specify either driver or file'],
  ])('%s fails: %s', (name, message) => {
    expect(failure(() => byName(name))).toEqual([ImageOpenError.name, message]);
  });

  it.each([
    ['driver=foo', "Unknown driver 'foo'"], ['', 'Must specify either driver or file'],
    ['driver=qcow2', 'A block device must be specified for "file"'],
    ['driver=qcow2,file=n', "Cannot find device='n' nor node-name='n'"],
    ['driver=file', "The 'file' block driver requires a file name"],
    ['driver=file,filename=x,locking=maybe', 'invalid parameter value: maybe'],
    ['driver=nbd,path=/s,host=h', 'path and host may not be used at the same time'],
    ['driver=nbd,port=1', 'port may not be used without host'],
    ['driver=nbd,server.type=unix,server.path=/s,foo=1', "Block protocol 'nbd' doesn't support the option 'foo'"],
  ])('--image-opts %j fails: %s', (text, message) => {
    expect(failure(() => byOpts(text))).toEqual([ImageOpenError.name, message]);
  });

  it.each(['blkdebug', 'quorum', 'throttle', 'ssh', 'http', 'copy-on-read'])('the %s driver is refused by name', (driver) => {
    expect(() => byOpts(`driver=${driver},file.filename=x`)).toThrow(UnsupportedImageError);
    expect(() => byOpts(`driver=${driver},file.filename=x`)).toThrow(`imgaudit does not implement the '${driver}' block driver`);
  });
});
