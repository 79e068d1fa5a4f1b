/**
 * io/byte-path: byte paths held in strings round-trip exactly, decode as
 * Python's surrogateescape does (checked against python3 on seeded random
 * bytes), and show as \xNN.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  bytesIfEscaped, decodePath, displayText, escapedName, fsPath, hasEscapes, pathBytes, storedPath,
} from '../../../src/io/byte-path.js';
import { Rng, formatSeed, seedFromEnv } from '../../support/prng.js';

const b = (...bytes: number[]): Buffer => Buffer.from(bytes);

/** Random byte strings biased towards what breaks UTF-8: lead bytes, continuations, 0xff, valid multibyte. */
function randomBytes(rng: Rng): Buffer {
  const parts: number[] = [];
  const length = rng.int(0, 24);
  for (let i = 0; i < length; i++) {
    parts.push(...rng.weighted<number[]>([
      [[rng.int(0x20, 0x7e)], 4],
      [[rng.int(0x80, 0xbf)], 2], // a lone continuation byte
      [[rng.int(0xc0, 0xff)], 2], // a lead byte (or an invalid one) with nothing after it
      [[0xe0, rng.int(0x80, 0x9f), rng.int(0x80, 0xbf)], 1], // overlong
      [[0xed, rng.int(0xa0, 0xbf), rng.int(0x80, 0xbf)], 1], // an encoded surrogate
      [[0xf4, rng.int(0x90, 0xbf), 0x80, 0x80], 1], // past U+10FFFF
      [[...Buffer.from(rng.pick(['é', '€', '😀', '\uFFFD', '日本']))], 3], // valid multibyte
      [[...Buffer.from(rng.pick(['é', '€', '😀']))].slice(0, -1), 2], // truncated
    ]));
  }
  return Buffer.from(parts);
}

describe('decodePath and pathBytes', () => {
  it('keep valid UTF-8 as that text, unchanged', () => {
    for (const text of ['', 'plain.qcow2', '/srv/é/日本/😀.img', 'a\uFFFDb', 'back\\slash']) {
      expect(decodePath(Buffer.from(text))).toBe(text);
      expect(hasEscapes(text)).toBe(false);
      expect(fsPath(text)).toBe(text);
      expect(bytesIfEscaped(text)).toBeNull();
    }
  });

  it('escape each byte outside valid UTF-8 as U+DC80+byte', () => {
    expect(decodePath(b(0x61, 0xff, 0x62))).toBe('a\udcffb');
    expect(decodePath(b(0x80))).toBe('\udc80');
    expect(decodePath(b(0xc3, 0x28))).toBe('\udcc3(');
    expect(decodePath(b(0xe2, 0x82))).toBe('\udce2\udc82'); // truncated at the end
    expect(decodePath(b(0xe2, 0x82, 0xe2, 0x82, 0xac))).toBe('\udce2\udc82€');
    expect(decodePath(b(0xc0, 0xaf))).toBe('\udcc0\udcaf'); // overlong '/'
    expect(decodePath(b(0xe0, 0x80, 0xaf))).toBe('\udce0\udc80\udcaf');
    expect(decodePath(b(0xed, 0xb3, 0xbf))).toBe('\udced\udcb3\udcbf'); // U+DCFF encoded: never taken for an escape
    expect(decodePath(b(0xf4, 0x90, 0x80, 0x80))).toBe('\udcf4\udc90\udc80\udc80');
  });

  it('round-trip every byte string exactly (seeded random bytes)', () => {
    const seed = seedFromEnv();
    const rng = new Rng(seed);
    for (let i = 0; i < 5000; i++) {
      const bytes = randomBytes(rng);
      const text = decodePath(bytes);
      expect(pathBytes(text), `seed ${formatSeed(seed)} case ${i}`).toEqual(bytes);
      expect(hasEscapes(text)).toBe(!bytes.equals(Buffer.from(bytes.toString('utf8'))));
    }
  });

  it.skipIf(spawnSync('python3', ['--version']).status !== 0)('decode as Python\'s surrogateescape does', () => {
    const rng = new Rng(seedFromEnv() + 1);
    const cases = Array.from({ length: 2000 }, () => randomBytes(rng));
    const script = 'import json,sys\n'
      + 'print(json.dumps([bytes.fromhex(h).decode("utf-8", "surrogateescape") for h in json.load(sys.stdin)]))';
    const python = spawnSync('python3', ['-c', script], { input: JSON.stringify(cases.map((c) => c.toString('hex'))), encoding: 'utf8' });
    expect(python.status, python.stderr).toBe(0);
    expect(cases.map(decodePath)).toEqual(JSON.parse(python.stdout));
  });
});

