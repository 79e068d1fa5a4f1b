/**
 * Live differential tier for vmdk: every subformat qemu-img creates
 * (monolithicSparse with and without zeroed grains, twoGbMaxExtentSparse,
 * monolithicFlat, twoGbMaxExtentFlat, streamOptimized), a stream-optimized
 * header in the footer, COWD, hand-written descriptors with QEMU's parsing
 * quirks (blank lines, RDONLY extents, relative and absolute extent paths),
 * vmdk backing files (parentFileNameHint, opened as vmdk only), images above
 * 4 GiB, and QEMU's open errors.
 */
import { Rng, deriveSeed, seedFromEnv } from '../support/prng.js';
import { hasQemu } from '../support/qemu.js';
import { APPENDIX_A, type Scenario, liveScenarios, qio, randomOps } from './scenario.js';

const SEED = seedFromEnv();
const rng = (n: number) => new Rng(deriveSeed(SEED, 0x7d3c00 + n));
const G = 1024 ** 3;
const M = 1024 * 1024;
const AROUND_2G = [`write -P 1 ${2 * G - 65536} 128k`, `write -z ${2 * G + 65536} 64k`, `write -P 2 ${4 * G + 512} 1k`, `write -P 3 ${5 * G - 4096} 4096`];
/** A descriptor file: header lines, then the extent lines as given (blank lines matter to QEMU). */
const desc = (createType: string, extents: string, extra = ''): string =>
  `# Disk DescriptorFile\\nversion=1\\nCID=12345678\\nparentCID=ffffffff\\ncreateType="${createType}"\\n${extra}# Extent description\\n${extents}\\n# The Disk Data Base\\n#DDB\\nddb.adapterType = "ide"\\n`;

