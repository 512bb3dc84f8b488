#!/usr/bin/env bash
# Build the local images that need no project code, without a registry:
#   - pause (k8s sandbox):  built from build/pause/linux/pause.c of the kubernetes module source
#   - kvs/coredns:<ver>     the static CoreDNS built by e2e/cluster/build.sh
#   - kvs/node-base:dev     the host's /usr/bin/node + the shared libraries ldd finds, a non-root
#                           user "node" (uid 1000, as in node:20-slim), /tmp; the stand-in for
#                           node:20-slim that images/build-offline.sh builds on.
# Output: docker-archive tars in $KVS_IMAGES (reused when their inputs did not change).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../e2e/cluster/env.sh"
mkdir -p "$KVS_IMAGES"

PAUSE_TAG=$KVS_PAUSE_IMAGE
BASE_TAG=$KVS_BASE_IMAGE
COREDNS_TAG=$KVS_COREDNS_IMAGE

# --- pause ---
pause_src="$GOMODCACHE/k8s.io/kubernetes@$KVS_K8S_VERSION/build/pause/linux/pause.c"
if [ -s "$KVS_IMAGES/pause.tar" ] && [ "$KVS_IMAGES/pause.tar" -nt "$pause_src" ]; then
  kvs_log "reuse $KVS_IMAGES/pause.tar"
else
  [ -f "$pause_src" ] || kvs_die "missing $pause_src (run e2e/cluster/build.sh first)"
  d=$(mktemp -d)
  gcc -Os -static -DVERSION="$KVS_K8S_VERSION-kvs" -o "$d/pause" "$pause_src"
  strip "$d/pause"
  "$here/mkimage.sh" --tag "$PAUSE_TAG" --out "$KVS_IMAGES/pause.tar" --layer "$d" \
    --entrypoint '["/pause"]' --user 65535:65535
  rm -rf "$d"
fi

# --- coredns ---
if [ -x "$KVS_BIN/coredns" ]; then
  if [ -s "$KVS_IMAGES/coredns.tar" ] && [ "$KVS_IMAGES/coredns.tar" -nt "$KVS_BIN/coredns" ]; then
    kvs_log "reuse $KVS_IMAGES/coredns.tar"
  else
    d=$(mktemp -d)
    cp "$KVS_BIN/coredns" "$d/coredns"
    "$here/mkimage.sh" --tag "$COREDNS_TAG" --out "$KVS_IMAGES/coredns.tar" --layer "$d" \
      --entrypoint '["/coredns"]' --user 65532:65532 --expose 53/udp --expose 53/tcp
    rm -rf "$d"
  fi
fi

# --- node base ---
node_bin=$(readlink -f "$(command -v node)")
stamp="$(sha256sum "$node_bin" "$here/build-base.sh" "$here/mkimage.sh" | sha256sum | cut -c1-16)"
if [ -s "$KVS_IMAGES/node-base.tar" ] && [ "$(cat "$KVS_IMAGES/node-base.stamp" 2>/dev/null)" = "$stamp" ]; then
  kvs_log "reuse $KVS_IMAGES/node-base.tar ($("$node_bin" --version))"
else
  root=$(mktemp -d)
  mkdir -p "$root/usr/bin" "$root/etc" "$root/tmp" "$root/app" "$root/home/node" "$root/root"
  chmod 1777 "$root/tmp"
  cp "$node_bin" "$root/usr/bin/node"
  # shared libraries (and the dynamic loader) at the same paths as on the host
  for lib in $(ldd "$node_bin" | grep -oE '/[^ ]+' | sort -u); do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
  # usrmerge hosts: /lib and /lib64 are links to usr/*
  for l in lib lib64; do
    if [ -L "/$l" ] && [ -d "$root/$l" ] && [ ! -L "$root/$l" ]; then
      mkdir -p "$root/usr/$l"; cp -a "$root/$l/." "$root/usr/$l/"; rm -rf "${root:?}/$l"
      ln -s "usr/$l" "$root/$l"
    fi
  done
  cat > "$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/sbin/nologin
node:x:1000:1000:node:/home/node:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
EOF
  cat > "$root/etc/group" <<'EOF'
root:x:0:
node:x:1000:
nogroup:x:65534:
EOF
  printf 'passwd: files\ngroup: files\nhosts: files dns\n' > "$root/etc/nsswitch.conf"
  if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
    mkdir -p "$root/etc/ssl/certs"; cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
  fi
  "$here/mkimage.sh" --tag "$BASE_TAG" --out "$KVS_IMAGES/node-base.tar" --layer "$root" \
    --cmd '["node"]' --user 1000:1000 --workdir /app --env NODE_ENV=production
  echo "$stamp" > "$KVS_IMAGES/node-base.stamp"
  rm -rf "$root"
fi
