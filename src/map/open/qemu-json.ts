/**
 * `json:` image names as QEMU 7.2 reads them (qobject/json-lexer.c,
 * json-streamer.c, json-parser.c; block.c parse_json_filename): QEMU's own
 * JSON dialect (single-quoted strings too), its error texts ("JSON parse
 * error, stray '…'", "premature EOI", "Expecting at most one JSON value"),
 * a top-level object required, then flattened to dotted keys
 * (qdict_flatten: `{"file":{"filename":"a"}}` → `file.filename`,
 * lists → `key.0`, `key.1`).
 */
import type { FlatOptions, OptValue } from './options.js';

/** A `json:` name QEMU refuses; the message is QEMU's (without "Could not open"). */
export class JsonNameError extends Error {}

type Token =
  | { k: 'punct'; v: '{' | '}' | '[' | ']' | ':' | ',' }
  | { k: 'string'; raw: string }
  | { k: 'int'; raw: string }
  | { k: 'float'; raw: string }
  | { k: 'keyword'; raw: string };

type Value = OptValue | { t: 'dict'; v: Map<string, Value> } | { t: 'list'; v: Value[] };

const MAX_NESTING = 1024;
const WS = new Set([' ', '\t', '\r', '\n']);

/** Lexes one token at `i`: [token, next index] or a stray-text error. */
function lexToken(s: string, i: number): { token: Token; next: number } | { stray: string } {
  const c = s[i]!;
  if ('{}[]:,'.includes(c)) return { token: { k: 'punct', v: c as '{' }, next: i + 1 };
  if (c === '"' || c === "'") {
    let j = i + 1;
    while (j < s.length && s[j] !== c) j += s[j] === '\\' ? 2 : 1;
    if (j >= s.length) return { stray: s.slice(i) };
    return { token: { k: 'string', raw: s.slice(i, j + 1) }, next: j + 1 };
  }
  if (c >= 'a' && c <= 'z') {
    let j = i;
    while (j < s.length && s[j]! >= 'a' && s[j]! <= 'z') j++;
    return { token: { k: 'keyword', raw: s.slice(i, j) }, next: j };
  }
  if (c === '-' || (c >= '0' && c <= '9')) {
    let j = i;
    const digit = (k: number): boolean => k < s.length && s[k]! >= '0' && s[k]! <= '9';
    const fail = (k: number): { stray: string } => ({ stray: s.slice(i, Math.min(k + 1, s.length)) });
    if (s[j] === '-') j++;
    if (!digit(j)) return fail(j);
    if (s[j] === '0') {
      j++;
      if (digit(j)) return fail(j);
    } else {
      while (digit(j)) j++;
    }
    let float = false;
    if (s[j] === '.') {
      float = true;
      j++;
      if (!digit(j)) return fail(j);
      while (digit(j)) j++;
    }
    if (s[j] === 'e' || s[j] === 'E') {
      float = true;
      j++;
      if (s[j] === '+' || s[j] === '-') j++;
      if (!digit(j)) return fail(j);
      while (digit(j)) j++;
    }
    return { token: { k: float ? 'float' : 'int', raw: s.slice(i, j) }, next: j };
  }
  return { stray: c };
}

