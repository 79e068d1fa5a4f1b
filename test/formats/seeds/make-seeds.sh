#!/bin/sh
# Rebuilds seeds.json.gz: the valid images the format fuzzers mutate
# (test/fuzz/formats-*.fuzz.test.ts), made by qemu-img/qemu-io 7.2 so that
# the fuzzers need no QEMU. Backing files are named fz-base.raw (written by
# the fuzz harness itself). Run from anywhere; needs qemu-img, qemu-io, python3.
set -e
out="$(cd "$(dirname "$0")" && pwd)/seeds.json.gz"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT; cd "$work"
io() { f=$1; file=$2; shift 2; args=""; for op in "$@"; do args="$args -c \"$op\""; done; eval qemu-io -f "$f" $args "$file" >/dev/null; }
truncate -s 3M fz-base.raw
qemu-img create -q -f qed -o cluster_size=4k,table_size=2 qed-small.qed 2M; io qed qed-small.qed 'write -P 0x11 4k 8k' 'write -z 64k 4k' 'write -P 0x22 1M 12k'
qemu-img create -q -f qed -b fz-base.raw -F raw qed-backing.qed 4M; io qed qed-backing.qed 'write -P 0x33 64k 64k' 'write -z 1M 64k'
qemu-img create -q -f vdi -o static=off vdi-dyn.vdi 3M; io vdi vdi-dyn.vdi 'write -P 0x44 64k 64k' 'write -P 0x45 2M 4k'
qemu-img create -q -f vdi -o static=on vdi-static.vdi 2M
qemu-img create -q -f vpc vpc-dyn.vhd 3M; io vpc vpc-dyn.vhd 'write -P 0x55 64k 64k'
qemu-img create -q -f vpc -o subformat=fixed vpc-fixed.vhd 1M; io vpc vpc-fixed.vhd 'write -P 0x56 4k 4k'
qemu-img create -q -f vmdk -o zeroed_grain=on vmdk-sparse.vmdk 3M; io vmdk vmdk-sparse.vmdk 'write -P 0x66 64k 64k' 'write -z 1M 64k' 'write -P 0x67 2M 128k'
qemu-img create -q -f vmdk -o subformat=streamOptimized vmdk-stream.vmdk 2M; io vmdk vmdk-stream.vmdk 'write -P 0x68 64k 64k'
qemu-img create -q -f vmdk -b vmdk-sparse.vmdk -F vmdk vmdk-child.vmdk 3M; io vmdk vmdk-child.vmdk 'write -P 0x69 1M 64k'
qemu-img create -q -f vmdk -o subformat=monolithicFlat vmdk-flat.vmdk 1M
qemu-img create -q -f qcow qcow.qcow 2M; io qcow qcow.qcow 'write -P 0x77 64k 64k' 'write -c -P 0x78 1M 4k'
qemu-img create -q -f qcow -b fz-base.raw -F raw qcow-backing.qcow 4M; io qcow qcow-backing.qcow 'write -P 0x79 8k 4k'
qemu-img create -q -f parallels -o cluster_size=64k parallels.parallels 2M; io parallels parallels.parallels 'write -P 0x88 64k 64k' 'write -P 0x89 192k 64k' 'write -P 0x8a 128k 64k'
qemu-img create -q -f vhdx -o block_size=1M vhdx.vhdx 3M; io vhdx vhdx.vhdx 'write -P 0x99 64k 64k'
qemu-img create -q -f vhdx -o block_size=1M vhdx-dirty.vhdx 2M; io vhdx vhdx-dirty.vhdx 'write -P 0x9a 1M 4k'
# qemu-img's maps of the seeds whose map does not depend on host-file holes
# (test/formats/seeds.test.ts compares them without QEMU).
for f in qed-small.qed qed-backing.qed vdi-dyn.vdi vpc-dyn.vhd vmdk-sparse.vmdk vmdk-stream.vmdk vmdk-child.vmdk qcow.qcow qcow-backing.qcow parallels.parallels vhdx.vhdx; do
  for o in json human; do
    set +e; qemu-img map --output=$o "$f" >"map.$o.$f" 2>"err.$o.$f"; echo $? >"rc.$o.$f"; set -e
  done
done
python3 - "$out" <<'PY'
import base64, gzip, json, os, sys
names = sorted(n for n in os.listdir('.') if n != 'fz-base.raw' and not n.startswith(('map.', 'err.', 'rc.')))
seeds = {n: base64.b64encode(open(n, 'rb').read()).decode() for n in names}
maps = {}
for n in os.listdir('.'):
    if n.startswith('map.'):
        _, o, f = n.split('.', 2)
        maps.setdefault(f, {})[o] = {'stdout': open(n).read(), 'stderr': open(f'err.{o}.{f}').read(), 'code': int(open(f'rc.{o}.{f}').read())}
with gzip.open(sys.argv[1], 'wt') as f: json.dump({'qemuImg': os.popen('qemu-img --version').readline().strip(), 'seeds': seeds, 'maps': maps}, f)
PY
echo "wrote $out"
