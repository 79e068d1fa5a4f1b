/**
 * Classifying a candidate by its first sector: an image by its magic whatever
 * its name, raw only by name, and an unreadable file a failed image only when
 * its name says it is one (otherwise unknown: not audited, a warning).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { classify } from '../../../src/crawl/classify.js';
import { globMatcher } from '../../../src/crawl/glob-match.js';
import { buildQcow2 } from '../../support/qcow2-builder.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgaudit-classify-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const isRawName = globMatcher(['**/*.img', '**/*.raw', '_base/*']);
const at = (name: string) => path.join(dir, name);
const kindOf = (name: string) => classify(at(name), name, isRawName);

describe('classify', () => {
  it('finds an image by its magic, whatever its name', () => {
    buildQcow2(at('disk'), { virtualSize: 1 << 20, clusters: [] });
    expect(kindOf('disk')).toEqual({ kind: 'image', format: 'qcow2', extensionFormat: null });
    fs.copyFileSync(at('disk'), at('disk.vmdk'));
    expect(kindOf('disk.vmdk')).toEqual({ kind: 'image', format: 'qcow2', extensionFormat: 'vmdk' });
  });

  it('takes a file without magic for raw only by its name or path', () => {
    fs.mkdirSync(at('_base'));
    for (const name of ['console.log', 'vol.img', '_base/a9993e36']) fs.writeFileSync(at(name), Buffer.alloc(4096, 0x20));
    expect(kindOf('console.log')).toEqual({ kind: 'not-image', extensionFormat: null });
    expect(kindOf('vol.img')).toMatchObject({ kind: 'image', format: 'raw' });
    expect(kindOf('_base/a9993e36')).toMatchObject({ kind: 'image', format: 'raw' });
  });

  it('calls a file it cannot read a failed image only when named like one', () => {
    expect(kindOf('gone.qcow2')).toMatchObject({ kind: 'unreadable', code: 'E_OPEN' });
    expect(kindOf('gone.img')).toMatchObject({ kind: 'unreadable', code: 'E_OPEN' });
    expect(kindOf('gone.log')).toMatchObject({ kind: 'unknown', code: 'E_OPEN', message: expect.stringMatching(/No such file/) });
  });
});