/** Decodes a string token's escapes (json-parser.c parse_string). */
function decodeString(raw: string): string {
  let out = '';
  for (let i = 1; i < raw.length - 1; i++) {
    const c = raw[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = raw[++i];
    const simple: Record<string, string> = { '"': '"', "'": "'", '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
    if (e !== undefined && e in simple) {
      out += simple[e];
      continue;
    }
    if (e === 'u') {
      const unit = (at: number): number => (/^[0-9a-fA-F]{4}$/.test(raw.slice(at, at + 4)) ? parseInt(raw.slice(at, at + 4), 16) : -1);
      let cp = unit(i + 1);
      let used = 4;
      if (cp >= 0xd800 && cp <= 0xdbff && raw.slice(i + 5, i + 7) === '\\u') {
        const low = unit(i + 7);
        if (low >= 0xdc00 && low <= 0xdfff) {
          cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
          used = 10;
        } else {
          cp = -1;
        }
      }
      if (cp < 0 || (cp >= 0xd800 && cp <= 0xdfff)) {
        throw new JsonNameError(`JSON parse error, ${raw.slice(i - 1, i + 5)} is not a valid Unicode character`);
      }
      out += String.fromCodePoint(cp);
      i += used;
      continue;
    }
    throw new JsonNameError('JSON parse error, invalid escape sequence in string');
  }
  return out;
}

class Parser {
  private at = 0;
  constructor(private readonly tokens: readonly Token[]) {}

  private next(): Token {
    const token = this.tokens[this.at++];
    if (token === undefined) throw new JsonNameError('JSON parse error, premature EOI');
    return token;
  }

  private peek(): Token | undefined {
    return this.tokens[this.at];
  }

  value(): Value {
    const token = this.peek();
    if (token === undefined) throw new JsonNameError('JSON parse error, premature EOI');
    if (token.k === 'punct' && token.v === '{') return this.object();
    if (token.k === 'punct' && token.v === '[') return this.array();
    this.at++;
    switch (token.k) {
      case 'string': return { t: 'str', v: decodeString(token.raw) };
      case 'int': {
        const n = BigInt(token.raw);
        if (n >= -(1n << 63n) && n < 1n << 64n) return { t: 'int', v: n };
        return { t: 'float', v: Number(token.raw) };
      }
      case 'float': return { t: 'float', v: Number(token.raw) };
      case 'keyword':
        if (token.raw === 'true' || token.raw === 'false') return { t: 'bool', v: token.raw === 'true' };
        if (token.raw === 'null') return { t: 'null' };
        throw new JsonNameError(`JSON parse error, invalid keyword '${token.raw}'`);
      default: throw new JsonNameError('JSON parse error, expecting value');
    }
  }

  private object(): Value {
    this.at++;
    const dict = new Map<string, Value>();
    if (this.peekPunct('}')) {
      this.at++;
      return { t: 'dict', v: dict };
    }
    for (;;) {
      const key = this.value();
      if (key.t !== 'str') throw new JsonNameError('JSON parse error, key is not a string in object');
      const colon = this.next();
      if (!(colon.k === 'punct' && colon.v === ':')) throw new JsonNameError('JSON parse error, missing : in object pair');
      const name = key.v;
      const value = this.value();
      dict.delete(name);
      dict.set(name, value);
      const sep = this.next();
      if (sep.k === 'punct' && sep.v === '}') return { t: 'dict', v: dict };
      if (!(sep.k === 'punct' && sep.v === ',')) throw new JsonNameError('JSON parse error, expected separator in dict');
    }
  }

  private array(): Value {
    this.at++;
    const list: Value[] = [];
    if (this.peekPunct(']')) {
      this.at++;
      return { t: 'list', v: list };
    }
    for (;;) {
      list.push(this.value());
      const sep = this.next();
      if (sep.k === 'punct' && sep.v === ']') return { t: 'list', v: list };
      if (!(sep.k === 'punct' && sep.v === ',')) throw new JsonNameError('JSON parse error, expected separator in list');
    }
  }

  private peekPunct(v: string): boolean {
    const token = this.peek();
    return token !== undefined && token.k === 'punct' && token.v === v;
  }
}

/** qobject_from_json: the streamer cuts values at balanced braces; the first error wins. */
function parseQemuJson(text: string): Value {
  let result: Value | undefined;
  let queue: Token[] = [];
  let braces = 0;
  let brackets = 0;
  const emit = (): void => {
    const tokens = queue;
    queue = [];
    braces = 0;
    brackets = 0;
    if (result !== undefined) throw new JsonNameError('Expecting at most one JSON value');
    result = new Parser(tokens).value();
  };
  let i = 0;
  while (i < text.length) {
    if (WS.has(text[i]!)) {
      i++;
      continue;
    }
    const lexed = lexToken(text, i);
    if ('stray' in lexed) {
      if (result !== undefined) throw new JsonNameError('Expecting at most one JSON value');
      throw new JsonNameError(`JSON parse error, stray '${lexed.stray}'`);
    }
    const { token } = lexed;
    i = lexed.next;
    if (token.k === 'punct') {
      if (token.v === '{') braces++;
      else if (token.v === '}') braces--;
      else if (token.v === '[') brackets++;
      else if (token.v === ']') brackets--;
    }
    if (braces + brackets > MAX_NESTING) throw new JsonNameError('JSON parse error, JSON nesting depth limit exceeded');
    queue.push(token);
    if ((braces > 0 || brackets > 0) && braces >= 0 && brackets >= 0) continue;
    emit();
  }
  if (queue.length > 0) emit();
  if (result === undefined) throw new JsonNameError('Expecting a JSON value');
  return result;
}

function flattenInto(out: FlatOptions, prefix: string, value: Value): void {
  if (value.t === 'dict' && value.v.size > 0) {
    for (const [key, child] of value.v) flattenInto(out, prefix === '' ? key : `${prefix}.${key}`, child);
  } else if (value.t === 'list' && value.v.length > 0) {
    value.v.forEach((child, index) => flattenInto(out, prefix === '' ? String(index) : `${prefix}.${index}`, child));
  } else if (value.t === 'dict' || value.t === 'list') {
    out.set(prefix, { t: 'empty' });
  } else {
    out.delete(prefix);
    out.set(prefix, value);
  }
}

/**
 * The options of a `json:` name (the text after `json:`), flattened.
 * Throws JsonNameError with QEMU's text.
 */
export function parseJsonName(json: string): FlatOptions {
  let value: Value;
  try {
    value = parseQemuJson(json);
  } catch (error) {
    if (error instanceof JsonNameError) throw new JsonNameError(`Could not parse the JSON options: ${error.message}`);
    throw error;
  }
  if (value.t !== 'dict') throw new JsonNameError('Invalid JSON object given');
  const out: FlatOptions = new Map();
  for (const [key, child] of value.v) flattenInto(out, key, child);
  return out;
}
