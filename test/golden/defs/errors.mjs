// Option variants, backing-name resolution, probing, and error cases
// (missing files, wrong/unknown -f, corrupt qcow2 metadata).
import { both, failing, qio } from "./helpers.mjs";

// Overwrite bytes of a file in place: patch FILE OFFSET HEXBYTES ("\x02").
const patch = (file, offset, bytes) =>
  `printf '${bytes}' | dd of=${file} bs=1 seek=$((${offset})) conv=notrunc status=none`;

const J = "--output=json";

export const errorCases = [
  {
    name: "options",
    description: "-s/-l/--start-offset/--max-length/-U/-f variants, unaligned and out-of-range values",
    setup: `
qemu-img create -q -f qcow2 o.qcow2 4M
${qio("o.qcow2", "write -P 1 0 64k", "write -P 2 192k 128k", "write -z 1M 64k")}
qemu-img create -q -f raw o.raw 1M
qemu-io -f raw -c 'write -P 3 4k 8k' -c 'write -P 4 512k 4k' o.raw >/dev/null`,
    runs: [
      ["map", J, "-s", "65536", "o.qcow2"],
      ["map", J, "-s", "1000", "o.qcow2"],
      ["map", "-s", "1000", "o.qcow2"],
      ["map", J, "-s", "65537", "-l", "200000", "o.qcow2"],
      ["map", "-s", "200000", "-l", "1000", "o.qcow2"],
      ["map", J, "-l", "0", "o.qcow2"],
      ["map", "-l", "0", "o.qcow2"],
      ["map", J, "-s", "1", "-l", "9223372036854775807", "o.qcow2"],
      ["map", J, "-s", "9223372036854775807", "o.qcow2"],
      ["map", J, "-s", "8M", "o.qcow2"],
      ["map", J, "-s", "4M", "o.qcow2"],
      ["map", J, "-l", "100G", "o.qcow2"],
      ["map", J, "--start-offset=1.5k", "--max-length=0x10000", "o.qcow2"],
      ["map", "--start-offset", "64K", "--max-length", "128k", "--output", "json", "o.qcow2"],
      ["map", "-U", J, "o.qcow2"],
      ["map", "--force-share", "-f", "qcow2", "o.qcow2"],
      ["map", J, "o.qcow2", "-s", "128k"],
      ["map", "--output=human", J, "o.qcow2"],
      ["map", "-s", "1M", "-s", "0", J, "o.qcow2"],
      ["map", J, "-f", "raw", "-s", "100", "-l", "5000", "o.raw"],
      ["map", "-s", "4097", "o.raw"],
      ["map", "-f", "raw", "o.qcow2"],
      ...failing(
        ["map", "-s", "-1", "o.qcow2"],
        ["map", "-l", "abc", "o.qcow2"],
        ["map", "-s", "9223372036854775808", "o.qcow2"],
        ["map", "-l", "1x", "o.qcow2"],
        ["map", "--output=xml", "o.qcow2"],
      ),
    ],
  },
  {
    name: "backing-relative-paths",
    description: "backing names relative to the overlay directory, unnormalised (sub/../base.qcow2)",
    setup: `
mkdir -p img/sub/deeper
qemu-img create -q -f qcow2 img/base.qcow2 4M
${qio("img/base.qcow2", "write -P 1 0 64k")}
qemu-img create -q -f qcow2 -b ../base.qcow2 -F qcow2 img/sub/mid.qcow2 4M
${qio("img/sub/mid.qcow2", "write -P 2 64k 64k")}
qemu-img create -q -f qcow2 -b ../mid.qcow2 -F qcow2 img/sub/deeper/top.qcow2 4M
${qio("img/sub/deeper/top.qcow2", "write -P 3 128k 64k")}
qemu-img create -q -f qcow2 -b sub/../base.qcow2 -F qcow2 img/top2.qcow2 4M`,
    runs: [
      ...both("img/sub/deeper/top.qcow2"),
      ["map", "./img/sub/deeper/top.qcow2"],
      { args: ["map", "deeper/top.qcow2"], cwd: "img/sub" },
      { args: ["map", "top.qcow2"], cwd: "img/sub/deeper" },
      ...both("img/top2.qcow2"),
      { args: ["map", "top2.qcow2"], cwd: "img" },
    ],
  },
  {
    name: "backing-probed",
    description: "backing format extension removed (type patched): backing probed as qcow2 / raw",
    setup: `
qemu-img create -q -f qcow2 base.qcow2 1M
${qio("base.qcow2", "write -P 1 0 64k")}
head -c 1048576 /dev/zero | tr '\\0' '\\7' > base.raw
for b in qcow2 raw; do
  qemu-img create -q -f qcow2 -b base.$b -F $b top-$b.qcow2 1M
  ${qio("top-$b.qcow2", "write -P 2 512k 64k")}
  off=$(grep -obUaP '\\xe2\\x79\\x2a\\xca' top-$b.qcow2 | head -1 | cut -d: -f1)
  ${patch("top-$b.qcow2", "off", "\\x00\\x00\\x00\\x07")}
done`,
    runs: [...both("top-qcow2.qcow2"), ...both("top-raw.qcow2")],
  },
  {
    name: "data-file-cwd",
    description: "external data file name is resolved against the CWD in 7.2; missing data file",
    setup: `
mkdir sub
(cd sub && qemu-img create -q -f qcow2 -o data_file=x.raw x.qcow2 1M && ${qio("x.qcow2", "write -P 1 0 64k")})
qemu-img create -q -f qcow2 -o data_file=y.raw y.qcow2 1M
rm y.raw`,
    runs: [
      ...failing(["map", "sub/x.qcow2"], ["map", J, "sub/x.qcow2"], ["map", "y.qcow2"]),
      { args: ["map", "x.qcow2"], cwd: "sub", exit: 0 },
      { args: ["map", J, "x.qcow2"], cwd: "sub", exit: 0 },
    ],
  },
  {
    name: "missing-files",
    description: "missing image, missing backing file (also relative to a subdirectory)",
    setup: `
mkdir sub
qemu-img create -q -f qcow2 -u -b missing.qcow2 -F qcow2 top.qcow2 1M
qemu-img create -q -f qcow2 -u -b gone.qcow2 -F qcow2 sub/top.qcow2 1M
qemu-img create -q -f qcow2 -u -b gone.raw -F raw sub/topr.qcow2 1M`,
    runs: failing(
      ["map", "nothing.qcow2"],
      ["map", J, "-f", "raw", "nothing.raw"],
      ["map", "nodir/nothing.qcow2"],
      ["map", "top.qcow2"],
      ["map", J, "top.qcow2"],
      ["map", "sub/top.qcow2"],
      ["map", "sub/topr.qcow2"],
    ),
  },
  {
    name: "wrong-format",
    description: "-f qcow2 on raw and empty files, unknown driver, -f raw on a qcow2",
    setup: `
head -c 65536 /dev/zero | tr '\\0' '\\1' > r.raw
: > empty.raw
qemu-img create -q -f qcow2 q.qcow2 1M
${qio("q.qcow2", "write -P 1 0 64k")}`,
    runs: [
      ...failing(
        ["map", "-f", "qcow2", "r.raw"],
        ["map", J, "-f", "qcow2", "empty.raw"],
        ["map", "-f", "foo", "r.raw"],
        ["map", J, "-f", "nosuchfmt", "q.qcow2"],
      ),
      ...both("q.qcow2", "-f", "raw"),
      ["map", "-f", "raw", "-f", "qcow2", "q.qcow2"],
    ],
  },
  {
    name: "corrupt-qcow2",
    description: "unaligned L2/L1 entries, zero flag in a v2 image, invalid extended-L2 bitmap",
    // Layout of a fresh 64k-cluster image after one write at 0: L1 @0x30000,
    // L2 @0x40000, data @0x50000 (verified by the recorded maps of ok.qcow2).
    setup: `
for n in ok l2-unaligned l1-unaligned; do
  qemu-img create -q -f qcow2 $n.qcow2 1M
  ${qio("$n.qcow2", "write -P 1 0 64k", "write -P 2 128k 64k")}
done
${patch("l2-unaligned.qcow2", "0x40006", "\\x02")}
${patch("l1-unaligned.qcow2", "0x30006", "\\x02")}
qemu-img create -q -f qcow2 -o compat=0.10 v2-zero.qcow2 1M
${qio("v2-zero.qcow2", "write -P 1 0 64k", "write -P 2 128k 64k")}
${patch("v2-zero.qcow2", "0x40017", "\\x01")}
qemu-img create -q -f qcow2 -o extended_l2=on xl2.qcow2 1M
${qio("xl2.qcow2", "write -P 1 0 2k", "write -P 2 128k 64k")}
${patch("xl2.qcow2", "0x4000b", "\\x01")}`,
    runs: [
      ...both("ok.qcow2"),
      ...both("l2-unaligned.qcow2"),
      ["map", J, "-s", "128k", "l2-unaligned.qcow2"],
      ...both("l1-unaligned.qcow2"),
      ...both("v2-zero.qcow2"),
      ["map", J, "-l", "64k", "v2-zero.qcow2"],
      ...both("xl2.qcow2"),
    ],
  },
  {
    name: "qcow2-feature-bits",
    description: "incompatible feature bits: dirty and corrupt (accepted read-only), unknown bit 5 (refused)",
    setup: `
for n in dirty corrupt unknown; do
  qemu-img create -q -f qcow2 $n.qcow2 1M
  ${qio("$n.qcow2", "write -P 1 64k 64k")}
done
${patch("dirty.qcow2", "79", "\\x01")}
${patch("corrupt.qcow2", "79", "\\x02")}
${patch("unknown.qcow2", "79", "\\x20")}`,
    runs: [...both("dirty.qcow2"), ...both("corrupt.qcow2"), ...failing(["map", "unknown.qcow2"])],
  },
];
