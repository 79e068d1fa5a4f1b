/**
 * `json:` names (src/map/open/qemu-json.ts): QEMU's JSON dialect and its
 * error texts (each checked against qemu-img 7.2, see the golden case
 * json-names), and qdict_flatten's dotted keys.
 */
import { describe, expect, it } from 'vitest';
import { JsonNameError, parseJsonName } from '../../../../src/map/open/qemu-json.js';

describe('parseJsonName', () => {
  it('flattens nested objects and lists into dotted keys, keeping value types', () => {
    const options = parseJsonName('{"driver":"qcow2","file":{"driver":"file","filename":"a"},"backing":null,"x":[1,true,1.5],"e":{}}');
    expect([...options]).toEqual([
      ['driver', { t: 'str', v: 'qcow2' }], ['file.driver', { t: 'str', v: 'file' }], ['file.filename', { t: 'str', v: 'a' }],
      ['backing', { t: 'null' }], ['x.0', { t: 'int', v: 1n }], ['x.1', { t: 'bool', v: true }], ['x.2', { t: 'float', v: 1.5 }],
      ['e', { t: 'empty' }],
    ]);
  });

  it('accepts single quotes, escapes and surrogate pairs', () => {
    expect(parseJsonName("{'a':'b\\'c','d':\"\\u00e9\\ud83d\\ude00\\n\"}").get('d')).toEqual({ t: 'str', v: 'é😀\n' });
  });

  it.each([
    ['', 'Could not parse the JSON options: Expecting a JSON value'],
    ['{', 'Could not parse the JSON options: JSON parse error, premature EOI'],
    ['{"a":}', 'Could not parse the JSON options: JSON parse error, expecting value'],
    ['{"a":1,}', 'Could not parse the JSON options: JSON parse error, expecting value'],
    ['{"a" 1}', 'Could not parse the JSON options: JSON parse error, missing : in object pair'],
    ['{1:2}', 'Could not parse the JSON options: JSON parse error, key is not a string in object'],
    ['{"a":1 "b":2}', 'Could not parse the JSON options: JSON parse error, expected separator in dict'],
    ['[1 2]', 'Could not parse the JSON options: JSON parse error, expected separator in list'],
    ['{"a":tru}', "Could not parse the JSON options: JSON parse error, invalid keyword 'tru'"],
    ['{"a":@}', "Could not parse the JSON options: JSON parse error, stray '@'"],
    ['{"a":"x', "Could not parse the JSON options: JSON parse error, stray '\"x'"],
    ['{"a":01}', "Could not parse the JSON options: JSON parse error, stray '01'"],
    ['{"a":1.}', "Could not parse the JSON options: JSON parse error, stray '1.}'"],
    ['{"a":"\\x"}', 'Could not parse the JSON options: JSON parse error, invalid escape sequence in string'],
    ['{"a":"\\ud800"}', 'Could not parse the JSON options: JSON parse error, \\ud800 is not a valid Unicode character'],
    ['{"a":1}}', 'Could not parse the JSON options: Expecting at most one JSON value'],
    ['{"a":1} x', 'Could not parse the JSON options: Expecting at most one JSON value'],
    ['1 2', 'Could not parse the JSON options: Expecting at most one JSON value'],
    ['"x"', 'Invalid JSON object given'],
    ['[1]', 'Invalid JSON object given'],
  ])('%j → %s', (json, message) => {
    expect(() => parseJsonName(json)).toThrow(new JsonNameError(message));
  });

  it('refuses nesting deeper than QEMU\'s limit', () => {
    expect(() => parseJsonName(`${'['.repeat(1100)}${']'.repeat(1100)}`)).toThrow(/nesting depth limit/);
  });
});
