/**
 * Live differential tier for vpc (VHD): dynamic disks (whole 2 MiB blocks,
 * unallocated blocks present and zero), fixed disks (probed as raw unless
 * -f vpc), the CHS-versus-current_size rule for the virtual size, the
 * differencing type read like a dynamic disk, an image above 4 GiB, and
 * QEMU's open errors.
 */
import { Rng, deriveSeed, seedFromEnv } from '../support/prng.js';
import { hasQemu } from '../support/qemu.js';
import { APPENDIX_A, type Scenario, liveScenarios, qio, randomOps } from './scenario.js';

const SEED = seedFromEnv();
const rng = (n: number) => new Rng(deriveSeed(SEED, 0x7bc00 + n));
const G = 1024 ** 3;

const scenarios: Scenario[] = [
  {
    id: 'vpc-A', title: 'Appendix A pattern, dynamic and fixed (with and without -f vpc)',
    lines: [
      'qemu-img create -q -f vpc -o subformat=dynamic dyn.vhd 4M', qio('vpc', 'dyn.vhd', APPENDIX_A), 'map dyn.vhd', 'mapopts dyn.vhd',
      'qemu-img create -q -f vpc -o subformat=fixed fix.vhd 4M', qio('vpc', 'fix.vhd', APPENDIX_A),
      'map fix.vhd', 'map -f vpc fix.vhd', 'mapopts -f vpc fix.vhd',
    ],
  },
  {
    id: 'vpc-random', title: 'random writes, odd sizes, 512 KiB blocks',
    lines: [
      'qemu-img create -q -f vpc dyn.vhd 23000001', qio('vpc', 'dyn.vhd', randomOps(rng(1), 22000000, 30)), 'map dyn.vhd', 'mapopts dyn.vhd',
      // qemu-img has no block size option for vpc: shrink the blocks of a fresh image to 512 KiB (the BAT is all free).
      'qemu-img create -q -f vpc b512.vhd 9000001', 'patch b512.vhd 0x220 >I 0x80000', 'patch b512.vhd 0x21c >I 32',
      qio('vpc', 'b512.vhd', randomOps(rng(2), 9000000, 25)), 'map b512.vhd',
      'qemu-img create -q -f vpc -o subformat=fixed fix.vhd 5000001', qio('vpc', 'fix.vhd', randomOps(rng(3), 5000000, 10)), 'map -f vpc fix.vhd',
    ],
  },
  {
    id: 'vpc-size', title: 'CHS geometry vs current_size (force_size, creator applications)',
    lines: [
      'qemu-img create -q -f vpc chs.vhd 4G', qio('vpc', 'chs.vhd', [`write -P 1 ${3 * G} 64k`]), 'map chs.vhd',
      'qemu-img create -q -f vpc -o force_size fs.vhd 4G', qio('vpc', 'fs.vhd', [`write -P 1 ${3 * G} 64k`]), 'map fs.vhd',
      'qemu-img create -q -f vpc -o subformat=fixed,force_size ff.vhd 3M', 'map -f vpc ff.vhd',
      'qemu-img create -q -f vpc d.vhd 4M', qio('vpc', 'd.vhd', APPENDIX_A),
      ...['win ', 'd2v ', 'CTXS', 'vpc ', 'tap '].flatMap((app, i) => [
        `cp d.vhd app${i}.vhd`, `patch app${i}.vhd 28 str '${app}'`, `patch app${i}.vhd 48 >Q 4000000`, `vhdsum app${i}.vhd 0`, `map app${i}.vhd`,
      ]),
      'cp d.vhd tap.vhd', 'patch tap.vhd 28 hex 74617000', 'patch tap.vhd 48 >Q 3000000', 'vhdsum tap.vhd 0', 'map tap.vhd',
      'cp d.vhd maxchs.vhd', 'patch maxchs.vhd 56 hex ffff10ff', 'patch maxchs.vhd 48 >Q 4000000', 'vhdsum maxchs.vhd 0', 'map maxchs.vhd',
      'cp d.vhd huge.vhd', "patch huge.vhd 28 str 'win '", 'patch huge.vhd 48 >Q 0x40000000000', 'vhdsum huge.vhd 0', 'map huge.vhd',
    ],
  },
  {
    id: 'vpc-10G', title: 'sparse 10 GiB dynamic image, writes around 4 GiB; qcow2 over it',
    lines: [
      'qemu-img create -q -f vpc big.vhd 10G',
      qio('vpc', 'big.vhd', [`write -P 2 ${4 * G - 65536} 192k`, `write -P 3 ${9 * G} 64k`, `write -z ${5 * G} 2M`]),
      'map big.vhd', 'mapopts big.vhd',
      'qemu-img create -q -f qcow2 -b big.vhd -F vpc top.qcow2 11G', qio('qcow2', 'top.qcow2', [`write -P 4 ${4 * G} 64k`]), 'map top.qcow2',
    ],
  },
  {
    id: 'vpc-types', title: 'differencing and unknown disk types read as dynamic; open errors',
    lines: [
      'qemu-img create -q -f vpc d.vhd 4M', qio('vpc', 'd.vhd', APPENDIX_A),
      'cp d.vhd diff.vhd', 'patch diff.vhd 60 >I 4', 'vhdsum diff.vhd 0', 'patch diff.vhd -452 >I 4', 'vhdsum diff.vhd -512', 'map diff.vhd',
      'cp d.vhd five.vhd', 'patch five.vhd 60 >I 5', 'vhdsum five.vhd 0', 'map five.vhd',
      'cp d.vhd asfixed.vhd', 'patch asfixed.vhd 60 >I 2', 'vhdsum asfixed.vhd 0', 'map asfixed.vhd',
      'cp d.vhd sum.vhd', 'patch sum.vhd 64 >I 5', 'map sum.vhd',
      'cp d.vhd magic.vhd', 'patch magic.vhd 0x200 str cxsparsf', 'map magic.vhd',
      'cp d.vhd bs.vhd', 'patch bs.vhd 0x220 >I 0x300', 'map bs.vhd',
      'cp d.vhd small.vhd', 'patch small.vhd 0x21c >I 2', 'map small.vhd',
      'cp d.vhd entries.vhd', 'patch entries.vhd 0x21c >I 0x20000000', 'map entries.vhd',
      'cp d.vhd read.vhd', 'patch read.vhd 0x21c >I 0x1fffffff', 'map read.vhd',
      'cp d.vhd trunc.vhd', 'patch trunc.vhd 0x600 >I 0x1000', 'map trunc.vhd',
      'cp d.vhd bat.vhd', 'patch bat.vhd 0x210 >Q 0x1ffe00', 'map bat.vhd',
      'cp d.vhd nocookie.vhd', 'patch nocookie.vhd 0 str conectiy', 'map= -f vpc nocookie.vhd',
      'qemu-img create -q -f raw r.img 1M', 'map= -f vpc r.img', 'truncate -s 0 empty.vhd', 'map= -f vpc empty.vhd',
    ],
  },
];

liveScenarios('live differential: vpc', scenarios, hasQemu);
