// The formats beyond qcow2/raw (issue 5): vmdk subformats, vpc, vhdx, vdi,
// qed, parallels, qcow v1 and mixed chains, plus the map-command errors that
// are specific to them (qed's EINVAL while mapping, vhdx error_report lines
// before the open error). Every case name starts with "fmt-" so that
// `npm run golden:update -- fmt-` regenerates exactly these.
import { both, failing } from "./helpers.mjs";

const G = 1024 ** 3;
const J = "--output=json";

/** qemu-io with format `fmt`, output discarded. */
const qio = (fmt, img, ...cmds) =>
  `qemu-io -f ${fmt} ${cmds.map((c) => `-c '${c}'`).join(" ")} ${img} >/dev/null`;

/** Overwrite an integer in place: struct format (`<Q`, `>I`, ...) at OFFSET. */
const patch = (file, offset, fmt, value) =>
  `python3 -c "import struct;f=open('${file}','r+b');f.seek(${offset});f.write(struct.pack('${fmt}',${value}))"`;

/** Both outputs plus -s/-l windows: unaligned, at the end, past the end. */
function windows(img, virtualSize, ...extra) {
  return [
    ["map", J, ...extra, "-s", String(Math.floor(virtualSize / 3) + 1234), "-l", String(Math.floor(virtualSize / 3)), img],
    ["map", ...extra, "-s", "64k", "--max-length=1M", img],
    ["map", J, ...extra, "-s", String(virtualSize - 1), img],
    ["map", ...extra, "--start-offset", String(virtualSize + 4097), img],
  ];
}

