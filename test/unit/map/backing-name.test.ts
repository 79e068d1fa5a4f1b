/**
 * Backing names resolved like QEMU 7.2 (src/map/backing-name.ts; research
 * §2.4, block.c path_has_protocol / path_combine): a protocol is a ':' before
 * any '/', absolute and protocol names are verbatim, relative names join the
 * overlay's directory *string* with no normalisation.
 */
import { describe, expect, it } from 'vitest';
import { hasProtocol, protocolOf, resolveBackingName } from '../../../src/map/backing-name.js';

describe('protocol detection', () => {
  it.each([
    ['foo:bar', 'foo'], ['json:{"file":{"filename":"/a"}}', 'json'], ['nbd://host:10809/x', 'nbd'],
    ['file:base.qcow2', 'file'], ['nbd+unix:///x?socket=/s', 'nbd+unix'], [':x', ''], ['a:b/c', 'a'], ['C:\\x', 'C'],
  ])('%s has protocol %j', (name, protocol) => {
    expect(hasProtocol(name)).toBe(true);
    expect(protocolOf(name)).toBe(protocol);
  });

  it.each(['base.qcow2', './foo:bar', '/a:b', 'dir/x:y', '', '../a:b', '/'])('%j has no protocol', (name) => {
    expect(hasProtocol(name)).toBe(false);
    expect(protocolOf(name)).toBeNull();
  });
});

describe('resolution', () => {
  it.each([
    ['qm/sub/t2.qcow2', '../base.qcow2', 'qm/sub/../base.qcow2'],
    ['qm/sub/t2.qcow2', './base.qcow2', 'qm/sub/./base.qcow2'],
    ['qm/sub/t2.qcow2', 'b/../../c.qcow2', 'qm/sub/b/../../c.qcow2'],
    ['/abs/dir/top.qcow2', 'base.qcow2', '/abs/dir/base.qcow2'],
    ['/top.qcow2', 'base.qcow2', '/base.qcow2'],
    ['./top.qcow2', 'base.qcow2', './base.qcow2'],
    ['a//b///top.qcow2', 'base', 'a//b///base'],
    ['dir/', 'base', 'dir/base'],
    ['file:dir/top.qcow2', 'base', 'file:dir/base'],
  ])('overlay %s + %s → %s (directory string, not normalised)', (overlay, backing, expected) => {
    expect(resolveBackingName(overlay, backing)).toBe(expected);
  });

  it('uses a name without a directory as it is', () => {
    expect(resolveBackingName('top.qcow2', 'base.qcow2')).toBe('base.qcow2');
    expect(resolveBackingName('top.qcow2', 'sub/base.qcow2')).toBe('sub/base.qcow2');
  });

  it.each(['/abs/base.qcow2', 'json:{"driver":"raw"}', 'nbd://h/x', 'foo:bar.qcow2', 'file:/x'])(
    'keeps %s verbatim whatever the overlay', (backing) => {
      expect(resolveBackingName('some/dir/top.qcow2', backing)).toBe(backing);
    });

  it('keeps odd but legal names byte for byte', () => {
    const name = 'with space/ünï\\code\n.qcow2';
    expect(resolveBackingName('d/t', name)).toBe(`d/${name}`);
  });
});
