/**
 * Live differential tier for qed: qemu-img builds the images, `imgaudit map`
 * must match `qemu-img map` byte for byte. Cluster and table sizes, sizes
 * that are not cluster multiples, an image above 4 GiB, backing files
 * (raw with the no-probe flag, probed qcow2, shorter bases) and QEMU's
 * open-time and map-time errors.
 */
import { Rng, deriveSeed, seedFromEnv } from '../support/prng.js';
import { hasQemu } from '../support/qemu.js';
import { APPENDIX_A, type Scenario, liveScenarios, qio, randomOps } from './scenario.js';

const SEED = seedFromEnv();
const rng = (n: number) => new Rng(deriveSeed(SEED, 0x9ed00 + n));
const G = 1024 ** 3;

const scenarios: Scenario[] = [
  {
    id: 'qed-A', title: 'Appendix A pattern, 64k clusters',
    lines: ['qemu-img create -q -f qed -o cluster_size=65536 q.qed 4M', qio('qed', 'q.qed', APPENDIX_A), 'map q.qed', 'mapopts q.qed', 'map= -f qed q.qed'],
  },
  {
    id: 'qed-small', title: 'random writes, 4k clusters, 2-cluster tables, size not a cluster multiple',
    lines: [
      'qemu-img create -q -f qed -o cluster_size=4k,table_size=2 q.qed 3000001',
      qio('qed', 'q.qed', randomOps(rng(1), 3000001 - 1000, 40)), 'map q.qed', 'mapopts q.qed',
    ],
  },
  {
    id: 'qed-big-tables', title: 'random writes, 64k clusters, 16-cluster tables, 40M + odd',
    lines: ['qemu-img create -q -f qed -o table_size=16 q.qed 41943553', qio('qed', 'q.qed', randomOps(rng(2), 41943040, 60)), 'map q.qed'],
  },
  {
    id: 'qed-6G', title: 'sparse 6 GiB image, writes around 4 GiB',
    lines: [
      'qemu-img create -q -f qed q.qed 6G',
      qio('qed', 'q.qed', ['write -P 1 0 64k', `write -P 2 ${4 * G - 65536} 192k`, `write -z ${4 * G + 4 * 65536} 64k`, `write -P 3 ${6 * G - 4096} 4096`]),
      'map q.qed', 'mapopts q.qed',
    ],
  },
  {
    id: 'qed-chains', title: 'qed over raw (no-probe flag), over qcow2 (probed), shorter base, qcow2 over qed',
    lines: [
      'qemu-img create -q -f raw base.raw 3M', qio('raw', 'base.raw', ['write -P 7 0 1M', 'write -P 8 2M 512k']),
      'qemu-img create -q -f qed -b base.raw -F raw top.qed 8M', qio('qed', 'top.qed', ['write -P 1 512k 64k', 'write -z 2M 128k', 'write -P 2 6M 64k']),
      'map top.qed', 'mapopts top.qed',
      'qemu-img create -q -f qcow2 base.qcow2 6M', qio('qcow2', 'base.qcow2', ['write -P 3 1M 1M', 'write -z 3M 1M']),
      'qemu-img create -q -f qed -b base.qcow2 -F qcow2 mid.qed 8M', qio('qed', 'mid.qed', randomOps(rng(3), 8 << 20, 12)),
      'map mid.qed',
      'qemu-img create -q -f qcow2 -b mid.qed -F qed top.qcow2 10M', qio('qcow2', 'top.qcow2', ['write -P 9 0 64k', 'write -z 5M 64k']),
      'map top.qcow2', 'mapopts top.qcow2',
    ],
  },
  {
    id: 'qed-errors', title: 'open and map errors QEMU reports',
    lines: [
      'qemu-img create -q -f qed -o cluster_size=65536 q.qed 4M', qio('qed', 'q.qed', APPENDIX_A),
      'cp q.qed features.qed', 'patch features.qed 16 <Q 0x18', 'map features.qed',
      'cp q.qed cluster.qed', 'patch cluster.qed 4 <I 0x3000', 'map cluster.qed',
      'cp q.qed table.qed', 'patch table.qed 8 <I 32', 'map table.qed',
      'cp q.qed size.qed', 'patch size.qed 48 <Q 1000', 'map size.qed',
      'cp q.qed l1.qed', 'patch l1.qed 40 <Q 0x70000', 'map l1.qed',
      'cp q.qed l2.qed', 'patch l2.qed 0x60008 <Q 0x90200', 'map l2.qed',
      'cp q.qed run.qed', 'patch run.qed 0x60008 <Q 0x90000', 'patch run.qed 0x60010 <Q 0xa0000', 'map run.qed',
      'cp q.qed trunc.qed', 'truncate -s 327679 trunc.qed', 'map trunc.qed',
      'qemu-img create -q -f raw b.raw 1M', 'qemu-img create -q -f qed -b b.raw -F raw t.qed 4M',
      'cp t.qed name.qed', 'patch name.qed 56 <I 0xfffc', 'map name.qed',
      'cp t.qed long.qed', 'patch long.qed 4 <I 4096', 'patch long.qed 12 <I 16', 'patch long.qed 60 <I 4096', 'map long.qed',
      'map -f qed b.raw',
      // QEMU 7.2 cannot open what it creates with one-cluster tables (its table check needs two clusters).
      'qemu-img create -q -f qed -o cluster_size=4k,table_size=1 one.qed 1M', 'map one.qed',
    ],
  },
];

liveScenarios('live differential: qed', scenarios, hasQemu);
