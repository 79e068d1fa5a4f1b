#!/usr/bin/env bash
# Builds the demo estate the examples of README.md and docs/ were produced from (two
# roots under /srv/demo, a libvirt domain directory naming the images in use,
# two scans with changes between them). Needs qemu-img, qemu-io, fallocate
# and ~13 GiB of free disk (db.raw is fallocated).
# Usage: bench/make-demo.sh [imgaudit command, default: node dist/cli.js]
set -euo pipefail
IMGAUDIT=${1:-"node $(cd "$(dirname "$0")/.." && pwd)/dist/cli.js"}
DEMO=/srv/demo
G=$((1024 * 1024 * 1024)); M=$((1024 * 1024))
rm -rf "$DEMO" && mkdir -p "$DEMO/templates" "$DEMO/vm-images"
cd "$DEMO"
w() { qemu-io -f "$1" "${@:3}" "$2" >/dev/null; }   # w FMT FILE -c 'write ...' ...
qemu-img create -q -f qcow2 templates/debian-12.qcow2 20G
w qcow2 templates/debian-12.qcow2 -c "write -P 1 0 600M" -c "write -z 1G 256M"
qemu-img create -q -f qcow2 templates/ubuntu-24.04.qcow2 30G
w qcow2 templates/ubuntu-24.04.qcow2 -c "write -P 2 0 400M"
qemu-img create -q -f qcow2 templates/centos-7.qcow2 10G
w qcow2 templates/centos-7.qcow2 -c "write -P 3 0 300M"
cd vm-images
for vm in web1 web2; do
  qemu-img create -q -f qcow2 -b ../templates/debian-12.qcow2 -F qcow2 $vm.qcow2
  w qcow2 $vm.qcow2 -c "write -P 4 64M 120M"
done
qemu-img create -q -f qcow2 -b ../templates/ubuntu-24.04.qcow2 -F qcow2 ci.qcow2
w qcow2 ci.qcow2 -c "write -P 5 0 50M"
for i in 1 2 3 4; do
  prev=$([ $i = 1 ] && echo ci.qcow2 || echo ci-snap$((i - 1)).qcow2)
  qemu-img create -q -f qcow2 -b $prev -F qcow2 ci-snap$i.qcow2
  w qcow2 ci-snap$i.qcow2 -c "write -P $((5 + i)) $((i * 100))M 20M"
done
qemu-img create -q -f raw db.raw 64G
w raw db.raw -c "write -P 9 0 256M"
qemu-img create -q -f qcow2 -o preallocation=metadata backup.qcow2 100G
qemu-img create -q -f qcow2 -b ../templates/centos-7.qcow2 -F qcow2 legacy.qcow2
qemu-img create -q -f qcow2 -u -b ../templates/fedora-38.qcow2 -F qcow2 orphan.qcow2 20G
# What libvirt runs: every VM but orphan.qcow2 (a forgotten disk). Files are
# aged so that the orphan findings (older than check.orphanMinAge, 7 days) show.
mkdir -p "$DEMO/libvirt"
for vm in web1 web2 ci db backup legacy; do
  disk=$([ $vm = ci ] && echo ci-snap4.qcow2 || ([ $vm = db ] && echo db.raw || echo $vm.qcow2))
  printf '<domain type="kvm"><name>%s</name><devices><disk type="file" device="disk">\n  <driver name="qemu"/><source file="%s"/><target dev="vda"/></disk></devices></domain>\n' \
    $vm "$DEMO/vm-images/$disk" > "$DEMO/libvirt/$vm.xml"
done
printf '{ "roots": ["vm-images", "templates"], "database": "audit.db", "references": { "libvirtDomainDirs": ["libvirt"] } }\n' \
  > "$DEMO/imgaudit.json"
touch -d '45 days ago' orphan.qcow2 ../templates/centos-7.qcow2
sync
$IMGAUDIT scan --config "$DEMO/imgaudit.json" --quiet --fail-on never
# A day of changes: the database grows by 12 GiB, web1 writes, legacy goes, web3 comes.
fallocate -o $((1 * G)) -l $((12 * G)) db.raw
w qcow2 web1.qcow2 -c "write -P 7 512M 300M"
rm legacy.qcow2 "$DEMO/libvirt/legacy.xml"
qemu-img create -q -f qcow2 -b ../templates/debian-12.qcow2 -F qcow2 web3.qcow2
w qcow2 web3.qcow2 -c "write -P 8 0 40M"
cat > "$DEMO/libvirt/web3.xml" <<XML
<domain type="kvm"><name>web3</name><devices><disk type="file" device="disk">
  <source file="$DEMO/vm-images/web3.qcow2"/><target dev="vda"/></disk></devices></domain>
XML
sync
$IMGAUDIT scan --config "$DEMO/imgaudit.json" --quiet --fail-on never
