#!/usr/bin/env bash
# Builds the porcupine linearizability checker once per source version and prints the binary's path.
# Cache: $HOME/.cache/kvs-tools/porcupine-<sha256 of go.sum, go.mod and the Go sources>.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
hash="$(cat go.sum go.mod $(ls *.go | grep -v '_test.go$' | sort) | sha256sum | cut -c1-16)"
cache="${KVS_TOOLS_CACHE:-$HOME/.cache/kvs-tools}"
bin="$cache/porcupine-$hash"
if [[ ! -x "$bin" ]]; then
  command -v go >/dev/null || { echo "porcupine/build.sh: go toolchain not found" >&2; exit 3; }
  mkdir -p "$cache"
  GOFLAGS=-mod=mod go build -trimpath -o "$bin.tmp.$$" . >&2
  mv -f "$bin.tmp.$$" "$bin"
fi
echo "$bin"