export const formatCases = [
  {
    name: "fmt-vmdk-sparse",
    description: "vmdk monolithicSparse (size not a grain multiple, grain-table boundary) and zeroed_grain=on",
    setup: `
qemu-img create -q -f vmdk -o subformat=monolithicSparse ms.vmdk 70000001
${qio("vmdk", "ms.vmdk", "write -P 1 0 4k", "write -P 2 64k 64k", "write -z 1M 64k", "write -P 3 33550336 8192", "write -P 4 69996544 3584")}
qemu-img create -q -f vmdk -o subformat=monolithicSparse,zeroed_grain=on zg.vmdk 3000001
${qio("vmdk", "zg.vmdk", "write -P 5 64k 64k", "write -z 1M 128k", "write -P 6 1M 4k", "write -z 2M 64k")}`,
    runs: [...both("ms.vmdk"), ...windows("ms.vmdk", 70000128), ...both("zg.vmdk"), ...both("zg.vmdk", "-f", "vmdk")],
  },
  {
    name: "fmt-vmdk-split",
    description: "vmdk twoGbMaxExtentSparse and twoGbMaxExtentFlat (5 GiB: three extents), monolithicFlat 6 GiB (host offsets above 4 GiB)",
    setup: `
qemu-img create -q -f vmdk -o subformat=twoGbMaxExtentSparse ts.vmdk 5G
qemu-img create -q -f vmdk -o subformat=twoGbMaxExtentFlat tf.vmdk 5G
qemu-img create -q -f vmdk -o subformat=monolithicFlat mf.vmdk 6G
for f in ts tf mf; do
  ${qio("vmdk", "$f.vmdk", `write -P 1 ${2 * G - 65536} 128k`, `write -z ${2 * G + 65536} 64k`, `write -P 2 ${4 * G + 512} 1k`, `write -P 3 ${5 * G - 4096} 4096`)}
done
${qio("vmdk", "mf.vmdk", `write -P 4 ${6 * G - 65536} 64k`)}`,
    runs: [
      ...both("ts.vmdk"), ...both("tf.vmdk"), ...both("mf.vmdk"),
      ["map", J, "-s", String(4 * G), "mf.vmdk"],
      ["map", "-s", String(2 * G - 512), "-l", "1M", "tf.vmdk"],
    ],
  },
  {
    name: "fmt-vmdk-stream",
    description: "vmdk streamOptimized: JSON maps compressed grains without offsets, human output refuses",
    setup: `
qemu-img create -q -f vmdk src.vmdk 3000001
${qio("vmdk", "src.vmdk", "write -P 1 0 64k", "write -P 2 1M 100k", "write -z 2M 64k")}
qemu-img convert -O vmdk -o subformat=streamOptimized src.vmdk so.vmdk
rm src.vmdk`,
    runs: [
      { args: ["map", J, "so.vmdk"], exit: 0 },
      { args: ["map", "so.vmdk"], exit: 1 },
      { args: ["map", "-s", "1M", "so.vmdk"], exit: 1 },
      { args: ["map", "-s", "1200k", "so.vmdk"], exit: 0 },
      { args: ["map", J, "-s", "1000", "-l", "70000", "so.vmdk"], exit: 0 },
    ],
  },
  {
    name: "fmt-vmdk-backing",
    description: "vmdk over vmdk (parentFileNameHint, relative), qcow2 over vmdk, vmdk over raw (hand-written descriptor)",
    setup: `
mkdir sub
qemu-img create -q -f vmdk base.vmdk 8M
${qio("vmdk", "base.vmdk", "write -P 1 0 1M", "write -P 2 5M 64k")}
qemu-img create -q -f vmdk -b ../base.vmdk -F vmdk sub/top.vmdk 10M
${qio("vmdk", "sub/top.vmdk", "write -P 3 512k 64k", "write -z 2M 64k", "write -P 4 9M 4k")}
qemu-img create -q -f qcow2 -b sub/top.vmdk -F vmdk over.qcow2 12M
${qio("qcow2", "over.qcow2", "write -P 5 9M 64k", "write -z 0 64k")}
qemu-img create -q -f raw base.raw 3000320
${qio("raw", "base.raw", "write -P 6 0 64k", "write -P 7 2M 4k")}
qemu-img create -q -f vmdk sp.vmdk 4M
${qio("vmdk", "sp.vmdk", "write -P 8 1M 64k")}
printf '# Disk DescriptorFile\\nversion=1\\nCID=12345678\\nparentCID=ffffffff\\ncreateType="monolithicFlat"\\nparentFileNameHint="base.raw"\\n# Extent description\\nRW 5860 FLAT "base.raw" 0\\n# The Disk Data Base\\n#DDB\\nddb.adapterType = "ide"\\n' > over-raw.vmdk`,
    runs: [
      ...both("sub/top.vmdk"), ...both("over.qcow2"),
      ["map", J, "-s", "1M", "-l", "9M", "over.qcow2"],
      ...both("over-raw.vmdk"),
    ],
  },
  {
    name: "fmt-vpc",
    description: "vpc dynamic (odd size), fixed with -f vpc and probed as raw, a differencing disk (read as dynamic), 6 GiB fixed",
    setup: `
qemu-img create -q -f vpc -o subformat=dynamic dyn.vhd 23000001
${qio("vpc", "dyn.vhd", "write -P 1 0 4k", "write -P 2 2M 64k", "write -z 3M 64k", "write -P 3 22000000 512")}
qemu-img create -q -f vpc -o subformat=fixed fix.vhd 5000001
${qio("vpc", "fix.vhd", "write -P 4 64k 64k", "write -z 1M 64k")}
cp dyn.vhd diff.vhd
python3 -c "
import os, struct
f = open('diff.vhd', 'r+b')
for at in (0, os.path.getsize('diff.vhd') - 512):
    f.seek(at); b = bytearray(f.read(512))
    b[60:64] = struct.pack('>I', 4); b[64:68] = bytes(4)
    b[64:68] = struct.pack('>I', ~sum(b) & 0xffffffff)
    f.seek(at); f.write(b)
"
qemu-img create -q -f vpc -o subformat=fixed,force_size big.vhd 6G
${qio("vpc", "big.vhd", `write -P 5 ${4 * G + 65536} 64k`, `write -P 6 ${6 * G - 4096} 4096`)}`,
    runs: [
      ...both("dyn.vhd"), ...windows("dyn.vhd", 23013376),
      ...both("fix.vhd"), ...both("fix.vhd", "-f", "vpc"),
      ...both("diff.vhd"),
      ...both("big.vhd", "-f", "vpc"), ["map", J, "big.vhd"],
    ],
  },
  {
    name: "fmt-vhdx",
    description: "vhdx dynamic (odd size, 1 MiB blocks, 6 GiB), fixed; qcow2 over vhdx",
    setup: `
qemu-img create -q -f vhdx -o subformat=dynamic,block_size=1M dyn.vhdx 3000001
${qio("vhdx", "dyn.vhdx", "write -P 1 64k 64k", "write -z 1M 64k", "write -P 2 2M 4k")}
qemu-img create -q -f vhdx -o subformat=fixed fix.vhdx 4M
${qio("vhdx", "fix.vhdx", "write -P 3 0 64k", "write -z 2M 64k")}
qemu-img create -q -f vhdx big.vhdx 6G
${qio("vhdx", "big.vhdx", `write -P 4 ${4 * G - 65536} 192k`, `write -P 5 ${6 * G - 4096} 4k`)}
qemu-img create -q -f qcow2 -b dyn.vhdx -F vhdx top.qcow2 4M
${qio("qcow2", "top.qcow2", "write -P 6 0 64k")}`,
    runs: [...both("dyn.vhdx"), ...both("fix.vhdx"), ...both("big.vhdx"), ...windows("big.vhdx", 6 * G), ...both("top.qcow2")],
  },
  {
    name: "fmt-vdi",
    description: "vdi dynamic (odd size) and static (6 GiB: host offsets above 4 GiB)",
    setup: `
qemu-img create -q -f vdi -o static=off dyn.vdi 23000001
${qio("vdi", "dyn.vdi", "write -P 1 0 4k", "write -P 2 1M 64k", "write -z 3M 1M", "write -P 3 22999040 512")}
qemu-img create -q -f vdi -o static=on st.vdi 6G
${qio("vdi", "st.vdi", "write -P 4 0 64k", `write -P 5 ${4 * G + 65536} 64k`, `write -z ${5 * G} 64k`)}`,
    runs: [...both("dyn.vdi"), ...windows("dyn.vdi", 23000064), ...both("st.vdi"), ["map", J, "-s", String(4 * G), "-l", "2M", "st.vdi"]],
  },
  {
    name: "fmt-qed",
    description: "qed without backing (4k clusters, odd size) and over a raw base (no-probe flag) and a qcow2 base",
    setup: `
qemu-img create -q -f qed -o cluster_size=4k,table_size=2 q.qed 3000001
${qio("qed", "q.qed", "write -P 1 0 4k", "write -P 2 1M 64k", "write -z 2M 64k", "write -P 3 2999808 512")}
qemu-img create -q -f raw base.raw 3M
${qio("raw", "base.raw", "write -P 7 0 1M", "write -P 8 2M 512k")}
qemu-img create -q -f qed -b base.raw -F raw top.qed 8M
${qio("qed", "top.qed", "write -P 1 512k 64k", "write -z 2M 128k", "write -P 2 6M 64k")}
qemu-img create -q -f qcow2 base.qcow2 6M
${qio("qcow2", "base.qcow2", "write -P 3 1M 1M", "write -z 3M 1M")}
qemu-img create -q -f qed -b base.qcow2 -F qcow2 over-qcow2.qed 8M
${qio("qed", "over-qcow2.qed", "write -P 4 1536k 64k")}`,
    runs: [...both("q.qed"), ...windows("q.qed", 3000320), ...both("top.qed"), ...both("over-qcow2.qed")],
  },
  {
    name: "fmt-parallels",
    description: "parallels with 64 KiB clusters (odd size) and a 6 GiB image with writes around 4 GiB",
    setup: `
qemu-img create -q -f parallels -o cluster_size=64k p.parallels 9000001
${qio("parallels", "p.parallels", "write -P 1 0 4k", "write -P 2 1M 64k", "write -z 2M 64k", "write -P 3 8999936 512")}
qemu-img create -q -f parallels big.parallels 6G
${qio("parallels", "big.parallels", `write -P 2 ${4 * G - 65536} 192k`, `write -P 3 ${5 * G} 64k`)}`,
    runs: [...both("p.parallels"), ...windows("p.parallels", 9000448), ...both("big.parallels")],
  },
  {
    name: "fmt-qcow1",
    description: "qcow v1: odd size, compressed clusters (JSON only; human refuses), 6 GiB, qcow over raw (probed backing)",
    setup: `
qemu-img create -q -f qcow r.qcow 13000001
${qio("qcow", "r.qcow", "write -P 1 0 4k", "write -P 2 1M 64k", "write -z 2M 64k", "write -P 3 12999680 512")}
qemu-img create -q -f qcow c.qcow 2M
${qio("qcow", "c.qcow", "write -c -P 1 0 4k", "write -c -P 2 4k 4k", "write -P 3 8k 4k", "write -z 1M 4k")}
qemu-img create -q -f qcow big.qcow 6G
${qio("qcow", "big.qcow", `write -P 2 ${4 * G - 65536} 192k`, `write -P 3 ${5 * G} 64k`)}
qemu-img create -q -f raw base.raw 3M
${qio("raw", "base.raw", "write -P 7 0 1M")}
qemu-img create -q -f qcow -b base.raw -F raw over.qcow 6M
${qio("qcow", "over.qcow", "write -P 1 512k 64k", "write -P 2 4M 64k")}`,
    runs: [
      ...both("r.qcow"), ...windows("r.qcow", 13000192),
      { args: ["map", J, "c.qcow"], exit: 0 }, { args: ["map", "c.qcow"], exit: 1 }, { args: ["map", "-s", "8k", "-l", "4k", "c.qcow"], exit: 0 },
      ...both("big.qcow"), ...both("over.qcow"),
    ],
  },
  {
    name: "fmt-mixed-chains",
    description: "qcow2 over vmdk over raw-backed vmdk, qed over raw, vmdk over raw, qcow2 over vdi/vpc/parallels",
    setup: `
qemu-img create -q -f raw base.raw 3M
${qio("raw", "base.raw", "write -P 1 0 1M", "write -P 2 2M 64k")}
qemu-img create -q -f qed -b base.raw -F raw q.qed 6M
${qio("qed", "q.qed", "write -P 3 512k 64k", "write -z 4M 64k")}
qemu-img create -q -f vmdk -o subformat=monolithicFlat flat.vmdk 4M
${qio("vmdk", "flat.vmdk", "write -P 4 0 2M")}
qemu-img create -q -f vmdk -b flat.vmdk -F vmdk mid.vmdk 6M
${qio("vmdk", "mid.vmdk", "write -P 5 1M 64k", "write -P 6 5M 64k")}
qemu-img create -q -f qcow2 -b mid.vmdk -F vmdk top.qcow2 8M
${qio("qcow2", "top.qcow2", "write -z 0 64k", "write -P 7 7M 64k")}
printf '# Disk DescriptorFile\\nversion=1\\nCID=12345678\\nparentCID=ffffffff\\ncreateType="monolithicFlat"\\n# Extent description\\nRW 6144 FLAT "base.raw" 0\\n# The Disk Data Base\\n#DDB\\n' > raw.vmdk
qemu-img create -q -f vdi b.vdi 4M
${qio("vdi", "b.vdi", "write -P 8 1M 64k")}
qemu-img create -q -f vpc b.vhd 4M
${qio("vpc", "b.vhd", "write -P 8 1M 64k")}
qemu-img create -q -f parallels b.parallels 4M
${qio("parallels", "b.parallels", "write -P 8 1M 64k")}
for ext in vdi:vdi vhd:vpc parallels:parallels; do
  e=\${ext%%:*}; f=\${ext##*:}
  qemu-img create -q -f qcow2 -b b.$e -F $f t-$e.qcow2 6M
  ${qio("qcow2", "t-$e.qcow2", "write -P 9 3M 64k")}
done`,
    runs: [
      ...both("q.qed"), ...both("top.qcow2"), ["map", J, "-s", "1M", "-l", "5M", "top.qcow2"],
      ...both("mid.vmdk"), ...both("raw.vmdk"),
      ...["vdi", "vhd", "parallels"].flatMap((e) => both(`t-${e}.qcow2`)),
    ],
  },
  {
    name: "fmt-dirty",
    description: "qed with need_check and parallels with in_use left by an abort after a write: read-only maps as usual",
    setup: `
qemu-img create -q -f qed d.qed 3000001
qemu-io -f qed -c 'write -P 1 1M 64k' -c 'abort' d.qed >/dev/null 2>&1 || true
qemu-img create -q -f parallels -o cluster_size=64k d.parallels 3000001
qemu-io -f parallels -c 'write -P 2 1M 64k' -c 'abort' d.parallels >/dev/null 2>&1 || true
python3 -c "
import struct
assert struct.unpack('<Q', open('d.qed', 'rb').read()[16:24])[0] & 2
assert struct.unpack('<I', open('d.parallels', 'rb').read()[44:48])[0] == 0x746f6e59
"
qemu-img create -q -f qcow2 -b d.qed -F qed over.qcow2 4M`,
    runs: [...both("d.qed"), ...both("d.parallels"), ...both("over.qcow2")],
  },
  {
    name: "fmt-utf8-names",
    description: "qcow2 backing and data-file names in UTF-8 (read as UTF-8, printed as stored); a qed backing name too",
    setup: `
qemu-img create -q -f qcow2 bäse.qcow2 4M
${qio("qcow2", "bäse.qcow2", "write -P 1 0 64k")}
qemu-img create -q -f qcow2 -b bäse.qcow2 -F qcow2 top.qcow2 4M
${qio("qcow2", "top.qcow2", "write -P 2 1M 64k")}
qemu-img create -q -f qcow2 -o data_file=dätä.raw,data_file_raw=on ext.qcow2 4M
${qio("qcow2", "ext.qcow2", "write -P 3 64k 64k")}
qemu-img create -q -f raw grün.raw 2M
${qio("raw", "grün.raw", "write -P 4 0 4k")}
qemu-img create -q -f qed -b grün.raw -F raw top.qed 4M`,
    runs: [...both("top.qcow2"), ...both("ext.qcow2"), ...both("top.qed")],
  },
  {
    name: "fmt-errors",
    description: "qed map-time corruption (EINVAL) and overlapping clusters, vhdx BAT and region checks printed before the open error, also below a qcow2",
    setup: `
qemu-img create -q -f qed -o cluster_size=65536 q.qed 4M
${qio("qed", "q.qed", "write -P 1 64k 64k", "write -z 1M 64k")}
cp q.qed l2.qed
${patch("l2.qed", 0x60008, "<Q", 0x90200)}
cp q.qed run.qed
${patch("run.qed", 0x60008, "<Q", 0x90000)}
${patch("run.qed", 0x60010, "<Q", 0xa0000)}
qemu-img create -q -f qcow2 -b l2.qed -F qed over-qed.qcow2 4M
qemu-img create -q -f vhdx d.vhdx 4M
${qio("vhdx", "d.vhdx", "write -P 1 64k 64k", "write -z 1M 64k")}
cp d.vhdx t12.vhdx
truncate -s 12582911 t12.vhdx
cp d.vhdx t8.vhdx
truncate -s 8388609 t8.vhdx
cp d.vhdx batmeta.vhdx
${patch("batmeta.vhdx", 0x200000, "<Q", 0x300006)}
cp d.vhdx batover.vhdx
${patch("batover.vhdx", 0x200000, "<Q", "0xffffffffffffff06")}
qemu-img create -q -f qcow2 -u -b batmeta.vhdx -F vhdx over-vhdx.qcow2 4M`,
    runs: [
      ...failing(
        ["map", J, "l2.qed"], ["map", "l2.qed"], ["map", J, "over-qed.qcow2"],
        ["map", J, "t8.vhdx"], ["map", "batmeta.vhdx"], ["map", J, "batover.vhdx"], ["map", J, "over-vhdx.qcow2"],
      ),
      ["map", J, "-l", "64k", "l2.qed"],
      ...both("run.qed"),
      // Truncated inside the last payload block: the open succeeds and the whole image is data without an offset.
      { args: ["map", J, "t12.vhdx"], exit: 0 }, { args: ["map", "t12.vhdx"], exit: 1 },
    ],
  },
];
