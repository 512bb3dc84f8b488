#!/usr/bin/env bash
# Assemble a docker-archive image tar (what `docker save` writes, what `ctr images import`
# reads) from plain directories, one layer per directory, without a registry or a daemon.
#
#   mkimage.sh --tag kvs/node:dev --out node.tar [--from BASE.tar] --layer DIR [--layer DIR ...] \
#     [--entrypoint '["node","main.js"]'] [--cmd '[]'] [--user 10001:10001] [--workdir /app] \
#     [--env KEY=VALUE ...] [--expose 8080/tcp ...]
#
# --from BASE.tar puts the layers of another docker-archive (e.g. kvs/node-base) first, like
# FROM in a Dockerfile (the config is not inherited: give --user/--workdir/--entrypoint again).
# Layers are deterministic (sorted, mtime 0, owner 0:0), so equal inputs give equal digests.
set -euo pipefail

# mkimage.sh --merge OUT.tar A.tar B.tar ...: one docker-archive holding all their images
# (shared layers stored once).
if [ "${1:-}" = --merge ]; then
  shift; out=$1; shift
  work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
  manifests=""
  for a in "$@"; do
    mkdir -p "$work/x"; tar -xf "$a" -C "$work/x"
    m=$(tr -d '\n' < "$work/x/manifest.json"); m=${m#[}; m=${m%]}
    manifests+="${manifests:+,}$m"
    rm -f "$work/x/manifest.json"; cp -a "$work/x/." "$work/"; rm -rf "$work/x"
  done
  printf '[%s]' "$manifests" > "$work/manifest.json"
  mkdir -p "$(dirname "$out")"
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$work" -cf "$out.tmp" -- $(cd "$work" && LC_ALL=C ls -A)
  mv "$out.tmp" "$out"
  echo "mkimage.sh: merged $# archives -> $out" >&2
  exit 0
fi

tag= out= from= entrypoint='null' cmd='null' user= workdir=/
layers=() envs=() exposes=()
while [ $# -gt 0 ]; do
  case "$1" in
    --tag) tag=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --layer) layers+=("$2"); shift 2 ;;
    --from) from=$2; shift 2 ;;
    --entrypoint) entrypoint=$2; shift 2 ;;
    --cmd) cmd=$2; shift 2 ;;
    --user) user=$2; shift 2 ;;
    --workdir) workdir=$2; shift 2 ;;
    --env) envs+=("$2"); shift 2 ;;
    --expose) exposes+=("$2"); shift 2 ;;
    *) echo "mkimage.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$tag" ] && [ -n "$out" ] && { [ ${#layers[@]} -gt 0 ] || [ -n "$from" ]; } || { echo "mkimage.sh: --tag, --out and --layer are required" >&2; exit 2; }

json_str() { # JSON string literal of $1
  local s=${1//\\/\\\\}; s=${s//\"/\\\"}; printf '"%s"' "$s"
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
layer_files=() diff_ids=()
if [ -n "$from" ]; then
  [ -f "$from" ] || { echo "mkimage.sh: base archive $from missing" >&2; exit 1; }
  mkdir -p "$work/from"
  tar -xf "$from" -C "$work/from"
  # Layers of the base, in order (manifest.json: [{"Layers":[...]}]); the docker-archive
  # layer name is <sha256 of the layer tar>/layer.tar, which is also its diff_id.
  for l in $(tr -d '\n ' < "$work/from/manifest.json" | sed -E 's/.*"Layers":\[([^]]*)\].*/\1/' | tr -d '"' | tr ',' ' '); do
    sum=$(sha256sum "$work/from/$l" | cut -d' ' -f1)
    mkdir -p "$work/$sum"
    mv "$work/from/$l" "$work/$sum/layer.tar"
    layer_files+=("$sum/layer.tar")
    diff_ids+=("sha256:$sum")
  done
  rm -rf "$work/from"
fi
for dir in "${layers[@]}"; do
  [ -d "$dir" ] || { echo "mkimage.sh: layer dir $dir missing" >&2; exit 1; }
  chmod 0755 "$dir"
  tmp="$work/layer.tar"
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=posix \
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
    -C "$dir" -cf "$tmp" -- $(cd "$dir" && LC_ALL=C ls -A)
  sum=$(sha256sum "$tmp" | cut -d' ' -f1)
  mkdir -p "$work/$sum"
  mv "$tmp" "$work/$sum/layer.tar"
  layer_files+=("$sum/layer.tar")
  diff_ids+=("sha256:$sum")
done

env_json="\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\""
for e in "${envs[@]}"; do env_json+=",$(json_str "$e")"; done
expose_json=""
for p in "${exposes[@]}"; do expose_json+="${expose_json:+,}$(json_str "$p"):{}"; done
diff_json=""
for d in "${diff_ids[@]}"; do diff_json+="${diff_json:+,}\"$d\""; done

config="{\"architecture\":\"amd64\",\"os\":\"linux\",\"created\":\"1970-01-01T00:00:00Z\",\
\"config\":{\"User\":$(json_str "$user"),\"Env\":[$env_json],\"Entrypoint\":$entrypoint,\"Cmd\":$cmd,\
\"WorkingDir\":$(json_str "$workdir"),\"ExposedPorts\":{$expose_json},\"Labels\":{\"org.kvs.built-by\":\"images/mkimage.sh\"}},\
\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[$diff_json]},\"history\":[]}"
printf '%s' "$config" > "$work/config.json"
csum=$(sha256sum "$work/config.json" | cut -d' ' -f1)
mv "$work/config.json" "$work/$csum.json"

layers_json=""
for l in "${layer_files[@]}"; do layers_json+="${layers_json:+,}\"$l\""; done
printf '[{"Config":"%s.json","RepoTags":[%s],"Layers":[%s]}]' "$csum" "$(json_str "$tag")" "$layers_json" > "$work/manifest.json"

mkdir -p "$(dirname "$out")"
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$work" -cf "$out.tmp" -- $(cd "$work" && LC_ALL=C ls -A)
mv "$out.tmp" "$out"
echo "mkimage.sh: $tag -> $out (config sha256:$csum)" >&2
