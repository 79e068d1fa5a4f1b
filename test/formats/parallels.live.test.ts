/**
 * Live differential tier for parallels: 1 MiB and 64 KiB clusters, host
 * runs merged, unallocated clusters `present: false` (the driver supports
 * backing files), the "WithoutFreeSpace" variant (BAT in sectors, 32-bit
 * size), a sparse image above 4 GiB, and open errors including the Format
 * Extension checks. (Images of 1 TiB or more make qemu-img 7.2 abort.)
 */
import { Rng, deriveSeed, seedFromEnv } from '../support/prng.js';
import { hasQemu } from '../support/qemu.js';
import { APPENDIX_A, type Scenario, liveScenarios, qio, randomOps } from './scenario.js';

const SEED = seedFromEnv();
const rng = (n: number) => new Rng(deriveSeed(SEED, 0x9a7a00 + n));
const G = 1024 ** 3;

const scenarios: Scenario[] = [
  {
    id: 'par-A', title: 'Appendix A pattern, 1 MiB clusters',
    lines: ['qemu-img create -q -f parallels -o cluster_size=1M p.parallels 4M', qio('parallels', 'p.parallels', APPENDIX_A), 'map p.parallels', 'mapopts p.parallels'],
  },
  {
    id: 'par-random', title: 'random writes, 64 KiB clusters, odd size',
    lines: [
      'qemu-img create -q -f parallels -o cluster_size=64k p.parallels 9000001', qio('parallels', 'p.parallels', randomOps(rng(1), 9000000, 40)),
      'map p.parallels', 'mapopts p.parallels', 'map= -f parallels --output=json p.parallels',
    ],
  },
  {
    id: 'par-6G', title: 'sparse 6 GiB image, writes around 4 GiB; qcow2 over it',
    lines: [
      'qemu-img create -q -f parallels big.parallels 6G',
      qio('parallels', 'big.parallels', [`write -P 2 ${4 * G - 65536} 192k`, `write -P 3 ${5 * G} 64k`, 'write -P 4 0 4k']),
      'map big.parallels', 'mapopts big.parallels',
      'qemu-img create -q -f qcow2 -b big.parallels -F parallels top.qcow2 7G', qio('qcow2', 'top.qcow2', ['write -P 5 1M 64k']), 'map top.qcow2',
    ],
  },
  {
    id: 'par-header', title: 'header variants and open errors',
    lines: [
      'qemu-img create -q -f parallels -o cluster_size=64k p.parallels 4M',
      qio('parallels', 'p.parallels', ['write -P 1 64k 64k', 'write -P 2 192k 64k', 'write -P 3 128k 64k']),
      'cp p.parallels v1.parallels', 'patch v1.parallels 0 str WithoutFreeSpace', 'map v1.parallels',
      'cp p.parallels v1big.parallels', 'patch v1big.parallels 0 str WithoutFreeSpace', 'patch v1big.parallels 36 <Q 0x100002000', 'map v1big.parallels',
      'cp p.parallels inuse.parallels', 'patch inuse.parallels 44 <I 0x746f6e59', 'map inuse.parallels',
      'cp p.parallels version.parallels', 'patch version.parallels 16 <I 3', 'map= -f parallels version.parallels',
      'cp p.parallels tracks.parallels', 'patch tracks.parallels 28 <I 0', 'map tracks.parallels',
      'cp p.parallels bigcl.parallels', 'patch bigcl.parallels 28 <I 4186086', 'map bigcl.parallels',
      'cp p.parallels cat.parallels', 'patch cat.parallels 32 <I 0x20000000', 'map cat.parallels',
      'cp p.parallels bat0.parallels', 'patch bat0.parallels 32 <I 0', 'map bat0.parallels',
      'cp p.parallels far.parallels', 'patch far.parallels 64 <I 0xffffffff', 'map far.parallels',
      'cp p.parallels ext.parallels', 'patch ext.parallels 56 <Q 1', 'map ext.parallels',
      'cp p.parallels size.parallels', 'patch size.parallels 36 <Q 1000', 'map size.parallels',
    ],
  },
];

liveScenarios('live differential: parallels', scenarios, hasQemu);
