/**
 * QEMU's option strings (src/map/open/qemu-opts.ts), with cases checked
 * against qemu-img 7.2 --image-opts (see also the golden case
 * image-opts-drivers): ',,' escapes, the implied first option, short-form
 * booleans and their warnings, `id` dropped, the last value of a key wins.
 */
import { describe, expect, it } from 'vitest';
import { parseQemuOpts } from '../../../../src/map/open/qemu-opts.js';

const entries = (text: string): [string, unknown][] => [...parseQemuOpts(text).options];

describe('parseQemuOpts', () => {
  it.each([
    ['driver=qcow2,file.filename=a.qcow2', [['driver', 'qcow2'], ['file.filename', 'a.qcow2']]],
    ['b.qcow2', [['file', 'b.qcow2']]],
    ['driver=file,filename=we,,ird.raw', [['driver', 'file'], ['filename', 'we,ird.raw']]],
    ['driver=file,filename=r.raw,,', [['driver', 'file'], ['filename', 'r.raw,']]],
    ['driver=file,,filename=r.raw', [['driver', 'file,filename=r.raw']]],
    ['driver=file,filename=r.raw,', [['driver', 'file'], ['filename', 'r.raw']]],
    ['filename=a,id=x,filename=b', [['filename', 'b']]],
    ['driver=file,=x', [['driver', 'file'], ['', 'x']]],
    ['', []],
    ['a=,b=1', [['a', ''], ['b', '1']]],
  ])('%j', (text, expected) => {
    expect(entries(text)).toEqual(expected);
  });

  it('short-form booleans: on, no-prefix off, with qemu\'s deprecation warning', () => {
    const parsed = parseQemuOpts('driver=file,filename=r.raw,nolocking,force-share');
    expect(parsed.options.get('locking')).toBe('off');
    expect(parsed.options.get('force-share')).toBe('on');
    expect(parsed.warnings).toEqual([
      "warning: short-form boolean option 'nolocking' deprecated", 'Please use locking=off instead',
      "warning: short-form boolean option 'force-share' deprecated", 'Please use force-share=on instead',
    ]);
  });

  it('help is a flag without a warning; the implied name is configurable (--object)', () => {
    expect(parseQemuOpts('driver=file,help').warnings).toEqual([]);
    expect([...parseQemuOpts('tls-creds-x509,id=t,dir=/d', 'qom-type').options]).toEqual([['qom-type', 'tls-creds-x509'], ['dir', '/d']]);
  });
});
