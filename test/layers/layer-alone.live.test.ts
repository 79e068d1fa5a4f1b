/**
 * layerAloneEntries against qemu-img: each layer of generated chains is
 * mapped by qemu-img through `json:{"driver":FMT,"backing":null,"file":…}`
 * and by us without opening its backing file; the JSON must be identical.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vhdChecksum } from '../../src/formats/vpc/vpc-format.js';
import { isOwnAllocation, layerAloneEntries } from '../../src/map/own-allocation.js';
import { Rng, deriveSeed, formatSeed, seedFromEnv } from '../support/prng.js';
import { hasQemu } from '../support/qemu.js';
import { oursAloneMap, qemuAloneMap, settle, shell, tempDir } from './support.js';

const K = 1024;
const M = 1024 * K;

interface Case {
  id: string;
  setup: string[];
  /** [file, format] of each layer to map alone. */
  layers: [string, string][];
}

const qio = (fmt: string, file: string, ops: string[]): string =>
  `qemu-io -f ${fmt} ${ops.map((op) => `-c '${op}'`).join(' ')} ${file} >/dev/null`;
/** Writes, zero writes (kept and unmapped), a discard and a compressed write. */
const MIXED = ['write -P 1 0 192k', 'write -z 256k 64k', 'write -z -u 384k 128k', 'discard 64k 64k', 'write -c -P 2 1M 64k', 'write -P 3 3M 1M'];

