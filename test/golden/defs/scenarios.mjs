// Cases mirroring the qcow2/raw scenarios S01–S23 of
// shared/research/qemu-map-semantics.md §5.3. S12, S13, S16, S17 are out of
// scope (vmdk, vpc, NBD); S07 is kept only without O_DIRECT (its O_DIRECT
// part needs --image-opts). File names differ from the research where one
// scenario reused a name for several images.
import { both, qio, qioRaw } from "./helpers.mjs";

export const scenarioCases = [
  {
    name: "s01-concat",
    description: "S01 iotest 122: convert of three 4M qcow2 images into one",
    setup: `
for i in 1 2 3; do qemu-img create -q -f qcow2 t.qcow2.$i 4M; done
${qio("t.qcow2.1", "write -P 0x11 0 64k")}
${qio("t.qcow2.2", "write -P 0x22 0 64k")}
${qio("t.qcow2.3", "write -P 0x33 0 64k")}
qemu-img convert -O qcow2 t.qcow2.1 t.qcow2.2 t.qcow2.3 t.qcow2
rm t.qcow2.1 t.qcow2.2 t.qcow2.3`,
    runs: both("t.qcow2"),
  },
  {
    name: "s01-compressed",
    description: "S01 iotest 122: compressed concatenation; human map fails (exit 1)",
    setup: `
for i in 1 2 3; do qemu-img create -q -f qcow2 t.qcow2.$i 4M; done
${qio("t.qcow2.1", "write -P 0x11 0 64k")}
${qio("t.qcow2.2", "write -P 0x22 0 64k")}
${qio("t.qcow2.3", "write -P 0x33 0 64k")}
qemu-img convert -c -O qcow2 t.qcow2.1 t.qcow2.2 t.qcow2.3 t.qcow2
rm t.qcow2.1 t.qcow2.2 t.qcow2.3`,
    runs: [
      { args: ["map", "--output=json", "t.qcow2"], exit: 0 },
      { args: ["map", "t.qcow2"], exit: 1 },
      { args: ["map", "--output=human", "t.qcow2"], exit: 1 },
    ],
  },
  {
    name: "s02-compress-misaligned",
    description: "S02 iotest 122: compression of 1k-cluster 1023k sources, misaligned writes",
    setup: `
qemu-img create -q -f qcow2 -o cluster_size=1024 t.qcow2.1 1023k
qemu-img create -q -f qcow2 -o cluster_size=1024 t.qcow2.2 1023k
${qio("t.qcow2.1", "write -P 0x11 16k 16k", "write -P 0x22 130k 130k", "write -P 0x33 1022k 1k")}
${qio("t.qcow2.2", "write -P 0x44 0k 1k")}
qemu-img convert -c -O qcow2 t.qcow2.1 t.qcow2.2 t.qcow2
rm t.qcow2.1 t.qcow2.2`,
    runs: both("t.qcow2"),
  },
  {
    name: "s03-nonzero-S",
    description: "S03 iotest 122: convert -S 4k/8k with 1k clusters, with and without -c",
    setup: `
qemu-img create -q -f qcow2 -o cluster_size=1k t.qcow2 64M
${qio("t.qcow2", "write -P 0 0 64k", "write 0 1k", "write 8k 1k", "write 17k 1k", "write -P 0 65k 1k")}
for s in 4k 8k; do
  qemu-img convert -O qcow2 -o cluster_size=1k -S $s t.qcow2 s$s.qcow2
  qemu-img convert -O qcow2 -o cluster_size=1k -c -S $s t.qcow2 c$s.qcow2
done
rm t.qcow2`,
    runs: [
      ...both("s4k.qcow2"),
      ["map", "--output=json", "c4k.qcow2"],
      ...both("s8k.qcow2"),
      ["map", "--output=json", "c8k.qcow2"],
    ],
  },
  {
    name: "s04-backing-zeros",
    description: "S04 iotest 154: 4k-cluster overlay with write -z over a 512-byte-cluster base",
    setup: `
qemu-img create -q -f qcow2 -o cluster_size=512 t.qcow2.base 128M
qemu-img create -q -f qcow2 -o cluster_size=4k -b t.qcow2.base -F qcow2 t.qcow2
${qio("t.qcow2", "write -z 0 2k", "write -z 10k 2k", "write -z 17k 2k", "write -z 27k 2k")}`,
    runs: [...both("t.qcow2"), ["map", "--output=json", "t.qcow2.base"]],
  },
  {
    name: "s05-write-zeroes",
    description: "S05 iotest 179: write-zeroes with/without unmap, ZERO_ALLOC runs",
    setup: `
qemu-img create -q -f qcow2 t.qcow2.base 64M
${qio("t.qcow2.base", "write -z -u 2M 2M", "write -z 6M 2M")}
${qio("t.qcow2.base", "write 18M 14M", "write -z -u 20M 2M", "write -z 24M 6M")}`,
    runs: both("t.qcow2.base"),
  },
  {
    name: "s06-raw-odd-size",
    description: "S06 iotest 221: 65537-byte raw file, 1 byte of data at 65536, trailing hole",
    setup: `
qemu-img create -q -f raw t.raw 65537
${qioRaw("t.raw", "discard 0 65537")}
truncate --size=65537 t.raw
${qioRaw("t.raw", "w 65536 1")}
truncate --size=65537 t.raw`,
    runs: [...both("t.raw", "-f", "raw"), ...both("t.raw")],
  },
  {
    name: "s07-raw-unaligned-eof",
    description: "S07 iotest 253 without O_DIRECT: 1048575-byte raw, byte-exact EOF extent",
    setup: `
qemu-img create -q -f raw t.raw 1048575
truncate --size=1048575 t.raw
${qioRaw("t.raw", "w 983040 65535")}`,
    runs: [...both("t.raw", "-f", "raw"), ["map", "--output=json", "t.raw"]],
  },
  {
    name: "s08-rebase",
    description: "S08 iotest 252: flatten with rebase -b '' then rebase onto a new base",
    setup: `
C=65536
qemu-img create -q -f qcow2 flat.qcow2 $((6*C))
qemu-img create -q -f qcow2 base_new.qcow2 $((6*C))
${qio("flat.qcow2", "write -P 0x22 0 128k", "write -P 0x11 128k 128k")}
${qio("base_new.qcow2", "write -P 0x11 0 64k", "write -P 0x11 128k 64k", "write -P 0x11 256k 64k")}
qemu-img rebase -b "" flat.qcow2
cp flat.qcow2 rebased.qcow2
qemu-img rebase -b base_new.qcow2 -F qcow2 rebased.qcow2`,
    runs: [...both("flat.qcow2"), ...both("rebased.qcow2")],
  },
  {
    name: "s09-discard-v2-v3",
    description: "S09 iotest 290: discard in compat=0.10 vs 1.1, with and without backing",
    setup: `
for c in 0.10 1.1; do
  qemu-img create -q -f qcow2 -o compat=$c nb-$c.qcow2 128k
  ${qio("nb-$c.qcow2", "write -P 0x01 0 128k", "discard 0 128k")}
done
qemu-img create -q -f qcow2 base.qcow2 128k
${qio("base.qcow2", "write -P 0xff 0 128k")}
for c in 0.10 1.1; do
  qemu-img create -q -f qcow2 -o compat=$c -b base.qcow2 -F qcow2 wb-$c.qcow2
  ${qio("wb-$c.qcow2", "write -P 0x01 0 128k", "discard 0 128k")}
done`,
    runs: [
      ...both("nb-0.10.qcow2"), ...both("nb-1.1.qcow2"),
      ...both("wb-0.10.qcow2"), ...both("wb-1.1.qcow2"),
    ],
  },
  {
    name: "s10-shrink-grow",
    description: "S10 iotest 292: shrink then grow an overlay whose backing file is larger",
    setup: `
qemu-img create -q -f qcow2 t.qcow2.base 1M
${qio("t.qcow2.base", "write -P 0x11 0 1M")}
qemu-img create -q -f qcow2 -F qcow2 -b t.qcow2.base t.qcow2
${qio("t.qcow2", "write -P 0x22 0 1M")}
qemu-img resize -q --shrink t.qcow2 520k
qemu-img resize -q t.qcow2 567k`,
    runs: both("t.qcow2"),
  },
  {
    name: "s11-extl2-prealloc-rawbase",
    description: "S11 iotest 271: extended L2 + preallocation metadata/falloc/full over a raw backing, resized",
    setup: `
qemu-img create -q -f raw base.raw 1M
qemu-io -f raw -c "write -q -P 0xff 0 1M" base.raw
for p in metadata falloc full; do
  qemu-img create -q -f qcow2 -o extended_l2=on,preallocation=$p -F raw -b base.raw $p.qcow2 512k
  qemu-img resize -q $p.qcow2 1M
done`,
    runs: [...both("metadata.qcow2"), ...both("falloc.qcow2"), ...both("full.qcow2")],
  },
  {
    name: "s14-convert-sparse",
    description: "S14 iotest 150: all-zero null-co source converted with -S 512 and -S 0 (qcow2, raw)",
    setup: `
src="json:{ 'driver': 'null-co', 'size': 1048576, 'read-zeroes': true }"
for fmt in qcow2 raw; do
  qemu-img convert -O $fmt -S 512 "$src" sparse.$fmt
  qemu-img convert -O $fmt -S 0 "$src" full.$fmt
done`,
    runs: [
      ...both("sparse.qcow2", "-f", "qcow2"), ...both("full.qcow2", "-f", "qcow2"),
      ...both("sparse.raw", "-f", "raw"), ...both("full.raw", "-f", "raw"),
    ],
  },
  {
    name: "s15-prealloc-1M-clusters",
    description: "S15 iotest 250: 2100M metadata-preallocated image with 1M clusters, discards and writes at both ends",
    setup: `
qemu-img create -q -f qcow2 -o cluster_size=1M,preallocation=metadata t.qcow2 2100M
${qio("t.qcow2", "discard 0 10M", "discard 2090M 10M", "write 2090M 10M", "write 0 10M")}`,
    runs: both("t.qcow2"),
  },
  {
    name: "s18-cluster-beyond-eof",
    description: "S18 iotest 102: data cluster beyond the truncated host file",
    setup: `
qemu-img create -q -f qcow2 t.qcow2 64k
${qio("t.qcow2", "write 0 64k")}
qemu-img resize -q -f raw --shrink t.qcow2 $((5 * 64 * 1024))`,
    runs: both("t.qcow2"),
  },
  {
    name: "s19-three-level-chain",
    description: "S19: base 2M <- mid 4M <- top 6M, depth/present semantics",
    setup: `
qemu-img create -q -f qcow2 base.qcow2 2M
${qio("base.qcow2", "write -P 1 0 512k", "write -z 1M 64k")}
qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 mid.qcow2 4M
${qio("mid.qcow2", "write -P 2 512k 512k")}
qemu-img create -q -f qcow2 -b mid.qcow2 -F qcow2 top.qcow2 6M
${qio("top.qcow2", "write -P 3 3M 64k", "write -z 5M 64k")}`,
    runs: [...both("top.qcow2"), ...both("mid.qcow2"), ["map", "--output=json", "base.qcow2"]],
  },
  {
    name: "s20-extl2-subclusters",
    description: "S20: extended L2 subclusters, without and with a qcow2 backing",
    setup: `
qemu-img create -q -f qcow2 -o extended_l2=on ext.qcow2 1M
${qio("ext.qcow2", "write -P 1 2k 2k", "write -P 2 6k 4k", "write -z 32k 4k", "write -P 3 128k 64k", "write -z 256k 64k")}
qemu-img create -q -f qcow2 bb.qcow2 1M
${qio("bb.qcow2", "write -P 9 0 1M")}
qemu-img create -q -f qcow2 -o extended_l2=on -b bb.qcow2 -F qcow2 extb.qcow2
${qio("extb.qcow2", "write -P 1 2k 2k", "write -z 8k 2k")}`,
    runs: [...both("ext.qcow2"), ...both("extb.qcow2")],
  },
  {
    name: "s21-prealloc-detect",
    description: "S21: metadata-preallocation detection (zero:true data:true holes)",
    setup: `
qemu-img create -q -f qcow2 -o preallocation=metadata pm.qcow2 4M
${qio("pm.qcow2", "write -P 1 1M 64k")}`,
    runs: both("pm.qcow2"),
  },
  {
    name: "s21-data-file",
    description: "S21: external data file, efficient (d1) and data_file_raw=on (d2)",
    setup: `
qemu-img create -q -f qcow2 -o data_file=d1.raw d1.qcow2 4M
qemu-img create -q -f qcow2 -o data_file=d2.raw,data_file_raw=on d2.qcow2 4M
for i in 1 2; do ${qio("d$i.qcow2", "write -P 5 64k 64k", "write -z 1M 64k")}; done`,
    runs: [...both("d1.qcow2"), ...both("d2.qcow2")],
  },
  {
    name: "s22-data-file-244",
    description: "S22 iotest 244: external data file efficient / data_file_raw / cluster at offset 0",
    setup: `
qemu-img create -q -f qcow2 -o data_file=e.data e.qcow2 64M
${qio("e.qcow2", "write -P 0x11 1M 4M", "discard 2M 2M", "write -z 3M 3M")}
qemu-img create -q -f qcow2 -o data_file=r.data,data_file_raw=on r.qcow2 64M
${qio("r.qcow2", "write -P 0x11 1M 4M", "discard 2M 2M", "write -z 3M 3M")}
qemu-img create -q -f qcow2 -o data_file=z.data z.qcow2 64M
${qio("z.qcow2", "write -P 0x11 0 1M")}`,
    runs: [...both("e.qcow2"), ...both("r.qcow2"), ["map", "--output=human", "z.qcow2"], ["map", "--output=json", "z.qcow2"]],
  },
  {
    name: "s23-short-mid",
    description: "S23 iotest 274: base 2M <- mid 1M (short) <- top 2M, names without extension",
    setup: `
qemu-img create -q -f qcow2 base 2M
qemu-img create -q -f qcow2 -b base -F qcow2 mid 1M
qemu-img create -q -f qcow2 -b mid -F qcow2 top 2M
${qio("base", "write -P 1 0 2M")}`,
    runs: [
      ["map", "--output=json", "base"], ["map", "--output=human", "base"],
      ["map", "--output=json", "mid"], ["map", "--output=human", "mid"],
      ["map", "--output=json", "top"], ["map", "--output=human", "top"],
    ],
  },
];
