/** cli/raw-args: arguments that are not UTF-8 are recovered from /proc/self/cmdline, and only when they match. */
import { describe, expect, it } from 'vitest';
import { rawArguments } from '../../../src/cli/raw-args.js';

const cmdline = (...args: (string | Buffer)[]): Buffer =>
  Buffer.concat(args.flatMap((arg) => [typeof arg === 'string' ? Buffer.from(arg) : arg, Buffer.of(0)]));
const name = Buffer.concat([Buffer.from('o'), Buffer.of(0xfe), Buffer.from('.qcow2')]);

describe('rawArguments', () => {
  it('recovers the bytes Node replaced with U+FFFD', () => {
    const node = ['map', name.toString('utf8')];
    expect(rawArguments(node, cmdline('/usr/bin/node', '--stack-size=900', '/x/dist/cli.js', 'map', name)))
      .toEqual(['map', 'o\udcfe.qcow2']);
  });

  it('keeps Node\'s strings when the command line holds other arguments (a wrapper rewrote them)', () => {
    const node = ['map', name.toString('utf8')];
    expect(rawArguments(node, cmdline('node', 'cli.js', 'map', 'other.qcow2'))).toEqual(node);
    expect(rawArguments(node, cmdline('x'))).toEqual(node);
    expect(rawArguments(node, null)).toEqual(node);
  });

  it('does not read the command line when every argument is valid UTF-8', () => {
    expect(rawArguments(['scan', '/srv/é'], cmdline('node', 'cli.js', 'something', 'else'))).toEqual(['scan', '/srv/é']);
  });
});
