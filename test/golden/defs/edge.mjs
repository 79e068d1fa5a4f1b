// Extra qcow2/raw cases beyond the research scenarios: sizes, cluster sizes,
// preallocation, zero clusters, compression, huge images, backing names.
import { both, qio, qioRaw } from "./helpers.mjs";

export const edgeCases = [
  {
    name: "empty-images",
    description: "0-byte qcow2 and an empty file (probed as raw)",
    setup: `
qemu-img create -q -f qcow2 e.qcow2 0
: > empty.raw`,
    runs: [
      ...both("e.qcow2"), ...both("empty.raw"), ...both("empty.raw", "-f", "raw"),
      ["map", "--output=json", "-s", "100", "e.qcow2"],
    ],
  },
  {
    name: "cluster-sizes",
    description: "the same write pattern with 512 B, 2 KiB, 64 KiB and 2 MiB clusters",
    setup: `
for cs in 512 2k 64k 2M; do
  qemu-img create -q -f qcow2 -o cluster_size=$cs c$cs.qcow2 8M
  ${qio("c$cs.qcow2", "write -P 1 1000 3000", "write -P 2 1M 100k", "write -z 3M 64k", "write -P 3 4M 1M", "discard 4M 256k", "write -z -u 6M 4k")}
done`,
    runs: ["512", "2k", "64k", "2M"].flatMap((cs) => both(`c${cs}.qcow2`)),
  },
  {
    name: "zero-clusters-v2-v3",
    description: "ZERO_ALLOC / ZERO_PLAIN / discard in v3; the same operations on v2 (compat=0.10)",
    setup: `
for c in 0.10 1.1; do
  qemu-img create -q -f qcow2 -o compat=$c z$c.qcow2 4M
  ${qio("z$c.qcow2", "write -P 1 0 1M", "write -z 0 64k", "write -z -u 128k 64k", "discard 256k 64k", "write -z 2M 64k", "write -z 512k 4k")}
done`,
    runs: [...both("z1.1.qcow2"), ...both("z0.10.qcow2")],
  },
  {
    name: "compressed-mixed",
    description: "compressed clusters after a normal cluster: human prints the first line, then fails",
    setup: `
qemu-img create -q -f qcow2 src.qcow2 1M
${qio("src.qcow2", "write -P 1 0 512k")}
qemu-img convert -c -O qcow2 src.qcow2 cmp.qcow2
rm src.qcow2
${qio("cmp.qcow2", "write -P 2 0 64k", "write -z 256k 64k")}`,
    runs: [
      { args: ["map", "--output=json", "cmp.qcow2"], exit: 0 },
      { args: ["map", "cmp.qcow2"], exit: 1 },
      { args: ["map", "-s", "256k", "cmp.qcow2"], exit: 1 },
      { args: ["map", "-s", "512k", "cmp.qcow2"], exit: 0 },
    ],
  },
  {
    name: "prealloc-qcow2",
    description: "qcow2 preallocation off/metadata/falloc/full, one 64k write at 1M",
    setup: `
for p in off metadata falloc full; do
  qemu-img create -q -f qcow2 -o preallocation=$p p-$p.qcow2 4M
  ${qio("p-$p.qcow2", "write -P 1 1M 64k")}
done`,
    runs: ["off", "metadata", "falloc", "full"].flatMap((p) => both(`p-${p}.qcow2`)),
  },
  {
    name: "prealloc-raw",
    description: "raw preallocation off/falloc/full (falloc = unwritten extents = holes), one 4k write",
    setup: `
for p in off falloc full; do
  qemu-img create -q -f raw -o preallocation=$p r-$p.raw 1M
  ${qioRaw("r-$p.raw", "write -P 1 256k 4k")}
done`,
    runs: ["off", "falloc", "full"].flatMap((p) => both(`r-${p}.raw`)),
  },
  {
    name: "raw-variants",
    description: "fully allocated raw, truncate-made raw with scattered data, 1000-byte raw",
    setup: `
qemu-img create -q -f raw full.raw 1M
${qioRaw("full.raw", "write -P 7 0 1M")}
truncate -s 2M holes.raw
${qioRaw("holes.raw", "write -P 1 0 1", "write -P 2 8k 4k", "write -P 3 12k 100", "write -P 4 1M 5000", "write -P 5 2093052 100")}
head -c 1000 /dev/zero | tr '\\0' '\\5' > small.raw`,
    runs: [...both("full.raw"), ...both("holes.raw", "-f", "raw"), ...both("holes.raw"), ...both("small.raw")],
  },
  {
    name: "raw-backing-odd-size",
    description: "qcow2 overlay over a 1000-byte raw backing (rounded to 1024) and an odd-size qcow2 header size",
    setup: `
head -c 1000 /dev/zero | tr '\\0' '\\6' > base1000.raw
qemu-img create -q -f qcow2 -o cluster_size=4k -F raw -b base1000.raw top.qcow2 64k
${qio("top.qcow2", "write -P 3 32k 4k")}
qemu-img create -q -f qcow2 odd.qcow2 1000000
${qio("odd.qcow2", "write -P 4 999000 936")}`,
    runs: [...both("top.qcow2"), ...both("odd.qcow2"), ["map", "--output=json", "-s", "1000", "top.qcow2"]],
  },
  {
    name: "huge-3tib",
    description: "3 TiB qcow2 with writes above 4 GiB, above 2 TiB and in the last cluster",
    setup: `
qemu-img create -q -f qcow2 huge.qcow2 3T
${qio("huge.qcow2", "write -P 1 0 64k", "write -P 2 4G 64k", "write -P 3 2T 128k", "write -z 2200G 64k", "write -P 4 3298534817792 64k")}`,
    runs: [
      ...both("huge.qcow2"),
      ["map", "--output=json", "-s", "2T", "huge.qcow2"],
      ["map", "-s", "4294966784", "-l", "1M", "huge.qcow2"],
    ],
  },
  {
    name: "huge-host-offsets",
    description: "6G metadata-preallocated qcow2 (2M clusters): data at host offsets above 4 GiB in a sparse file",
    setup: `
qemu-img create -q -f qcow2 -o cluster_size=2M,preallocation=metadata hb.qcow2 6G
${qio("hb.qcow2", "write -P 5 5G 2M", "write -P 6 4100M 64k")}`,
    runs: both("hb.qcow2"),
  },
  {
    name: "giant-8pib",
    description: "8 PiB qcow2 (2M clusters): human columns of 16 characters touch the next column",
    setup: `
qemu-img create -q -f qcow2 -o cluster_size=2M g.qcow2 8P
${qio("g.qcow2", "write -P 1 4P 64k", "write -P 2 9007199252643840 64k")}`,
    runs: [...both("g.qcow2"), ["map", "-s", "4P", "g.qcow2"]],
  },
  {
    name: "raw-huge-sparse",
    description: "3 TiB sparse raw file with data above 2 TiB and an unaligned 10-byte write above 4 GiB",
    setup: `
truncate -s 3T big.raw
${qioRaw("big.raw", "write -P 1 2T 4k", "write -P 2 4294967396 10")}`,
    runs: [...both("big.raw"), ["map", "--output=json", "-s", "2T", "-l", "8k", "big.raw"]],
  },
  {
    name: "encrypted",
    description: "encrypted qcow2 (LUKS aes-128-cbc-essiv to keep the key material small, and legacy AES), " +
      "4k clusters; recorded with the key, expected from a keyless imgaudit map",
    setup: `
S="--object secret,id=sec0,data=abc"
L=encrypt.format=luks,encrypt.hash-alg=sha512,encrypt.cipher-alg=aes-128,encrypt.cipher-mode=cbc,encrypt.ivgen-alg=essiv,encrypt.ivgen-hash-alg=sha256
# the PBKDF benchmark fails with "Unable to get accurate CPU usage" when 2^15
# iterations take < 1 ms of CPU (often with sha256 here): sha512, and retry
for try in 1 2 3 4 5; do
  qemu-img create -q $S -f qcow2 -o $L,encrypt.key-secret=sec0,encrypt.iter-time=100,cluster_size=4k luks.qcow2 1M && break
done
qemu-img create -q $S -f qcow2 -o encrypt.format=aes,encrypt.key-secret=sec0,cluster_size=4k aes.qcow2 1M
for f in luks aes; do
  qemu-io $S --image-opts driver=qcow2,file.filename=$f.qcow2,encrypt.key-secret=sec0 \\
    -c 'write -P 1 64k 4k' -c 'write -z 256k 64k' -c 'write -P 2 512k 4k' >/dev/null
done`,
    runs: ["luks.qcow2", "aes.qcow2"].flatMap((img) =>
      [["--output=json"], [], ["-s", "256k", "-l", "128k", "--output=json"]].map((opts) => ({
        args: ["map", ...opts, img],
        qemuArgs: [
          "map", ...opts, "--object", "secret,id=sec0,data=abc",
          "--image-opts", `driver=qcow2,file.filename=${img},encrypt.key-secret=sec0`,
        ],
      }))),
  },
];
