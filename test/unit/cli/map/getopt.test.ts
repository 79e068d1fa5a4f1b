/**
 * GNU getopt_long emulation (src/cli/map/getopt.ts) with qemu-img map's
 * option table: permutation, short-option clusters, long options with
 * `=value` or a separate word, unambiguous abbreviations, ambiguity, `--`.
 * The exact stderr texts qemu-img prints are checked against qemu-img itself
 * in map-args.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { type OptionSpec, getopt } from '../../../../src/cli/map/getopt.js';
import { MAP_OPTIONS } from '../../../../src/cli/map/map-options.js';


const opt = (key: string, value?: string) => (value === undefined ? { kind: 'option', key } : { kind: 'option', key, value });
const parse = (...args: string[]) => getopt(args, MAP_OPTIONS);

describe('permutation', () => {
  it('collects operands wherever they appear', () => {
    expect(parse('a', '-U', 'b', '--output', 'json', 'c')).toEqual({
      items: [opt('force-share'), opt('output', 'json')],
      operands: ['a', 'b', 'c'],
    });
  });

  it('keeps options in command-line order (last one wins is the caller\'s rule)', () => {
    expect(parse('-f', 'raw', 'x', '--format=qcow2').items).toEqual([opt('format', 'raw'), opt('format', 'qcow2')]);
  });

  it('treats a lone "-" as an operand', () => {
    expect(parse('-', '-U')).toEqual({ items: [opt('force-share')], operands: ['-'] });
  });
});

describe('short options', () => {
  it('clusters flags and ends the cluster at an option with an argument', () => {
    expect(parse('-Uf', 'qcow2', 'x').items).toEqual([opt('force-share'), opt('format', 'qcow2')]);
    expect(parse('-Ufqcow2', 'x').items).toEqual([opt('force-share'), opt('format', 'qcow2')]);
    expect(parse('-Us4k', 'x').items).toEqual([opt('force-share'), opt('start', '4k')]);
  });

  it('takes the rest of the cluster as the argument, even letters that are options', () => {
    expect(parse('-fUs', 'x')).toEqual({ items: [opt('format', 'Us')], operands: ['x'] });
  });

  it('takes the next word as the argument even when it looks like an option', () => {
    expect(parse('-f', '-U', 'x')).toEqual({ items: [opt('format', '-U')], operands: ['x'] });
    expect(parse('-s', '--', 'x')).toEqual({ items: [opt('start', '--')], operands: ['x'] });
  });

  it('reports an unknown letter and stops there', () => {
    const result = parse('-U', '-x', '-f');
    expect(result.items[0]).toEqual(opt('force-share'));
    expect(result.items[1]?.kind).toBe('unrecognized');
    expect(result.items).toHaveLength(2);
  });

  it('reports a missing argument at the end of the arguments', () => {
    expect(parse('x', '-f').items).toEqual([{ kind: 'missing-argument', text: '-f' }]);
    expect(parse('-s', '1k', '-l').items.at(-1)?.kind).toBe('missing-argument');
  });
});

describe('long options', () => {
  it('accepts =value, a separate word and an empty =value', () => {
    expect(parse('--output=json', '--format', 'raw', '--start-offset=', 'x').items)
      .toEqual([opt('output', 'json'), opt('format', 'raw'), opt('start', '')]);
  });

  it('keeps everything after the first "=" as the value', () => {
    expect(parse('--object=secret,id=s0,data=a=b', 'x').items).toEqual([opt('object', 'secret,id=s0,data=a=b')]);
  });

  it.each([
    ['--ou=json', opt('output', 'json')],
    ['--outp=json', opt('output', 'json')],
    ['--s=4k', opt('start', '4k')],
    ['--st=4k', opt('start', '4k')],
    ['--m=1M', opt('length', '1M')],
    ['--form=raw', opt('format', 'raw')],
    ['--forc', opt('force-share')],
    ['--force', opt('force-share')],
    ['--i', opt('image-opts')],
    ['--h', opt('help')],
    ['--c=8.2', opt('compat', '8.2')],
  ])('abbreviation %s is unambiguous', (arg, item) => {
    expect(parse(arg, 'x').items).toEqual([item]);
  });

  it.each(['--f', '--fo', '--for', '--o', '--='])('ambiguous prefix %s is unrecognized', (arg) => {
    expect(parse(arg, 'x').items).toEqual([{ kind: 'unrecognized', text: arg }]);
  });

  it('prefers an exact name over longer names it prefixes', () => {
    const specs: OptionSpec[] = [
      { long: 'out', hasArg: false, key: 'short' },
      { long: 'output', hasArg: true, key: 'long' },
    ];
    expect(getopt(['--out', 'x'], specs).items).toEqual([opt('short')]);
    expect(getopt(['--outp', 'x'], specs).items).toEqual([opt('long', 'x')]);
  });

  it('rejects unknown names and =value on options without an argument', () => {
    expect(parse('--bogus', 'x').items).toEqual([{ kind: 'unrecognized', text: '--bogus' }]);
    expect(parse('--force-share=1', 'x').items).toEqual([{ kind: 'unrecognized', text: '--force-share=1' }]);
    expect(parse('--help=', 'x').items).toEqual([{ kind: 'unrecognized', text: '--help=' }]);
    expect(parse('---x', 'x').items).toEqual([{ kind: 'unrecognized', text: '---x' }]);
  });

  it('reports a missing argument with the name as typed', () => {
    expect(parse('x', '--format').items).toEqual([{ kind: 'missing-argument', text: '--format' }]);
    expect(parse('x', '--form').items).toEqual([{ kind: 'missing-argument', text: '--form' }]);
  });
});

describe('"--" ends the options', () => {
  it('makes every later word an operand', () => {
    expect(parse('-U', '--', '-f', '--output=json', '--')).toEqual({
      items: [opt('force-share')],
      operands: ['-f', '--output=json', '--'],
    });
  });

  it('is itself not an operand, also after operands', () => {
    expect(parse('a', '--', 'b')).toEqual({ items: [], operands: ['a', 'b'] });
  });

  it('only counts as a separate word, not inside a cluster or as a value', () => {
    expect(parse('--output', '--', 'x')).toEqual({ items: [opt('output', '--')], operands: ['x'] });
  });
});
