#!/usr/bin/env bash
# Builds the self-contained artefact for hosts without a suitable Node:
#   imgaudit-VERSION-linux-ARCH.tar.gz
#     bin/imgaudit                      (a sh wrapper; link it onto PATH)
#     lib/node                          (the Node binary, from the npm registry's node-linux-ARCH)
#     lib/node_modules/imgaudit/...     (the package as `npm pack` ships it, with its dependencies)
# Usage: .ci/build-artefact.sh [x64|arm64] [OUTDIR]   (run after `npm ci`; default x64, ./artefacts)
# The Node version is the devDependency's (the active LTS the suite runs on).
set -euo pipefail
arch=${1:-x64}
root=$(cd "$(dirname "$0")/.." && pwd)
out=$(mkdir -p "${2:-$root/artefacts}" && cd "${2:-$root/artefacts}" && pwd)
case "$arch" in x64|arm64) ;; *) echo "build-artefact: arch must be x64 or arm64, not $arch" >&2; exit 2 ;; esac
cd "$root"
version=$(node -p "require('./package.json').version")
node_version=$(node -p "require('./node_modules/node/package.json').version")
[ -f dist/cli.js ] || npm run build
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
name="imgaudit-$version-linux-$arch"
stage="$work/$name"
mkdir -p "$stage/bin" "$stage/lib"

npm pack --ignore-scripts --silent --pack-destination "$work" >/dev/null
# Production dependencies only; no install scripts (the addon and SQLite come prebuilt).
npm install --prefix "$stage/lib" --install-strategy=shallow --omit=dev --ignore-scripts --no-audit --no-fund --no-save \
  --no-package-lock --silent "$work/imgaudit-$version.tgz"
rm -f "$stage/lib/package.json"
# Keep only the binaries this artefact can load.
find "$stage/lib/node_modules" -path '*/better-sqlite3/prebuilds/*' ! -name "linux*-$arch.node" -delete
find "$stage/lib/node_modules/imgaudit/prebuilds" -mindepth 1 -maxdepth 1 -type d ! -name "linux-$arch" -exec rm -rf {} +

(cd "$work" && npm pack --silent "node-linux-$arch@$node_version" >/dev/null && tar xzf "node-linux-$arch-$node_version.tgz" package/bin/node)
mv "$work/package/bin/node" "$stage/lib/node"
cp README.md LICENSE "$stage/"
cat > "$stage/bin/imgaudit" <<'WRAPPER'
#!/bin/sh
# imgaudit with its own Node: whatever node is on PATH (or none) is not used.
here=$(dirname "$(readlink -f "$0")")
exec "$here/../lib/node" "$here/../lib/node_modules/imgaudit/dist/cli.js" "$@"
WRAPPER
chmod 755 "$stage/bin/imgaudit"
tar -C "$work" -czf "$out/$name.tar.gz" "$name"
echo "$out/$name.tar.gz"
