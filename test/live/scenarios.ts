/**
 * Fixed live scenarios: the qcow2/raw scenarios S01–S23 of
 * research/qemu-map-semantics.md §5.3 (and a few extra error cases), as shell
 * lines run in a fresh directory. Expectations always come from qemu-img.
 *
 * Line forms (see fixed.live.test.ts):
 *   map ARGS            compare `map --output=json ARGS` and `map --output=human ARGS`
 *   map= ARGS           compare `map ARGS` exactly as written
 *   mapopts [-f F] FILE compare the option variants (-s/-l windows, unaligned -s,
 *                       -l 0, -s at/beyond the end, int64 overflow, suffixes), both outputs
 *   anything else       a command that must exit 0
 */
export interface Scenario {
  id: string;
  title: string;
  lines: string[];
}

const qio = (file: string, ...ops: string[]): string =>
  `qemu-io -f qcow2 ${ops.map((o) => `-c "${o}"`).join(' ')} ${file}`;
const rio = (file: string, ...ops: string[]): string =>
  `qemu-io -f raw ${ops.map((o) => `-c "${o}"`).join(' ')} ${file}`;
const NULL_CO = `"json:{ 'driver': 'null-co', 'size': 1048576, 'read-zeroes': true }"`;
const C = 65536;

export const SCENARIOS: Scenario[] = [
  {
    id: 'S01', title: 'iotest 122 concatenation, then compressed (human must fail)',
    lines: [
      ...[1, 2, 3].map((i) => `qemu-img create -q -f qcow2 t.qcow2.${i} 4M`),
      qio('t.qcow2.1', 'write -P 0x11 0 64k'), qio('t.qcow2.2', 'write -P 0x22 0 64k'),
      qio('t.qcow2.3', 'write -P 0x33 0 64k'),
      'qemu-img convert -O qcow2 t.qcow2.1 t.qcow2.2 t.qcow2.3 t.qcow2', 'map t.qcow2', 'mapopts t.qcow2',
      'qemu-img convert -c -O qcow2 t.qcow2.1 t.qcow2.2 t.qcow2.3 t.qcow2', 'map t.qcow2', 'mapopts t.qcow2',
      'map= -s 4194304 t.qcow2', 'map= -s 65536 t.qcow2',
    ],
  },
  {
    id: 'S02', title: 'iotest 122 compression, 1k clusters, misaligned 1023k images',
    lines: [
      'qemu-img create -q -f qcow2 -o cluster_size=1024 t.qcow2.1 1023k',
      'qemu-img create -q -f qcow2 -o cluster_size=1024 t.qcow2.2 1023k',
      qio('t.qcow2.1', 'write -P 0x11 16k 16k', 'write -P 0x22 130k 130k', 'write -P 0x33 1022k 1k'),
      qio('t.qcow2.2', 'write -P 0x44 0k 1k'),
      'map t.qcow2.1', 'mapopts t.qcow2.1',
      'qemu-img convert -c -O qcow2 t.qcow2.1 t.qcow2.2 t.qcow2', 'map t.qcow2',
    ],
  },
  {
    id: 'S03', title: 'iotest 122 non-zero -S, 1k clusters, with and without -c',
    lines: [
      'qemu-img create -q -f qcow2 -o cluster_size=1k t.qcow2 64M',
      qio('t.qcow2', 'write -P 0 0 64k', 'write 0 1k', 'write 8k 1k', 'write 17k 1k', 'write -P 0 65k 1k'),
      'map t.qcow2',
      ...['4k', '8k'].flatMap((s) => [
        `qemu-img convert -O qcow2 -o cluster_size=1k -S ${s} t.qcow2 o${s}.qcow2`, `map o${s}.qcow2`,
        `qemu-img convert -O qcow2 -o cluster_size=1k -c -S ${s} t.qcow2 c${s}.qcow2`, `map c${s}.qcow2`,
      ]),
      'mapopts c4k.qcow2',
    ],
  },
  {
    id: 'S04', title: 'iotest 154: 4k-cluster overlay over a 512-byte-cluster base, write -z',
    lines: [
      'qemu-img create -q -f qcow2 -o cluster_size=512 t.qcow2.base 128M',
      'qemu-img create -q -f qcow2 -o cluster_size=4k -b t.qcow2.base -F qcow2 t.qcow2',
      qio('t.qcow2', 'write -z 0 2k', 'write -z 10k 2k', 'write -z 17k 2k', 'write -z 27k 2k'),
      'map t.qcow2', 'mapopts t.qcow2',
      qio('t.qcow2.base', 'write -P 0x55 3k 8k', 'write -z -u 40k 3k'), 'map t.qcow2', 'map t.qcow2.base',
    ],
  },
  {
    id: 'S05', title: 'iotest 179: write-zeroes with and without unmap',
    lines: [
      'qemu-img create -q -f qcow2 t.qcow2.base 64M',
      qio('t.qcow2.base', 'write -z -u 2M 2M', 'write -z 6M 2M'), 'map t.qcow2.base',
      qio('t.qcow2.base', 'write 18M 14M', 'write -z -u 20M 2M', 'write -z 24M 6M'), 'map t.qcow2.base',
      'mapopts t.qcow2.base',
    ],
  },
  {
    id: 'S06', title: 'iotest 221: raw size not a multiple of 512',
    lines: [
      'qemu-img create -q -f raw t.raw 65537', rio('t.raw', 'discard 0 65537'), 'map -f raw t.raw',
      'truncate --size=65537 t.raw', 'map -f raw t.raw', 'map t.raw',
      rio('t.raw', 'w 65536 1'), 'map -f raw t.raw',
      'truncate --size=65537 t.raw', 'map -f raw t.raw', 'mapopts -f raw t.raw', 'mapopts t.raw',
    ],
  },
  {
    id: 'S07', title: 'iotest 253 without O_DIRECT: 1 MiB - 1 raw, data up to EOF',
    lines: [
      'qemu-img create -q -f raw t.raw 1048575', 'map -f raw t.raw', 'truncate --size=1048575 t.raw',
      rio('t.raw', 'w 983040 65535'), 'map -f raw t.raw', 'mapopts -f raw t.raw',
    ],
  },
  {
    id: 'S08', title: "iotest 252: rebase -b '' then onto a new base",
    lines: [
      `qemu-img create -q -f qcow2 t.qcow2 ${6 * C}`, `qemu-img create -q -f qcow2 t.qcow2.base_new ${6 * C}`,
      qio('t.qcow2', `write -P 0x22 0 ${2 * C}`, `write -P 0x11 ${2 * C} ${2 * C}`),
      qio('t.qcow2.base_new', `write -P 0x11 0 ${C}`, `write -P 0x11 ${2 * C} ${C}`, `write -P 0x11 ${4 * C} ${C}`),
      `qemu-img rebase -b "" t.qcow2`, 'map t.qcow2',
      'qemu-img rebase -b t.qcow2.base_new -F qcow2 t.qcow2', 'map t.qcow2', 'mapopts t.qcow2',
    ],
  },
  {
    id: 'S09', title: 'iotest 290: discard on v2 vs v3, with and without backing',
    lines: [
      ...['0.10', '1.1'].flatMap((c) => [
        `qemu-img create -q -f qcow2 -o compat=${c} n${c}.qcow2 128k`,
        qio(`n${c}.qcow2`, 'write -P 0x01 0 128k', 'discard 0 128k'), `map n${c}.qcow2`,
      ]),
      'qemu-img create -q -f qcow2 t.qcow2.base 128k', qio('t.qcow2.base', 'write -P 0xff 0 128k'),
      ...['0.10', '1.1'].flatMap((c) => [
        `qemu-img create -q -f qcow2 -o compat=${c} -b t.qcow2.base -F qcow2 b${c}.qcow2`,
        qio(`b${c}.qcow2`, 'write -P 0x01 0 128k', 'discard 0 128k'), `map b${c}.qcow2`,
      ]),
    ],
  },
  {
    id: 'S10', title: 'iotest 292: shrink then grow an overlay over a larger base',
    lines: [
      'qemu-img create -q -f qcow2 t.qcow2.base 1M', qio('t.qcow2.base', 'write -P 0x11 0 1M'),
      'qemu-img create -q -f qcow2 -F qcow2 -b t.qcow2.base t.qcow2', qio('t.qcow2', 'write -P 0x22 0 1M'),
      'qemu-img resize -q --shrink t.qcow2 520k', 'qemu-img resize -q t.qcow2 567k', 'map t.qcow2',
      'mapopts t.qcow2',
    ],
  },
  {
    id: 'S11', title: 'iotest 271: extended L2 + preallocation over a raw backing',
    lines: [
      'qemu-img create -q -f raw t.qcow2.base 1M', rio('t.qcow2.base', 'write -q -P 0xff 0 1M'),
      ...['metadata', 'falloc', 'full'].flatMap((p) => [
        `qemu-img create -q -f qcow2 -o extended_l2=on,preallocation=${p} -F raw -b t.qcow2.base ${p}.qcow2 512k`,
        `qemu-img resize -q ${p}.qcow2 1M`, `map ${p}.qcow2`,
      ]),
      'mapopts metadata.qcow2',
    ],
  },
  {
    id: 'S14', title: 'iotest 150: convert an all-zero source with -S 512 and -S 0',
    lines: ['qcow2', 'raw'].flatMap((f) => [
      `qemu-img convert -O ${f} -S 512 ${NULL_CO} s.${f}`, `map -f ${f} s.${f}`,
      `qemu-img convert -O ${f} -S 0 ${NULL_CO} n.${f}`, `map -f ${f} n.${f}`, `map n.${f}`,
    ]),
  },
  {
    id: 'S15', title: 'iotest 250: metadata preallocation, 1M clusters, discards and writes at both ends',
    lines: [
      'qemu-img create -q -f qcow2 -o cluster_size=1M,preallocation=metadata t.qcow2 2100M',
      qio('t.qcow2', 'discard 0 10M', 'discard 2090M 10M', 'write 2090M 10M', 'write 0 10M'),
      'map t.qcow2', 'mapopts t.qcow2',
    ],
  },
  {
    id: 'S18', title: 'iotest 102: data cluster beyond the shrunk host file',
    lines: [
      'qemu-img create -q -f qcow2 t.qcow2 64k', qio('t.qcow2', 'write 0 64k'),
      `qemu-img resize -q -f raw --shrink t.qcow2 ${5 * C}`, 'map t.qcow2', 'mapopts t.qcow2',
    ],
  },
  {
    id: 'S19', title: 'three-level chain with shorter backing files',
    lines: [
      'qemu-img create -q -f qcow2 base.qcow2 2M', qio('base.qcow2', 'write -P 1 0 512k', 'write -z 1M 64k'),
      'qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 mid.qcow2 4M', qio('mid.qcow2', 'write -P 2 512k 512k'),
      'qemu-img create -q -f qcow2 -b mid.qcow2 -F qcow2 top.qcow2 6M',
      qio('top.qcow2', 'write -P 3 3M 64k', 'write -z 5M 64k'),
      'map top.qcow2', 'map mid.qcow2', 'mapopts top.qcow2', 'map= -U -f qcow2 --output=json top.qcow2',
    ],
  },
  {
    id: 'S20', title: 'extended L2 subclusters, without and with backing',
    lines: [
      'qemu-img create -q -f qcow2 -o extended_l2=on ext.qcow2 1M',
      qio('ext.qcow2', 'write -P 1 2k 2k', 'write -P 2 6k 4k', 'write -z 32k 4k', 'write -P 3 128k 64k',
        'write -z 256k 64k'),
      'map ext.qcow2', 'mapopts ext.qcow2',
      'qemu-img create -q -f qcow2 bb.qcow2 1M', qio('bb.qcow2', 'write -P 9 0 1M'),
      'qemu-img create -q -f qcow2 -o extended_l2=on -b bb.qcow2 -F qcow2 extb.qcow2',
      qio('extb.qcow2', 'write -P 1 2k 2k', 'write -z 8k 2k'), 'map extb.qcow2', 'mapopts extb.qcow2',
    ],
  },
  {
    id: 'S21', title: 'metadata-preallocation detection; external data files (+ data_file_raw)',
    lines: [
      'qemu-img create -q -f qcow2 -o preallocation=metadata pm.qcow2 4M', qio('pm.qcow2', 'write -P 1 1M 64k'),
      'map pm.qcow2', 'mapopts pm.qcow2',
      'qemu-img create -q -f qcow2 -o data_file=d1.raw d1.qcow2 4M',
      'qemu-img create -q -f qcow2 -o data_file=d2.raw,data_file_raw=on d2.qcow2 4M',
      ...[1, 2].flatMap((i) => [qio(`d${i}.qcow2`, 'write -P 5 64k 64k', 'write -z 1M 64k'), `map d${i}.qcow2`]),
      'mapopts d1.qcow2',
    ],
  },
  {
    id: 'S22', title: 'iotest 244: external data file, efficient vs data_file_raw, guest offset 0',
    lines: [
      'qemu-img create -q -f qcow2 -o data_file=e.data e.qcow2 64M',
      qio('e.qcow2', 'write -P 0x11 1M 4M', 'discard 2M 2M', 'write -z 3M 3M'), 'map e.qcow2',
      'qemu-img create -q -f qcow2 -o data_file=r.data,data_file_raw=on r.qcow2 64M',
      qio('r.qcow2', 'write -P 0x11 1M 4M', 'discard 2M 2M', 'write -z 3M 3M'), 'map r.qcow2', 'mapopts r.qcow2',
      'qemu-img create -q -f qcow2 -o data_file=z.data z.qcow2 64M', qio('z.qcow2', 'write -P 0x11 0 1M'),
      'map z.qcow2',
    ],
  },
  {
    id: 'S23', title: 'iotest 274: base 2M <- mid 1M (short) <- top 2M',
    lines: [
      'qemu-img create -q -f qcow2 base 2M', 'qemu-img create -q -f qcow2 -b base -F qcow2 mid 1M',
      'qemu-img create -q -f qcow2 -b mid -F qcow2 top 2M', qio('base', 'write -P 1 0 2M'),
      'map base', 'map mid', 'map top', 'mapopts top',
    ],
  },
  {
    id: 'E01', title: 'errors and format forcing: missing file/backing, wrong -f, raw view of a qcow2',
    lines: [
      'map nonexistent.qcow2',
      'qemu-img create -q -f qcow2 b.qcow2 1M', 'qemu-img create -q -f qcow2 -b b.qcow2 -F qcow2 o.qcow2',
      qio('o.qcow2', 'write 64k 64k'), 'map -f raw o.qcow2', 'map -f qcow2 o.qcow2',
      'truncate -s 100000 r.img', 'map -f qcow2 r.img', 'map r.img', 'rm b.qcow2', 'map o.qcow2',
      'mkdir sub', 'qemu-img create -q -f qcow2 sub/base.qcow2 1M', qio('sub/base.qcow2', 'write 0 4k'),
      'qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 sub/top.qcow2', 'map sub/top.qcow2',
    ],
  },
];