const CASES: Case[] = [
  {
    id: 'qcow2 v3 over qcow2 v3 over raw',
    setup: [
      'qemu-img create -q -f raw base.raw 8M', qio('raw', 'base.raw', ['write -P 9 0 6M']),
      'qemu-img create -q -f qcow2 -b base.raw -F raw mid.qcow2 8M', qio('qcow2', 'mid.qcow2', MIXED),
      'qemu-img create -q -f qcow2 -b mid.qcow2 -F qcow2 top.qcow2 10M', qio('qcow2', 'top.qcow2', ['write -P 4 512k 64k', 'write -z 2M 1M', 'write -P 5 9M 512k']),
    ],
    layers: [['top.qcow2', 'qcow2'], ['mid.qcow2', 'qcow2'], ['base.raw', 'raw']],
  },
  {
    id: 'qcow2 v2 (compat=0.10), small clusters',
    setup: [
      'qemu-img create -q -f qcow2 -o compat=0.10,cluster_size=4k base.qcow2 4M', qio('qcow2', 'base.qcow2', ['write -P 1 0 1M']),
      'qemu-img create -q -f qcow2 -o compat=0.10,cluster_size=512 -b base.qcow2 -F qcow2 top.qcow2 4M',
      qio('qcow2', 'top.qcow2', ['write -P 2 4096 8k', 'write -z 64k 64k', 'write -c -P 3 2M 4k', 'discard 4096 512']),
    ],
    layers: [['top.qcow2', 'qcow2'], ['base.qcow2', 'qcow2']],
  },
  {
    id: 'qcow2 extended L2 (subclusters) with preallocation over a backing file',
    setup: [
      'qemu-img create -q -f qcow2 base.qcow2 4M', qio('qcow2', 'base.qcow2', ['write -P 1 0 4M']),
      'qemu-img create -q -f qcow2 -o extended_l2=on,cluster_size=64k -b base.qcow2 -F qcow2 sub.qcow2 4M',
      qio('qcow2', 'sub.qcow2', ['write -P 2 4k 4k', 'write -z 70k 6k', 'write -P 3 1M 2k', 'write -z -u 2M 64k']),
      'qemu-img create -q -f qcow2 -o extended_l2=on,preallocation=metadata -b base.qcow2 -F qcow2 pm.qcow2 4M',
      qio('qcow2', 'pm.qcow2', ['write -P 2 8k 4k']),
      'qemu-img create -q -f qcow2 -o extended_l2=on,preallocation=falloc -b base.qcow2 -F qcow2 pf.qcow2 4M',
    ],
    layers: [['sub.qcow2', 'qcow2'], ['pm.qcow2', 'qcow2'], ['pf.qcow2', 'qcow2']],
  },
  {
    id: 'qcow2 preallocation modes (no backing)',
    setup: [
      ...['off', 'metadata', 'falloc', 'full'].map((mode) => `qemu-img create -q -f qcow2 -o preallocation=${mode} p-${mode}.qcow2 6M`),
      ...['off', 'metadata', 'falloc', 'full'].map((mode) => qio('qcow2', `p-${mode}.qcow2`, ['write -P 1 1M 512k', 'write -z 4M 64k'])),
    ],
    layers: ['off', 'metadata', 'falloc', 'full'].map((mode) => [`p-${mode}.qcow2`, 'qcow2']),
  },
  {
    id: 'qcow2 with an external data file (and data_file_raw) over raw',
    setup: [
      'qemu-img create -q -f raw base.raw 4M', qio('raw', 'base.raw', ['write -P 9 0 4M']),
      'qemu-img create -q -f qcow2 -o data_file=df.raw -b base.raw -F raw ext.qcow2 4M',
      qio('qcow2', 'ext.qcow2', ['write -P 1 64k 128k', 'write -z 1M 64k']),
      'qemu-img create -q -f qcow2 -o data_file=dfr.raw,data_file_raw=on rawdf.qcow2 4M',
      qio('qcow2', 'rawdf.qcow2', ['write -P 1 64k 128k', 'write -z 1M 64k']),
    ],
    layers: [['ext.qcow2', 'qcow2'], ['rawdf.qcow2', 'qcow2']],
  },
  {
    id: 'raw with holes, odd size',
    setup: ['truncate -s 3000000 odd.raw', qio('raw', 'odd.raw', ['write -P 1 1M 4k'])],
    layers: [['odd.raw', 'raw']],
  },
  {
    id: 'qed over raw',
    setup: [
      'qemu-img create -q -f raw base.raw 8M', qio('raw', 'base.raw', ['write -P 9 0 8M']),
      'qemu-img create -q -f qed -o cluster_size=64k -b base.raw -F raw top.qed 8M',
      qio('qed', 'top.qed', ['write -P 1 0 100k', 'write -z 1M 128k', 'write -P 2 5M 64k']),
    ],
    layers: [['top.qed', 'qed']],
  },
  {
    id: 'vmdk over vmdk (monolithicSparse, twoGbMaxExtentSparse)',
    setup: [
      'qemu-img create -q -f vmdk base.vmdk 8M', qio('vmdk', 'base.vmdk', ['write -P 9 0 8M']),
      'qemu-img create -q -f vmdk -b base.vmdk -F vmdk top.vmdk 8M', qio('vmdk', 'top.vmdk', ['write -P 1 64k 100k', 'write -z 1M 64k', 'write -P 2 7M 1M']),
      'qemu-img create -q -f vmdk -o subformat=twoGbMaxExtentSparse -b base.vmdk -F vmdk split.vmdk 8M', qio('vmdk', 'split.vmdk', ['write -P 3 2M 64k']),
    ],
    layers: [['top.vmdk', 'vmdk'], ['split.vmdk', 'vmdk'], ['base.vmdk', 'vmdk']],
  },
  {
    id: 'parallels (supports backing in QEMU; created without)',
    setup: ['qemu-img create -q -f parallels p.hds 8M', qio('parallels', 'p.hds', ['write -P 1 0 100k', 'write -P 2 5M 1M'])],
    layers: [['p.hds', 'parallels']],
  },
  {
    id: 'qcow v1 over raw',
    setup: [
      'qemu-img create -q -f raw base.raw 4M', qio('raw', 'base.raw', ['write -P 9 0 4M']),
      'qemu-img create -q -f qcow -b base.raw -F raw top.qcow 4M', qio('qcow', 'top.qcow', ['write -P 1 0 10k', 'write -P 2 2M 64k']),
    ],
    layers: [['top.qcow', 'qcow']],
  },
];

