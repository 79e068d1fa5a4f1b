/**
 * BufferedWriter: a text longer than a slice (a whole JSON report) is
 * written in slices ending at line breaks, byte for byte as one write of
 * it would: characters outside the BMP, escaped path bytes and text without
 * any line break included.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BufferedWriter } from '../../../src/cli/output.js';
import { pathBytes } from '../../../src/io/byte-path.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-output-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function written(texts: readonly string[]): Buffer {
  const file = path.join(dir, `out-${Math.random().toString(36).slice(2)}`);
  const fd = fs.openSync(file, 'w');
  try {
    const out = new BufferedWriter(fd);
    for (const text of texts) out.write(text);
    out.flush();
  } finally {
    fs.closeSync(fd);
  }
  return fs.readFileSync(file);
}

describe('BufferedWriter', () => {
  it('writes a text of several MiB in slices, byte for byte', () => {
    // Lines of varying length with a pair (U+1F600), an escaped byte (0xff of a path) and 2- and 3-byte characters.
    const lines = Array.from({ length: 60_000 }, (_, i) => `  "path": "/srv/\u00e9\u20ac-${'x'.repeat(i % 97)}-\u{1F600}-\udcff-${i}",`);
    const text = `${lines.join('\n')}\n`;
    expect(text.length).toBeGreaterThan(4 * 1024 * 1024);
    const bytes = written([text]);
    expect(bytes.equals(pathBytes(text))).toBe(true);
    expect(bytes.includes(Buffer.from([0xff]))).toBe(true);
  });

  it('writes a long text without line breaks whole, and short writes in order', () => {
    const long = 'y'.repeat(3 * 1024 * 1024);
    expect(written([long]).equals(Buffer.from(long))).toBe(true);
    expect(written(['a', 'b\n', long, '\nc']).toString()).toBe(`ab\n${long}\nc`);
  });
});
