/**
 * Live differential tier: backing chains that mix formats. Which layer
 * answers (depth), `present`, backing files shorter than their overlays,
 * formats without backing support answering for everything below them,
 * probed backing files (no recorded format) and recorded formats that do
 * not match the file.
 */
import { hasQemu } from '../support/qemu.js';
import { type Scenario, liveScenarios, qio } from './scenario.js';

const M = 1024 * 1024;

const scenarios: Scenario[] = [
  {
    id: 'chain-raw-bases', title: 'qed, qcow, vmdk-flat and qcow2 over one raw base; raw base shorter than the overlays',
    lines: [
      'qemu-img create -q -f raw base.raw 3M', qio('raw', 'base.raw', ['write -P 1 0 1M', 'write -P 2 2M 64k']),
      'qemu-img create -q -f qed -b base.raw -F raw q.qed 6M', qio('qed', 'q.qed', ['write -P 3 512k 64k', 'write -z 4M 64k']), 'map q.qed',
      'qemu-img create -q -f qcow -b base.raw -F raw c.qcow 6M', qio('qcow', 'c.qcow', ['write -P 3 1M 64k']), 'map c.qcow',
      'qemu-img create -q -f qcow2 -b q.qed -F qed over-qed.qcow2 8M', qio('qcow2', 'over-qed.qcow2', ['write -P 4 2M 64k', 'write -z 5M 64k']),
      'map over-qed.qcow2', 'mapopts over-qed.qcow2',
      'qemu-img create -q -f qcow2 -b c.qcow -F qcow over-qcow.qcow2 8M', 'map over-qcow.qcow2',
    ],
  },
  {
    id: 'chain-vmdk', title: 'qcow2 over a vmdk chain, vmdk over vmdk over flat',
    lines: [
      'qemu-img create -q -f vmdk -o subformat=monolithicFlat base.vmdk 4M', qio('vmdk', 'base.vmdk', ['write -P 1 0 2M']),
      'qemu-img create -q -f vmdk -b base.vmdk -F vmdk mid.vmdk 6M', qio('vmdk', 'mid.vmdk', ['write -P 2 1M 64k', 'write -P 3 5M 64k']),
      'map mid.vmdk',
      'qemu-img create -q -f qcow2 -b mid.vmdk -F vmdk top.qcow2 8M', qio('qcow2', 'top.qcow2', ['write -z 0 64k', 'write -P 4 7M 64k']),
      'map top.qcow2', 'mapopts top.qcow2',
      'qemu-img create -q -f qed -b mid.vmdk -F vmdk top.qed 8M', 'map top.qed',
    ],
  },
  {
    id: 'chain-no-backing-support', title: 'formats without backing support below qcow2 answer for everything (vdi, vpc, vhdx, parallels)',
    lines: [
      'qemu-img create -q -f vdi b.vdi 4M', qio('vdi', 'b.vdi', ['write -P 1 1M 64k']),
      'qemu-img create -q -f vpc b.vhd 4M', qio('vpc', 'b.vhd', ['write -P 1 1M 64k']),
      'qemu-img create -q -f vhdx b.vhdx 4M', qio('vhdx', 'b.vhdx', ['write -P 1 1M 64k']),
      'qemu-img create -q -f parallels b.parallels 4M', qio('parallels', 'b.parallels', ['write -P 1 1M 64k']),
      ...['vdi', 'vhd', 'vhdx', 'parallels'].flatMap((ext) => {
        const fmt = ext === 'vhd' ? 'vpc' : ext;
        return [`qemu-img create -q -f qcow2 -b b.${ext} -F ${fmt} t-${ext}.qcow2 ${6 * M}`, qio('qcow2', `t-${ext}.qcow2`, ['write -P 9 3M 64k']), `map t-${ext}.qcow2`];
      }),
    ],
  },
  {
    id: 'chain-probed', title: 'backing files without a recorded format are probed; wrong recorded formats fail',
    lines: [
      'qemu-img create -q -f qed b.qed 4M', qio('qed', 'b.qed', ['write -P 1 0 64k']),
      'qemu-img create -q -f vdi b.vdi 4M', qio('vdi', 'b.vdi', ['write -P 1 0 64k']),
      'qemu-img create -q -f qcow -b b.qed -F qed q1.qcow 4M', 'map q1.qcow',
      // qcow stores no backing format: the backing file is probed.
      'qemu-img create -q -f qcow -b b.vdi -F vdi q2.qcow 4M', 'map q2.qcow',
      'qemu-img create -q -f qcow2 -b b.vdi -F vdi wrong.qcow2 4M', 'cp b.qed b.vdi', 'map wrong.qcow2', 'map q2.qcow',
      'qemu-img create -q -f qed -b b.qed -F qed three.qed 4M', 'rm b.qed', 'map three.qed',
    ],
  },
];

liveScenarios('live differential: mixed backing chains', scenarios, hasQemu);
