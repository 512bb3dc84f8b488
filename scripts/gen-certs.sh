#!/usr/bin/env bash
# Generates a throwaway PKI for a local TLS cluster (`KVS_TLS=1 make run`) with openssl:
#   ca.crt/ca.key          the CA (10 years)
#   node.crt/node.key      every node (CN kvs-node; SAN 127.0.0.1, localhost and $KVS_TLS_SANS; server + client auth)
#   admin.crt/admin.key    an admin client (CN kvs-admin: may call the Admin API — kvsctl member ...)
#   client.crt/client.key  a data client (CN kvs-client: Kv API only)
# Usage: scripts/gen-certs.sh DIR   (existing files are kept: delete DIR to start over)
set -euo pipefail
dir=${1:?usage: gen-certs.sh DIR}
command -v openssl >/dev/null || { echo "gen-certs: openssl not found (apt-get install openssl)" >&2; exit 1; }
mkdir -p "$dir"
cd "$dir"
umask 077

newkey=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
if [[ ! -f ca.crt ]]; then
  openssl req -x509 "${newkey[@]}" -keyout ca.key -out ca.crt -days 3650 -subj "/CN=kvs-local-ca" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
fi

issue() { # name cn eku [sans]
  local name=$1 cn=$2 eku=$3 sans=${4:-}
  [[ -f $name.crt ]] && return 0
  {
    echo "basicConstraints=CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$eku"
    [[ -n $sans ]] && echo "subjectAltName=$sans"
  } >"$name.ext"
  openssl req -new "${newkey[@]}" -keyout "$name.key" -out "$name.csr" -subj "/CN=$cn" 2>/dev/null
  openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -set_serial "0x$(openssl rand -hex 8)" -days 365 \
    -extfile "$name.ext" -out "$name.crt" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
}

sans="IP:127.0.0.1,DNS:localhost"
for s in ${KVS_TLS_SANS:-}; do sans+=",$s"; done
issue node kvs-node serverAuth,clientAuth "$sans"
issue admin kvs-admin clientAuth
issue client kvs-client clientAuth
echo "gen-certs: CA and certificates in $dir (ca.crt, node.*, admin.*, client.*)"
