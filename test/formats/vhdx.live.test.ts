/**
 * Live differential tier for vhdx: QEMU 7.2 has no block-status callback
 * for vhdx, so every image is one data entry without an offset (human
 * output refused) — what is compared is the virtual size from the metadata
 * region and QEMU's verdict on the file: a log that needs replaying makes
 * a read-only open fail, and so do corrupt headers, regions and BAT entries.
 */
import { hasQemu } from '../support/qemu.js';
import { APPENDIX_A, type Scenario, liveScenarios, qio } from './scenario.js';

const G = 1024 ** 3;

const scenarios: Scenario[] = [
  {
    id: 'vhdx-A', title: 'Appendix A pattern, dynamic and fixed',
    lines: [
      'qemu-img create -q -f vhdx -o subformat=dynamic dyn.vhdx 4M', qio('vhdx', 'dyn.vhdx', APPENDIX_A), 'map dyn.vhdx', 'mapopts dyn.vhdx',
      'qemu-img create -q -f vhdx -o subformat=fixed fix.vhdx 4M', 'map fix.vhdx',
    ],
  },
  {
    id: 'vhdx-sizes', title: 'block sizes, odd sizes, zero size, 6 GiB',
    lines: [
      'qemu-img create -q -f vhdx -o block_size=1M b1.vhdx 3000001', qio('vhdx', 'b1.vhdx', ['write -P 1 1M 64k']), 'map b1.vhdx',
      'qemu-img create -q -f vhdx -o block_size=256M b256.vhdx 600M', 'map b256.vhdx',
      'qemu-img create -q -f vhdx zero.vhdx 0', 'map zero.vhdx',
      'qemu-img create -q -f vhdx big.vhdx 6G', qio('vhdx', 'big.vhdx', [`write -P 2 ${4 * G - 65536} 192k`]), 'map big.vhdx', 'mapopts big.vhdx',
      'qemu-img create -q -f qcow2 -b b1.vhdx -F vhdx top.qcow2 4M', qio('qcow2', 'top.qcow2', ['write -P 3 0 64k']), 'map top.qcow2',
    ],
  },
  {
    id: 'vhdx-log', title: 'a log that needs replaying fails the read-only open',
    lines: [
      'qemu-img create -q -f vhdx d.vhdx 4M', qio('vhdx', 'd.vhdx', APPENDIX_A), 'map d.vhdx',
      'cp d.vhdx dirty.vhdx', 'vhdx-dirty dirty.vhdx', 'map dirty.vhdx', 'map= -f vhdx --output=json dirty.vhdx',
      'cp d.vhdx base.vhdx', 'qemu-img create -q -f qcow2 -b base.vhdx -F vhdx over.qcow2 4M', 'vhdx-dirty base.vhdx', 'map over.qcow2',
    ],
  },
  {
    id: 'vhdx-errors', title: 'corrupt headers, regions, metadata and BAT',
    lines: [
      'qemu-img create -q -f vhdx d.vhdx 4M', qio('vhdx', 'd.vhdx', APPENDIX_A),
      'cp d.vhdx t12.vhdx', 'truncate -s 12582911 t12.vhdx', 'map t12.vhdx',
      'cp d.vhdx t8.vhdx', 'truncate -s 8388609 t8.vhdx', 'map t8.vhdx',
      'cp d.vhdx t8b.vhdx', 'truncate -s 8388608 t8b.vhdx', 'map t8b.vhdx',
      'cp d.vhdx batfar.vhdx', 'patch batfar.vhdx 0x200000 <Q 0x00000fffff000006', 'map batfar.vhdx',
      'cp d.vhdx batmeta.vhdx', 'patch batmeta.vhdx 0x200000 <Q 0x0000000000300006', 'map batmeta.vhdx',
      'cp d.vhdx batover.vhdx', 'patch batover.vhdx 0x200000 <Q 0xffffffffffffff06', 'map batover.vhdx',
      'cp d.vhdx batpartial.vhdx', 'patch batpartial.vhdx 0x200000 <Q 0x0000000000800007', 'map batpartial.vhdx',
      'cp d.vhdx rt.vhdx', 'patch rt.vhdx 0x30010 <I 5', 'map rt.vhdx',
      'cp d.vhdx lss.vhdx', 'patch lss.vhdx 0x310020 <I 4096', 'map lss.vhdx',
      'cp d.vhdx pss.vhdx', 'patch pss.vhdx 0x310024 <I 4096', 'map pss.vhdx',
      'cp d.vhdx bsz.vhdx', 'patch bsz.vhdx 0x310000 <I 0x80000', 'map bsz.vhdx',
      'cp d.vhdx parent.vhdx', 'patch parent.vhdx 0x310004 <I 2', 'map parent.vhdx',
      'cp d.vhdx vsz.vhdx', 'patch vsz.vhdx 0x310008 <Q 1000', 'map vsz.vhdx',
      'cp d.vhdx vsz0.vhdx', 'patch vsz0.vhdx 0x310008 <Q 0', 'map vsz0.vhdx',
      'cp d.vhdx mcount.vhdx', 'patch mcount.vhdx 0x30000a <H 2048', 'map mcount.vhdx',
      'cp d.vhdx h1.vhdx', 'patch h1.vhdx 0x10000 <I 0', 'map h1.vhdx',
      'cp h1.vhdx h2.vhdx', 'patch h2.vhdx 0x20000 <I 0', 'map h2.vhdx',
      'qemu-img create -q -f raw r.img 1M', 'map= -f vhdx r.img',
    ],
  },
];

liveScenarios('live differential: vhdx', scenarios, hasQemu);
