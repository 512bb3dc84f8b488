#!/usr/bin/env bash
# Build kvs/node:dev and kvs/operator:dev without a Docker engine or a registry: the same
# layout as images/node.Dockerfile and images/operator.Dockerfile (WORKDIR /app with dist/,
# node_modules/ (production deps only), proto/, package.json; USER node (1000); ENTRYPOINT
# node dist/...), on the locally assembled base kvs/node-base:dev instead of node:20-slim.
#
#   images/build-offline.sh [--build] [--import] [--tag dev]
#     --build   run `npm run build` first (otherwise dist/ must exist)
#     --import  also import into the running local cluster's containerd (namespace k8s.io)
#
# Output: $KVS_IMAGES/extra/kvs-images.tar (one docker-archive holding both images); up.sh
# imports every tar in $KVS_IMAGES/extra when the cluster starts.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
. "$repo/e2e/cluster/env.sh"

build=0 import=0 tag=dev
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build=1; shift ;;
    --import) import=1; shift ;;
    --tag) tag=$2; shift 2 ;;
    *) kvs_die "unknown argument $1" ;;
  esac
done

[ -s "$KVS_IMAGES/node-base.tar" ] || "$here/build-base.sh"
if [ $build = 1 ]; then (cd "$repo" && npm run build); fi
for f in dist/node/src/server/main.js dist/operator/src/main.js; do
  [ -f "$repo/$f" ] || kvs_die "$repo/$f missing: run 'npm run build' (or pass --build)"
done

# Production dependencies, cached by the lockfile's hash (npm ci --omit=dev).
lock=$repo/package-lock.json
[ -f "$lock" ] || kvs_die "package-lock.json missing"
key=$(cat "$repo/package.json" "$lock" | sha256sum | cut -c1-16)
deps=$KVS_CACHE/prod-deps/$key
if [ -d "$deps/node_modules" ]; then
  kvs_log "reuse production node_modules $deps"
else
  kvs_log "npm ci --omit=dev into $deps"
  rm -rf "$deps.tmp"; mkdir -p "$deps.tmp"
  cp "$repo/package.json" "$lock" "$deps.tmp/"
  (cd "$deps.tmp" && npm ci --omit=dev --no-audit --no-fund --loglevel=error >/dev/null)
  rm -rf "$deps"; mv "$deps.tmp" "$deps"
fi

app=$(mktemp -d)
trap 'rm -rf "$app" "$app.out"' EXIT
mkdir -p "$app/app"
cp -a "$repo/dist" "$app/app/dist"
find "$app/app/dist" -name '*.map' -delete
rm -rf "$app/app/dist/test" "$app/app/dist/bench" "$app/app/dist/e2e"
cp -a "$deps/node_modules" "$app/app/node_modules"
cp -a "$repo/proto" "$app/app/proto"
cp "$repo/package.json" "$app/app/package.json"
chmod -R a+rX "$app/app"

# Both images in one docker-archive: they share every layer, so the tar (and each import)
# holds the bytes once.
mkdir -p "$KVS_IMAGES/extra"
out=$app.out
mkdir -p "$out"
"$here/mkimage.sh" --tag "kvs/node:$tag" --out "$out/node.tar" \
  --from "$KVS_IMAGES/node-base.tar" --layer "$app" --user 1000:1000 --workdir /app \
  --env NODE_ENV=production --entrypoint '["node","dist/node/src/server/main.js"]'
"$here/mkimage.sh" --tag "kvs/operator:$tag" --out "$out/operator.tar" \
  --from "$KVS_IMAGES/node-base.tar" --layer "$app" --user 1000:1000 --workdir /app \
  --env NODE_ENV=production --entrypoint '["node","dist/operator/src/main.js"]'
"$here/mkimage.sh" --merge "$KVS_IMAGES/extra/kvs-images.tar" "$out/node.tar" "$out/operator.tar"
rm -rf "$out" "$KVS_IMAGES/extra/kvs-node.tar" "$KVS_IMAGES/extra/kvs-operator.tar"

if [ $import = 1 ]; then
  sock=$KVS_CLUSTER_DIR/containerd/containerd.sock
  [ -S "$sock" ] || kvs_die "no running cluster containerd at $sock (start it with e2e/cluster/up.sh)"
  ctr --address "$sock" -n k8s.io images import "$KVS_IMAGES/extra/kvs-images.tar" >/dev/null
  kvs_log "imported kvs/node:$tag and kvs/operator:$tag into containerd (k8s.io)"
fi
kvs_log "images: kvs/node:$tag kvs/operator:$tag in $KVS_IMAGES/extra"