const scenarios: Scenario[] = [
  {
    id: 'vmdk-A', title: 'Appendix A pattern: monolithicSparse, zeroed grains, flat, streamOptimized',
    lines: [
      'qemu-img create -q -f vmdk -o subformat=monolithicSparse ms.vmdk 4M', qio('vmdk', 'ms.vmdk', APPENDIX_A), 'map ms.vmdk', 'mapopts ms.vmdk',
      'qemu-img create -q -f vmdk -o subformat=monolithicSparse,zeroed_grain=on zg.vmdk 4M', qio('vmdk', 'zg.vmdk', APPENDIX_A), 'map zg.vmdk',
      'qemu-img create -q -f vmdk -o subformat=monolithicFlat mf.vmdk 4M', qio('vmdk', 'mf.vmdk', APPENDIX_A), 'map mf.vmdk', 'mapopts mf.vmdk',
      'qemu-img create -q -f vmdk -o subformat=streamOptimized so.vmdk 4M', qio('vmdk', 'so.vmdk', APPENDIX_A), 'map so.vmdk', 'mapopts so.vmdk',
    ],
  },
  {
    id: 'vmdk-random', title: 'random writes, odd sizes, grain-table boundaries, stream-optimized copy',
    lines: [
      'qemu-img create -q -f vmdk -o zeroed_grain=on r.vmdk 70000001', qio('vmdk', 'r.vmdk', randomOps(rng(1), 70000000, 50)),
      'map r.vmdk', 'mapopts r.vmdk',
      'qemu-img convert -O vmdk -o subformat=streamOptimized r.vmdk s.vmdk', 'map s.vmdk',
      'qemu-img convert -O vmdk -o subformat=monolithicFlat r.vmdk f.vmdk', 'map f.vmdk',
    ],
  },
  {
    id: 'vmdk-5G', title: 'five extents of twoGbMax*, writes across the 2 GiB boundary and above 4 GiB',
    lines: [
      'qemu-img create -q -f vmdk -o subformat=twoGbMaxExtentSparse ts.vmdk 5G', qio('vmdk', 'ts.vmdk', AROUND_2G), 'map ts.vmdk', 'mapopts ts.vmdk',
      'qemu-img create -q -f vmdk -o subformat=twoGbMaxExtentFlat tf.vmdk 5G', qio('vmdk', 'tf.vmdk', AROUND_2G), 'map tf.vmdk',
      'qemu-img create -q -f vmdk big.vmdk 6G', qio('vmdk', 'big.vmdk', AROUND_2G), 'map big.vmdk',
    ],
  },
  {
    id: 'vmdk-stream-footer', title: 'stream-optimized header in the footer (gd_offset = -1); broken footers',
    lines: [
      'qemu-img create -q -f vmdk tmp.vmdk 8M', qio('vmdk', 'tmp.vmdk', randomOps(rng(2), 8 * M, 10)),
      'qemu-img convert -O vmdk -o subformat=streamOptimized tmp.vmdk so.vmdk', 'cp so.vmdk footer.vmdk', 'vmdk-footer footer.vmdk',
      'map footer.vmdk', 'cp footer.vmdk badfooter.vmdk', 'patch badfooter.vmdk -1012 <I 2', 'map badfooter.vmdk',
      'cp so.vmdk nofooter.vmdk', 'patch nofooter.vmdk 56 <Q 0xffffffffffffffff', 'map nofooter.vmdk',
    ],
  },
  {
    id: 'vmdk-backing', title: 'parentFileNameHint chains: vmdk over vmdk, relative paths, qcow2 over vmdk, non-vmdk parents',
    lines: [
      'mkdir sub',
      'qemu-img create -q -f vmdk base.vmdk 8M', qio('vmdk', 'base.vmdk', ['write -P 1 0 1M', 'write -P 2 5M 64k']),
      'qemu-img create -q -f vmdk -b ../base.vmdk -F vmdk sub/mid.vmdk 8M', qio('vmdk', 'sub/mid.vmdk', ['write -P 3 512k 64k', 'write -z 2M 64k']),
      'qemu-img create -q -f vmdk -b mid.vmdk -F vmdk sub/top.vmdk 10M', qio('vmdk', 'sub/top.vmdk', randomOps(rng(3), 10 * M, 6)),
      'map sub/top.vmdk', 'mapopts sub/top.vmdk',
      'qemu-img create -q -f qcow2 -b sub/top.vmdk -F vmdk over.qcow2 12M', qio('qcow2', 'over.qcow2', ['write -P 4 9M 64k']), 'map over.qcow2',
      'qemu-img create -q -f raw base.raw 8M', 'qemu-img create -q -f vmdk t.vmdk 8M',
      `text d-rawparent.vmdk ${desc('monolithicFlat', 'RW 16384 FLAT "base.raw" 0', 'parentFileNameHint="base.raw"\\n')}`, 'map d-rawparent.vmdk',
      `text d-parent.vmdk ${desc('monolithicFlat', 'RW 16384 FLAT "base.raw" 0', '# parentFileNameHint="t.vmdk"\\n')}`, 'map d-parent.vmdk',
      `text d-noquote.vmdk ${desc('monolithicFlat', 'RW 16384 FLAT "base.raw" 0', 'parentFileNameHint="t.vmdk\\n')}`, 'map d-noquote.vmdk',
    ],
  },
  {
    id: 'vmdk-descriptors', title: 'hand-written descriptors and QEMU\'s parsing quirks',
    lines: [
      'mkdir sub', 'qemu-img create -q -f raw a.raw 1M', 'qemu-img create -q -f raw sub/b.raw 2M',
      qio('raw', 'a.raw', ['write -P 1 0 4k', 'write -P 2 512k 64k']), qio('raw', 'sub/b.raw', ['write -P 3 1M 8k']),
      'qemu-img create -q -f vmdk sp.vmdk 1M', qio('vmdk', 'sp.vmdk', ['write -P 4 64k 64k']),
      `text split.vmdk ${desc('twoGbMaxExtentFlat', 'RW 2048 FLAT "a.raw" 0\\nRW 4096 FLAT "sub/b.raw" 0\\nRW 2048 SPARSE "sp.vmdk"')}`, 'map split.vmdk', 'mapopts split.vmdk',
      `text sub/rel.vmdk ${desc('monolithicFlat', 'RW 1024 FLAT "../a.raw" 1024\\nRW 100 VMFS "b.raw"')}`, 'map sub/rel.vmdk',
      `text blank.vmdk ${desc('monolithicFlat', '\\nRW 2048 FLAT "a.raw" 0')}`, 'map blank.vmdk',
      `text access.vmdk ${desc('monolithicFlat', 'RDONLY 2048 FLAT "a.raw" 0\\nNOACCESS 10 FLAT "a.raw" 0\\nRW 2048 FLAT "sub/b.raw" 2048')}`, 'map access.vmdk',
      `text multiline.vmdk ${desc('vmfs', 'RW 2048\\n FLAT\\n "a.raw" 0')}`, 'map multiline.vmdk',
      `text skipped.vmdk ${desc('monolithicFlat', 'RW 0 FLAT "a.raw" 0\\nRW -5 FLAT "a.raw" 0\\nRW 8 ZERO "a.raw"\\nRW 2048 FLAT "a.raw" 0 junk')}`, 'map skipped.vmdk',
      `text empty.vmdk ${desc('monolithicFlat', '')}`, 'map empty.vmdk',
      `text short-flat.vmdk ${desc('monolithicFlat', 'RW 4096 FLAT "a.raw" 1000')}`, 'map short-flat.vmdk',
      `text missing.vmdk ${desc('monolithicFlat', 'RW 2048 FLAT "nosuch.raw" 0')}`, 'map missing.vmdk',
      `text noofs.vmdk ${desc('monolithicFlat', 'RW 2048 FLAT "a.raw"')}`, 'map noofs.vmdk',
      `text negofs.vmdk ${desc('monolithicFlat', 'RW 2048 FLAT "a.raw" -1')}`, 'map negofs.vmdk',
      `text vmfsofs.vmdk ${desc('vmfs', 'RW 2048 VMFS "a.raw" 5')}`, 'map vmfsofs.vmdk',
      `text sparseofs.vmdk ${desc('twoGbMaxExtentSparse', 'RW 2048 SPARSE "sp.vmdk" 3')}`, 'map sparseofs.vmdk',
      `text notvmdk.vmdk ${desc('twoGbMaxExtentSparse', 'RW 2048 SPARSE "a.raw"')}`, 'map notvmdk.vmdk',
      `text mono.vmdk ${desc('monolithicSparse', 'RW 2048 FLAT "a.raw" 0')}`, 'map mono.vmdk',
      `text stream.vmdk ${desc('streamOptimized', 'RW 2048 FLAT "a.raw" 0')}`, 'map stream.vmdk',
      'text notype.vmdk version=1\\nCID=1\\nparentCID=ffffffff\\nRW 2048 FLAT "a.raw" 0\\n', 'map notype.vmdk',
      'text nocid.vmdk version=1\\ncreateType="monolithicFlat"\\nRW 2048 FLAT "a.raw" 0\\n', 'map nocid.vmdk',
      'text noversion.vmdk createType="monolithicFlat"\\nCID=1\\nparentCID=ffffffff\\nRW 2048 FLAT "a.raw" 0\\n', 'map noversion.vmdk', 'map -f vmdk noversion.vmdk',
      'map= -f vmdk a.raw', 'truncate -s 0 zero.vmdk', 'map= -f vmdk zero.vmdk',
    ],
  },
  {
    id: 'vmdk-headers', title: 'sparse header checks: versions, grain sizes, tables, truncation, COWD',
    lines: [
      'qemu-img create -q -f vmdk ms.vmdk 4M', qio('vmdk', 'ms.vmdk', APPENDIX_A),
      ...[
        ['v3', '4 <I 3'], ['v4', '4 <I 4'], ['gtes', '44 <I 513'], ['gtes0', '44 <I 0'], ['grain', '20 <Q 0x200001'],
        ['grainbig', '20 <Q 0x200000'], ['grainoff', '64 <Q 0x100000'], ['capzero', '12 <Q 0'], ['l1big', '12 <Q 0x100000000000'],
        ['capmax', '12 <Q 0xffffffffffffffff'], ['compressed', '77 <H 1'], ['flags0', '8 <I 0'], ['gte1', '0x1a004 <I 1'],
      ].flatMap(([name, patch]) => [`cp ms.vmdk ${name}.vmdk`, `patch ${name}.vmdk ${patch}`, `map ${name}.vmdk`]),
      'cp ms.vmdk gdfar.vmdk', 'patch gdfar.vmdk 56 <Q 0x7fffff', 'map gdfar.vmdk',
      // A COWD (ESX 2.x) sparse file: 8 KiB grains, 4096-entry grain tables, a descriptor at sector 1 for CID/parentCID.
      'truncate -s 2M cowd.vmdk', 'patch cowd.vmdk 0 str COWD', 'patch cowd.vmdk 4 <I 1', 'patch cowd.vmdk 12 <I 131072', 'patch cowd.vmdk 16 <I 16',
      'patch cowd.vmdk 20 <I 4', 'patch cowd.vmdk 24 <I 64', 'patch cowd.vmdk 0x200 str CID=1234\\nparentCID=ffffffff\\n',
      'patch cowd.vmdk 0x800 <I 8', 'patch cowd.vmdk 0x804 <I 40', 'patch cowd.vmdk 0x1004 <I 100', 'patch cowd.vmdk 0x1960 <I 200',
      'patch cowd.vmdk 0x1ffc <I 300', 'patch cowd.vmdk 0x5000 <I 400', 'map cowd.vmdk',
      'cp cowd.vmdk cowd1.vmdk', 'patch cowd1.vmdk 24 <I 1', 'map cowd1.vmdk',
    ],
  },
];

liveScenarios('live differential: vmdk', scenarios, hasQemu);
