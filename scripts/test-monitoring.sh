#!/usr/bin/env bash
# `make test-monitoring`: the alert rules (promtool check + unit tests, negative controls, the chart's
# PrometheusRule) and the dashboards (every panel's PromQL against a real Prometheus scraping a local
# 3-node kvs cluster under load). Installs Debian's prometheus package (promtool + server) when missing,
# and the chart tooling (helm, e2e/cluster/build.sh) when missing; binds 127.0.0.1 only.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
. e2e/cluster/env.sh

if ! command -v promtool >/dev/null 2>&1 || ! command -v prometheus >/dev/null 2>&1; then
  echo "installing Debian prometheus (promtool and the server, for the monitoring tests)"
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  # The package's service is not started in a container without an init (policy-rc.d); the tests run
  # their own server on a free loopback port.
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi
export PROMTOOL=${PROMTOOL:-$(command -v promtool)} PROMETHEUS=${PROMETHEUS:-$(command -v prometheus)}
export KVS_HELM=${KVS_HELM:-$KVS_BIN/helm}
[ -x "$KVS_HELM" ] || e2e/cluster/build.sh
[ -f dist/node/src/server/main.js ] || { echo "test-monitoring: dist/node/src/server/main.js missing (run make build)"; exit 1; }
exec node_modules/.bin/mocha --timeout 180000 --slow 20000 'dist/test/monitoring/**/*.test.js'