describe('fsPath', () => {
  it('names a file whose name is not UTF-8 by its exact bytes', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-byte-path-'));
    try {
      const name = Buffer.concat([Buffer.from(`${dir}/f-`), b(0xff, 0xc3, 0x28)]);
      fs.writeFileSync(name, 'bytes');
      const text = decodePath(name);
      expect(Buffer.isBuffer(fsPath(text))).toBe(true);
      expect(fs.readFileSync(fsPath(text), 'utf8')).toBe('bytes');
      expect(fs.readdirSync(dir, { encoding: 'buffer' })).toEqual([name.subarray(dir.length + 1)]);
      // The lossy string Node would make names no file.
      expect(fs.existsSync(name.toString('utf8'))).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('displayText and storedPath', () => {
  it('show escaped bytes as \\xNN and nothing else changes', () => {
    expect(displayText('/srv/a\udcff\udcc3(é.qcow2')).toBe('/srv/a\\xff\\xc3(é.qcow2');
    expect(escapedName(b(0x61, 0xff, 0xc3, 0xa9, 0xe2, 0x82, 0x62))).toBe('a\\xffé\\xe2\\x82b');
    expect(displayText('😀 pair')).toBe('😀 pair');
    expect(Buffer.from(displayText(decodePath(b(0x80, 0xff)))).toString('utf8')).toBe('\\x80\\xff');
  });

  it('show a backslash that would read as an escape as \\x5c, so that no two names show alike', () => {
    expect(displayText('/srv/a\\xffb')).toBe('/srv/a\\x5cxffb');
    expect(displayText('/srv/a\udcffb')).toBe('/srv/a\\xffb');
    expect(displayText('/srv/a\\x5cb')).toBe('/srv/a\\x5cx5cb');
    expect(displayText('C:\\dir\\xy\\x1')).toBe('C:\\dir\\xy\\x1');
    expect(bytesIfEscaped('/srv/a\\xffb')).toEqual(Buffer.from('/srv/a\\xffb'));
    expect(bytesIfEscaped('/srv/a\\b')).toBeNull();
  });

  it('no two byte strings show alike (seeded random names made of backslashes, x, hex digits and stray bytes)', () => {
    const rng = new Rng(0x5c5c);
    const alphabet = [0x5c, 0x78, 0x66, 0x46, 0x30, 0x35, 0x63, 0x61, 0xff, 0xfe, 0xc3, 0xa9, 0x2f];
    const seen = new Map<string, string>();
    for (let i = 0; i < 20_000; i++) {
      const name = Buffer.from(Array.from({ length: rng.int(1, 9) }, () => rng.pick(alphabet)));
      const shown = displayText(decodePath(name));
      const hex = name.toString('hex');
      const earlier = seen.get(shown);
      if (earlier !== undefined) expect(earlier, `${hex} and ${earlier} both show ${shown}`).toBe(hex);
      seen.set(shown, hex);
      expect(storedPath(shown, bytesIfEscaped(decodePath(name)))).toBe(decodePath(name));
    }
  });

  it('read back the bytes a row keeps, else its text', () => {
    const text = decodePath(b(0x2f, 0x61, 0xfe));
    expect(storedPath(displayText(text), bytesIfEscaped(text))).toBe(text);
    expect(storedPath('/a', null)).toBe('/a');
  });
});
