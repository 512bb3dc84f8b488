#!/usr/bin/env bash
# Runs each `make` test target in turn (all of them, even after a failure, so one run shows every
# problem), then prints one closing line "N passed, N failed" summed over the targets' test runners
# (mocha "N passing/failing", the simulation's "sim: N seeds passed, M failed", go test packages).
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p test/out
passed=0; failed=0; bad_targets=()
for t in "$@"; do
  log="test/out/make-$t.log"
  echo "== make $t"
  start=$SECONDS
  make --no-print-directory "$t" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  p=$(grep -aoE '^ *[0-9]+ passing' "$log" | awk '{s+=$1} END {print s+0}')
  f=$(grep -aoE '^ *[0-9]+ failing' "$log" | awk '{s+=$1} END {print s+0}')
  sp=$(grep -aoE '^sim: [0-9]+ seeds passed, [0-9]+ failed' "$log" | awk '{s+=$2; g+=$5} END {print s+0, g+0}')
  gp=$(grep -acE '^ok[[:space:]]' "$log"); gf=$(grep -acE '^(FAIL|--- FAIL)' "$log")
  p=$((p + ${sp% *} + gp)); f=$((f + ${sp#* } + gf))
  if [ "$rc" -ne 0 ]; then bad_targets+=("$t"); [ "$f" -eq 0 ] && f=1; fi
  passed=$((passed + p)); failed=$((failed + f))
  echo "== make $t: rc=$rc, $p passed, $f failed ($((SECONDS - start)) s)"
done
# A failed target's own diagnostics (e2e prints pod logs after mocha) can push mocha's failure list out of
# a CI log's tail; repeat each failed target's list here, last, so the tail names what failed and why.
for t in "${bad_targets[@]}"; do
  echo "== failures of make $t (from test/out/make-$t.log)"
  awk '/^ *[0-9]+ failing/ {on=1} on && n < 60 {print; n++}' "test/out/make-$t.log"
  grep -aE '^(--- FAIL|FAIL)|^sim: .*[1-9][0-9]* failed' "test/out/make-$t.log" | head -20
done
# The first failure of each target, folded onto one line, right above the count: a CI log may show only
# its last twenty lines, and the first failure is usually the cause of the ones after it.
for t in "${bad_targets[@]}"; do
  first=$(awk '/^ *[0-9]+ failing/ {on=1; next} on && /^ +1\) / {in1=1} in1 && /^ +(at |2\) )/ {exit} in1 {print}' "test/out/make-$t.log" \
    | tr -s ' \n' ' ' | cut -c1-1500)
  [ -n "$first" ] && echo "== first failure of make $t:$first"
done
if [ ${#bad_targets[@]} -gt 0 ]; then echo "failed targets: ${bad_targets[*]}"; fi
echo "$passed passed, $failed failed"
[ ${#bad_targets[@]} -eq 0 ]
