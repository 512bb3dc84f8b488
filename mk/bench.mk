# Benchmarks: `make bench` runs the single-node workloads against kvs and etcd side by side with the same
# load generator (bounded: ~10 s per workload). BENCH_ARGS passes options to bench/run.ts, e.g.
#   make bench BENCH_ARGS="--workloads A,C --duration 5 --concurrency 1,64"
# `make porcupine` builds the linearizability checker into ~/.cache/kvs-tools/ and prints its path.
.PHONY: bench porcupine etcd-server

BENCH_ARGS ?=

etcd-server:
	@command -v etcd >/dev/null 2>&1 || { echo "installing Debian etcd-server (benchmark comparison)"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq etcd-server) || \
	  echo "etcd-server could not be installed: the benchmark runs kvs only"; }

porcupine:
	@test/porcupine/build.sh

bench: build etcd-server
	node dist/bench/run.js $(BENCH_ARGS)

# Failover time: leader SIGKILL → first acknowledged put, 3 trials (etcd ×3 now; kvs with the Raft stage).
.PHONY: bench-failover
FAILOVER_ARGS ?=
bench-failover: build etcd-server
	node dist/bench/failover.js $(FAILOVER_ARGS)
