/**
 * Live differential tier for vdi (dynamic and static): whole 1 MiB blocks,
 * unallocated blocks reading as present zeroes, static images recursing into
 * the host file's holes, odd sizes (rounded up), an image above 4 GiB, and
 * QEMU's "unsupported VDI image (…)" refusals.
 */
import { Rng, deriveSeed, seedFromEnv } from '../support/prng.js';
import { hasQemu } from '../support/qemu.js';
import { APPENDIX_A, type Scenario, liveScenarios, qio, randomOps } from './scenario.js';

const SEED = seedFromEnv();
const rng = (n: number) => new Rng(deriveSeed(SEED, 0x7d100 + n));
const G = 1024 ** 3;

const scenarios: Scenario[] = [
  {
    id: 'vdi-A', title: 'Appendix A pattern, dynamic and static',
    lines: [
      'qemu-img create -q -f vdi -o static=off dyn.vdi 4M', qio('vdi', 'dyn.vdi', APPENDIX_A), 'map dyn.vdi', 'mapopts dyn.vdi',
      'qemu-img create -q -f vdi -o static=on st.vdi 4M', qio('vdi', 'st.vdi', APPENDIX_A), 'map st.vdi', 'mapopts st.vdi',
    ],
  },
  {
    id: 'vdi-random', title: 'random writes, sizes that are not block multiples',
    lines: [
      'qemu-img create -q -f vdi dyn.vdi 23000001', qio('vdi', 'dyn.vdi', randomOps(rng(1), 23000000, 30)), 'map dyn.vdi', 'mapopts dyn.vdi',
      'qemu-img create -q -f vdi -o static=on st.vdi 9000001', qio('vdi', 'st.vdi', randomOps(rng(2), 9000000, 25)), 'map st.vdi',
    ],
  },
  {
    id: 'vdi-6G', title: 'sparse 6 GiB dynamic image, writes around 4 GiB; qcow2 over it',
    lines: [
      'qemu-img create -q -f vdi big.vdi 6G',
      qio('vdi', 'big.vdi', [`write -P 2 ${4 * G - 65536} 192k`, `write -P 3 ${5 * G} 1M`, `write -z ${6 * G - 2 * 1048576} 64k`]),
      'map big.vdi', 'mapopts big.vdi',
      'qemu-img create -q -f qcow2 -b big.vdi -F vdi top.qcow2 7G', qio('qcow2', 'top.qcow2', [`write -P 4 ${4 * G} 64k`]), 'map top.qcow2',
    ],
  },
  {
    id: 'vdi-header', title: 'header quirks and refusals',
    lines: [
      'qemu-img create -q -f vdi d.vdi 4M', qio('vdi', 'd.vdi', APPENDIX_A),
      'cp d.vdi odd.vdi', 'patch odd.vdi 0x170 <Q 1000', 'map odd.vdi',
      'cp d.vdi room.vdi', 'patch room.vdi 0x170 <Q 4194305', 'map room.vdi',
      'cp d.vdi discard.vdi', 'patch discard.vdi 0x204 <I 0xfffffffe', 'map discard.vdi',
      'cp d.vdi far.vdi', 'patch far.vdi 0x200 <I 0xfffffff0', 'map far.vdi',
      'cp d.vdi type.vdi', 'patch type.vdi 0x4c <I 7', 'map type.vdi',
      'cp d.vdi version.vdi', 'patch version.vdi 0x44 <I 0x00010000', 'map version.vdi',
      'cp d.vdi bmap.vdi', 'patch bmap.vdi 0x154 <I 0x201', 'map bmap.vdi',
      'cp d.vdi data.vdi', 'patch data.vdi 0x158 <I 0x401', 'map data.vdi',
      'cp d.vdi sector.vdi', 'patch sector.vdi 0x168 <I 4096', 'map sector.vdi',
      'cp d.vdi block.vdi', 'patch block.vdi 0x178 <I 0x200000', 'map block.vdi',
      'cp d.vdi link.vdi', 'patch link.vdi 0x1a8 <I 1', 'map link.vdi',
      'cp d.vdi parent.vdi', 'patch parent.vdi 0x1b8 <I 1', 'map parent.vdi',
      'cp d.vdi blocks.vdi', 'patch blocks.vdi 0x180 <I 0x3fffffff', 'map blocks.vdi',
      'cp d.vdi sig.vdi', 'patch sig.vdi 0x40 <I 0xbeda1080', 'map= -f vdi sig.vdi', 'map sig.vdi',
      'truncate -s 100 short.vdi', 'patch short.vdi 0x40 <I 0xbeda107f', 'map short.vdi',
    ],
  },
];

liveScenarios('live differential: vdi', scenarios, hasQemu);
