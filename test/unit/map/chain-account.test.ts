/** SPEC §3 accounting: one category per byte, per depth; unallocated chain-level. */
import { describe, expect, it } from 'vitest';
import { type AccountedEntry, ChainAccount, categorize } from '../../../src/map/chain-account.js';

const entry = (over: Partial<AccountedEntry>): AccountedEntry => ({
  lengthBytes: 65536, depth: 0, present: true, zero: false, data: true, offsetBytes: 0x50000, ...over,
});

describe('categorize (SPEC §3, rules in order)', () => {
  const cases: [string, Partial<AccountedEntry>, boolean, string][] = [
    ['allocated data', {}, false, 'data'],
    ['compressed data has no offset', { offsetBytes: undefined }, false, 'data'],
    ['raw data', {}, true, 'data'],
    ['unallocated, no layer holds it', { present: false, zero: true, data: false, offsetBytes: undefined }, false, 'unallocated'],
    ['unallocated beyond a short backing', { present: false, zero: true, data: false, offsetBytes: undefined, depth: 1 }, false, 'unallocated'],
    ['qcow2 zero cluster with host space', { zero: true, data: false }, false, 'preallocated'],
    ['metadata preallocation (data+zero+offset)', { zero: true, data: true }, false, 'preallocated'],
    ['unallocated subcluster of an allocated cluster', { present: false, zero: false, data: false }, false, 'preallocated'],
    ['not present with an offset in a raw layer', { present: false, zero: true, data: false }, true, 'unallocated'],
    ['explicit zero cluster without host space', { zero: true, data: false, offsetBytes: undefined }, false, 'zero'],
    ['hole in a raw layer', { zero: true, data: false }, true, 'zero'],
    ['raw data over a hole reads as zero', { zero: true, data: true }, true, 'zero'],
  ];
  for (const [title, over, isRaw, expected] of cases) {
    it(title, () => expect(categorize(entry(over), isRaw)).toBe(expected));
  }
});

describe('ChainAccount', () => {
  it('charges each entry to its depth and unallocated bytes to the chain', () => {
    const account = new ChainAccount([false, true]);
    account.add(entry({ lengthBytes: 100 }));
    account.add(entry({ lengthBytes: 20, depth: 1 }));
    account.add(entry({ lengthBytes: 30, depth: 1, zero: true, data: false }));
    account.add(entry({ lengthBytes: 7, zero: true, data: false }));
    account.add(entry({ lengthBytes: 5, present: false, zero: true, data: false, offsetBytes: undefined }));
    expect(account.depthTotals).toEqual([
      { dataBytes: 100, zeroBytes: 0, preallocatedBytes: 7 },
      { dataBytes: 20, zeroBytes: 30, preallocatedBytes: 0 },
    ]);
    expect(account.unallocatedBytes).toBe(5);
    expect(account.accountedBytes).toBe(162);
  });

  it('refuses an entry deeper than the chain', () => {
    expect(() => new ChainAccount([false]).add(entry({ depth: 1 }))).toThrow(/depth 1 of a 1-layer chain/);
  });
});
