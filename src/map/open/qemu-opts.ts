/**
 * QEMU's option-string syntax (util/qemu-option.c opts_do_parse, 7.2) as
 * `qemu-img --image-opts` reads it: `key=value` pairs split at `,`, a `,,`
 * inside a value stands for one `,`, the first word without `=` is the
 * implied option (`file` for --image-opts, `qom-type` for --object), a later one a short-form boolean (`key` → on,
 * `nokey` → off, with QEMU's deprecation warning), `id` is dropped, and a
 * repeated key keeps its last value. Values stay strings, as QEMU's
 * qemu_opts_to_qdict leaves them.
 */
import type { FlatOptions } from './options.js';

export interface ParsedOpts {
  options: FlatOptions;
  /** qemu's warning lines, in order, without the program-name prefix. */
  warnings: string[];
}

/** get_opt_value: up to the next single ',' (",," is a literal comma); returns [value, index of the ',' or end]. */
function optValue(text: string, from: number): [string, number] {
  let value = '';
  let p = from;
  for (;;) {
    let comma = text.indexOf(',', p);
    if (comma < 0) comma = text.length;
    value += text.slice(p, comma);
    if (comma < text.length && text[comma + 1] === ',') {
      value += ',';
      p = comma + 2;
      continue;
    }
    return [value, comma];
  }
}

/** Parses an --image-opts string like qemu-img 7.2. */
export function parseQemuOpts(text: string, impliedName = 'file'): ParsedOpts {
  const options: FlatOptions = new Map();
  const warnings: string[] = [];
  let first = true;
  let p = 0;
  while (p < text.length) {
    const rest = text.slice(p);
    const len = rest.search(/[=,]/) < 0 ? rest.length : rest.search(/[=,]/);
    let name: string;
    let value: string;
    if (rest[len] !== '=') {
      if (first) {
        name = impliedName;
        [value, p] = optValue(text, p);
      } else {
        name = rest.slice(0, len);
        p += len;
        let prefix = '';
        if (name.startsWith('no')) {
          name = name.slice(2);
          value = 'off';
          prefix = 'no';
        } else {
          value = 'on';
        }
        if (!(prefix === '' && (name === 'help' || name === '?'))) {
          warnings.push(`warning: short-form boolean option '${prefix}${name}' deprecated`);
          warnings.push(name === 'delay'
            ? `Please use nodelay=${prefix !== '' ? 'on' : 'off'} instead`
            : `Please use ${name}=${value} instead`);
        }
      }
    } else {
      name = rest.slice(0, len);
      [value, p] = optValue(text, p + len + 1);
    }
    if (text[p] === ',') p++;
    first = false;
    if (name === 'id') continue;
    options.delete(name);
    options.set(name, value);
  }
  return { options, warnings };
}
