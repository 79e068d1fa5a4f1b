/**
 * Live differential tier for qcow (version 1): clusters answered like qcow2
 * without zero clusters (zero writes allocate real zeroes), compressed
 * clusters without offsets (human output refused), backing files in both
 * directions, an image above 4 GiB, and QEMU's open errors.
 */
import { Rng, deriveSeed, seedFromEnv } from '../support/prng.js';
import { hasQemu } from '../support/qemu.js';
import { APPENDIX_A, type Scenario, liveScenarios, qio, randomOps } from './scenario.js';

const SEED = seedFromEnv();
const rng = (n: number) => new Rng(deriveSeed(SEED, 0x9c0100 + n));
const G = 1024 ** 3;

const scenarios: Scenario[] = [
  {
    id: 'qcow-A', title: 'Appendix A pattern',
    lines: ['qemu-img create -q -f qcow -o encryption=off v1.qcow 4M', qio('qcow', 'v1.qcow', APPENDIX_A), 'map v1.qcow', 'mapopts v1.qcow'],
  },
  {
    id: 'qcow-random', title: 'random writes, odd size; compressed copy',
    lines: [
      'qemu-img create -q -f qcow r.qcow 13000001', qio('qcow', 'r.qcow', randomOps(rng(1), 13000000, 40)), 'map r.qcow', 'mapopts r.qcow',
      // Compressed clusters (qcow's default 4 KiB clusters, written whole): data without an offset.
      'qemu-img create -q -f qcow c.qcow 2M', qio('qcow', 'c.qcow', ['write -c -P 1 0 4k', 'write -c -P 2 4k 4k', 'write -P 3 8k 4k', 'write -c -P 4 64k 4k', 'write -c -P 5 68k 4k', 'write -z 1M 4k']),
      'map c.qcow', 'map= --output=json -s 4k -l 64k c.qcow', 'map= -s 8k -l 4k c.qcow',
    ],
  },
  {
    id: 'qcow-6G', title: 'sparse 6 GiB image, writes around 4 GiB',
    lines: [
      'qemu-img create -q -f qcow big.qcow 6G',
      qio('qcow', 'big.qcow', [`write -P 2 ${4 * G - 65536} 192k`, `write -P 3 ${5 * G} 64k`, `write -z ${6 * G - 8192} 4096`]),
      'map big.qcow', 'mapopts big.qcow',
    ],
  },
  {
    id: 'qcow-chains', title: 'qcow over raw and qcow (probed), qcow2 over qcow, shorter base',
    lines: [
      'qemu-img create -q -f raw base.raw 3M', qio('raw', 'base.raw', ['write -P 7 0 1M']),
      'qemu-img create -q -f qcow -b base.raw -F raw mid.qcow 6M', qio('qcow', 'mid.qcow', ['write -P 1 512k 64k', 'write -P 2 4M 64k']),
      'map mid.qcow',
      'qemu-img create -q -f qcow -b mid.qcow -F qcow top.qcow 8M', qio('qcow', 'top.qcow', randomOps(rng(2), 8 << 20, 8, { zero: false })),
      'map top.qcow', 'mapopts top.qcow',
      'qemu-img create -q -f qcow2 -b top.qcow -F qcow top.qcow2 10M', qio('qcow2', 'top.qcow2', ['write -z 0 64k']), 'map top.qcow2',
    ],
  },
  {
    id: 'qcow-errors', title: 'open errors and header quirks',
    lines: [
      'qemu-img create -q -f qcow q.qcow 4M', qio('qcow', 'q.qcow', APPENDIX_A),
      'cp q.qcow v2.qcow', 'patch v2.qcow 4 >I 2', 'map= -f qcow v2.qcow', 'map v2.qcow',
      'cp q.qcow v0.qcow', 'patch v0.qcow 4 >I 0', 'map= -f qcow v0.qcow', 'map v0.qcow',
      'cp q.qcow tiny.qcow', 'patch tiny.qcow 24 >Q 1', 'map tiny.qcow',
      'cp q.qcow two.qcow', 'patch two.qcow 24 >Q 2', 'map two.qcow',
      'cp q.qcow odd.qcow', 'patch odd.qcow 24 >Q 1000', 'map odd.qcow',
      'cp q.qcow cb.qcow', 'patch cb.qcow 32 B 17', 'map cb.qcow',
      'cp q.qcow l2b.qcow', 'patch l2b.qcow 33 B 5', 'map l2b.qcow',
      'cp q.qcow crypt.qcow', 'patch crypt.qcow 36 >I 2', 'map crypt.qcow',
      'cp q.qcow large.qcow', 'patch large.qcow 24 >Q 0xfffffffffffffff0', 'map large.qcow',
      'cp q.qcow l1.qcow', 'patch l1.qcow 40 >Q 0x7fffffffffffff00', 'map l1.qcow',
      'cp q.qcow name.qcow', 'patch name.qcow 8 >Q 0x30', 'patch name.qcow 16 >I 1024', 'map name.qcow',
      'cp q.qcow unaligned.qcow', 'patch unaligned.qcow 0x1008 >Q 0x2010', 'map unaligned.qcow',
      'truncate -s 20 short.qcow', 'patch short.qcow 0 >I 0x514649fb', 'patch short.qcow 4 >I 1', 'map short.qcow',
    ],
  },
];

liveScenarios('live differential: qcow', scenarios, hasQemu);
