#!/usr/bin/env bash
# Builds the addon's prebuilt binaries that ship in the package (prebuilds/),
# so installing imgaudit never needs a compiler: linux-x64 and linux-arm64
# for glibc, and linux-x64 for musl when musl-gcc is installed. The addon
# uses Node-API only, so one binary serves every Node version. Needs gcc,
# gcc-aarch64-linux-gnu and (optionally) musl-tools; run from the project
# root as `npm run build:native`. prebuilds/SOURCE.sha256 records the source
# the binaries were built from; a unit test fails when it is out of date.
set -euo pipefail
cd "$(dirname "$0")/../.."
headers=${npm_config_nodedir:-/usr}
rm -rf prebuilds build
export npm_config_nodedir="$headers"
npx prebuildify --napi --strip --arch x64
CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++ LINK=aarch64-linux-gnu-gcc \
  npx prebuildify --napi --strip --arch arm64 \
  --strip-bin aarch64-linux-gnu-strip 2>/dev/null || \
CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++ LINK=aarch64-linux-gnu-gcc \
  npx prebuildify --napi --arch arm64
if command -v musl-gcc >/dev/null 2>&1; then
  # musl's include path lacks the kernel headers (linux/fiemap.h): add them after its own.
  CC=musl-gcc CFLAGS="-idirafter /usr/include -idirafter /usr/include/x86_64-linux-gnu" LINK=musl-gcc \
    npx prebuildify --napi --strip --arch x64 --tag-libc --libc musl
fi
rm -rf build
sha256sum src/native/seek.c binding.gyp > prebuilds/SOURCE.sha256
find prebuilds -type f | sort
