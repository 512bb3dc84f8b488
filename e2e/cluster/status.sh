#!/usr/bin/env bash
# Is a local cluster running in $KVS_CLUSTER_DIR, which mode, started by what, which components
# are alive. Exit 0 if every recorded component runs, 1 if none/partial. The machine is shared:
# look here before running down.sh on a cluster you did not start.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/env.sh"
D=$KVS_CLUSTER_DIR
if [ ! -d "$D" ]; then echo "no cluster in $D"; exit 1; fi
echo "cluster dir:  $D (mode $(cat "$D/mode" 2>/dev/null || echo '?'))"
if [ -f "$D/started-by" ]; then
  echo "started:      $(sed -n 1p "$D/started-by") by: $(sed -n 2p "$D/started-by")"
fi
echo "kubeconfig:   $D/kubeconfig"
all=0 up=0
for f in "$D"/pids/*.pid; do
  [ -f "$f" ] || continue
  all=$((all + 1))
  p=$(cat "$f")
  if [ -r "/proc/$p/stat" ] && [ "$(awk '{print $3}' "/proc/$p/stat")" != Z ]; then
    up=$((up + 1)); st=running
  else
    st=DEAD
  fi
  printf '  %-26s pid %-8s %s\n' "$(basename "$f" .pid)" "$p" "$st"
done
echo "components:   $up of $all running"
[ "$all" -gt 0 ] && [ "$up" = "$all" ]