let root: string;
beforeAll(() => { root = tempDir('alone'); });
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe.skipIf(!hasQemu)('layerAloneEntries = qemu-img map of json:{backing:null}', () => {
  for (const c of CASES) {
    it(c.id, () => {
      const dir = fs.mkdtempSync(path.join(root, 'c-'));
      shell(dir, c.setup);
      settle(dir);
      for (const [file, format] of c.layers) {
        const qemu = qemuAloneMap(dir, file, format);
        expect(qemu.stderr, `${file}`).toBe('');
        expect(oursAloneMap(dir, file, format), `${file} as ${format}`).toBe(qemu.stdout);
      }
    });
  }

  it('random chains: every layer alone, seeded (LIVE_SEED)', () => {
    const seed = seedFromEnv();
    const formats = ['qcow2', 'qed', 'vmdk', 'qcow'] as const;
    for (let i = 0; i < 12; i++) {
      const rng = new Rng(deriveSeed(seed, i));
      const dir = fs.mkdtempSync(path.join(root, 'rnd-'));
      const size = rng.int(1, 16) * M + rng.pick([0, 512 * 3]);
      const format = formats[i % formats.length]!;
      const baseFormat = format === 'vmdk' ? 'vmdk' : rng.pick(['raw', 'qcow2']);
      const ops = (n: number): string[] => Array.from({ length: n }, () => {
        const len = rng.int(1, 256) * 512;
        const off = rng.int(0, Math.floor((size - len) / 512)) * 512;
        const kind = rng.weighted([['write', 6], ['zero', 2], ['discard', format === 'qcow2' ? 1 : 0]] as const);
        return kind === 'write' ? `write -P ${rng.int(1, 255)} ${off} ${len}` : kind === 'zero' ? `write -z ${off} ${len}` : `discard ${off} ${len}`;
      });
      let options = '';
      if (format === 'qcow2') {
        const cluster = rng.pick([4096, 65536, 1 << 20]);
        const extended = cluster >= 16384 && rng.chance(0.4);
        options = `-o cluster_size=${cluster}${extended ? ',extended_l2=on' : ''}${!extended && rng.chance(0.3) ? ',compat=0.10' : ''}`;
      }
      shell(dir, [
        `qemu-img create -q -f ${baseFormat} base ${size}`, qio(baseFormat, 'base', ops(rng.int(0, 6))),
        `qemu-img create -q -f ${format} ${options} -b base -F ${baseFormat} top ${size}`, qio(format, 'top', ops(rng.int(1, 10))),
      ]);
      settle(dir);
      for (const [file, fmt] of [['top', format], ['base', baseFormat]] as const) {
        const qemu = qemuAloneMap(dir, file, fmt);
        expect(qemu.stderr).toBe('');
        expect(oursAloneMap(dir, file, fmt), `seed ${formatSeed(seed)} chain ${i}: ${file} (${fmt} ${options})`).toBe(qemu.stdout);
      }
    }
  });

  it('vpc differencing disk (read as dynamic, no backing)', () => {
    const dir = fs.mkdtempSync(path.join(root, 'vpc-'));
    shell(dir, ['qemu-img create -q -f vpc d.vhd 4M', qio('vpc', 'd.vhd', ['write -P 1 0 100k', 'write -P 2 3M 64k'])]);
    const image = fs.readFileSync(path.join(dir, 'd.vhd'));
    for (const at of [0, image.length - 512]) {
      image.writeUInt32BE(4, at + 60); // disk type: differencing
      image.writeUInt32BE(vhdChecksum(image.subarray(at, at + 512)), at + 64);
    }
    fs.writeFileSync(path.join(dir, 'diff.vhd'), image);
    settle(dir);
    const qemu = qemuAloneMap(dir, 'diff.vhd', 'vpc');
    expect(qemu.stderr).toBe('');
    expect(oursAloneMap(dir, 'diff.vhd', 'vpc')).toBe(qemu.stdout);
  });

  it('never opens the backing file: a layer whose backing is missing maps alone', () => {
    const dir = fs.mkdtempSync(path.join(root, 'missing-'));
    shell(dir, [
      'qemu-img create -q -f raw base.raw 4M',
      'qemu-img create -q -f qcow2 -b base.raw -F raw top.qcow2 4M', qio('qcow2', 'top.qcow2', ['write -P 1 1M 64k']),
      'rm base.raw',
    ]);
    const qemu = qemuAloneMap(dir, 'top.qcow2', 'qcow2');
    expect(qemu.code).toBe(0);
    expect(oursAloneMap(dir, 'top.qcow2', 'qcow2')).toBe(qemu.stdout);
    const own = [...layerAloneEntries(path.join(dir, 'top.qcow2'), 'qcow2')].filter(isOwnAllocation);
    expect(own.map((e) => [e.startBytes, e.lengthBytes])).toEqual([[M, 64 * K]]);
  });
});
