# Benchmarks: `make bench` runs (1) the single-node workloads against kvs and etcd side by side with the
# same load generator (bounded: ~10 s per workload), then (2) `bench-replicated`: kvs ×3 (one Raft group)
# vs etcd ×3 on loopback — put (W) and linearizable get (C) at 1, 64 and 256 in flight — and the
# failover time of both (leader SIGKILL → first acknowledged put, FAILOVER_TRIALS trials, median + max).
# BENCH_ARGS / BENCH_REPL_ARGS pass options to bench/run.ts, e.g.
#   make bench BENCH_ARGS="--workloads A,C --duration 5 --concurrency 1,64"
#   make bench-replicated BENCH_REPL_ARGS="--duration 5"
# BENCH_TLS=1: both stores with mutual TLS (throwaway CA; kvs --cert-file..., etcd --cert-file/--client-cert-auth
# and the same for its peers), e.g. `make bench-replicated BENCH_TLS=1` to see what TLS costs.
# `make porcupine` builds the linearizability checker into ~/.cache/kvs-tools/ and prints its path.
.PHONY: bench bench-single bench-replicated porcupine etcd-server

BENCH_ARGS ?=
BENCH_REPL_ARGS ?=
FAILOVER_TRIALS ?= 5
BENCH_TLS ?=
BENCH_TLS_FLAG := $(if $(filter 1 true yes,$(BENCH_TLS)),--tls,)

etcd-server:
	@command -v etcd >/dev/null 2>&1 || { echo "installing Debian etcd-server (benchmark comparison)"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq etcd-server) || \
	  echo "etcd-server could not be installed: the benchmark runs kvs only"; }

porcupine:
	@test/porcupine/build.sh

bench: bench-single bench-replicated bench-ranges bench-txn

# The kvs-vs-etcd ratio benchmarks measure every target BENCH_ROUNDS times, alternating, and report the
# median round per cell (bench/run.ts --rounds): on the shared 2-core VM one pass drifted ±25 %.
BENCH_ROUNDS ?= 3

bench-single: build etcd-server
	node dist/bench/run.js $(BENCH_TLS_FLAG) $(BENCH_ARGS)

bench-replicated: build etcd-server
	node dist/bench/run.js --kvs-nodes 3 --etcd-members 3 --workloads W,C --concurrency 1,64,256 --rounds $(BENCH_ROUNDS) --no-ceiling --markdown $(BENCH_TLS_FLAG) $(BENCH_REPL_ARGS)
	node dist/bench/failover.js --target both --members 3 --trials $(FAILOVER_TRIALS)

# Sharding (issue 12): kvs×3 with the loaded key space split into each of $(BENCH_RANGES) ranges (leaders spread
# round-robin over the stores) against etcd×3, the same workloads as bench-replicated (1 range).
BENCH_RANGES ?= 64,1
.PHONY: bench-ranges
bench-ranges: build etcd-server
	node dist/bench/run.js --kvs-nodes 3 --etcd-members 3 --kvs-ranges $(BENCH_RANGES) --workloads W,C --concurrency 1,64,256 --rounds $(BENCH_ROUNDS) --no-ceiling --markdown $(BENCH_REPL_ARGS)

# Transactions across ranges (issue 14): the 4-key read-modify-write transaction (T) with its keys on one
# range vs spread over $(BENCH_TXN_RANGES) ranges (kvs×3), side by side with etcd×3's STM-style transaction,
# at 1 and 64 in flight.
BENCH_TXN_RANGES ?= 1,4
BENCH_TXN_ARGS ?=
.PHONY: bench-txn
bench-txn: build etcd-server
	node dist/bench/run.js --kvs-nodes 3 --etcd-members 3 --kvs-ranges $(BENCH_TXN_RANGES) --workloads T --concurrency 1,64 --rounds $(BENCH_ROUNDS) --no-ceiling --markdown $(BENCH_TXN_ARGS)

# A hot range among N idle ones (issue 12: ≥ 80 % of the 1-range throughput at 10 000 ranges), and
# splits of the written range under c=64 load (no failed request, p99 during splits vs steady).
HOT_RANGE_ARGS ?=
SPLIT_LOAD_ARGS ?=
.PHONY: bench-hot-range bench-split-load
bench-hot-range: build
	node dist/bench/hot-range.js $(HOT_RANGE_ARGS)
bench-split-load: build
	node dist/bench/split-under-load.js $(SPLIT_LOAD_ARGS)

# Failover time alone: leader SIGKILL → first acknowledged put (FAILOVER_ARGS="--target etcd|kvs|both --trials 5").
.PHONY: bench-failover
FAILOVER_ARGS ?=
bench-failover: build etcd-server
	node dist/bench/failover.js $(FAILOVER_ARGS)

# Placement planner at scale, in simulation (issue 13, item 6): 1 000 stores in 10 zones, 100 000 ranges,
# RF 3, seeded; every step checked by the invariants. Prints the time of one planning pass and the
# passes/steps to converge after adding 100 stores and after losing a zone (a few minutes; the small
# version runs in `make test`: test/unit/operator/placement-scale.test.ts).
#   make placement-sim PLACEMENT_SIM_ARGS="--stores 200 --ranges 20000 --json"
.PHONY: placement-sim
PLACEMENT_SIM_ARGS ?=
placement-sim: build
	node dist/bench/placement-sim.js $(PLACEMENT_SIM_ARGS)

# Scale model vs simulation (docs/scaling.md): hundreds of simulated stores, up to 100 000 ranges × RF 3,
# seeded; counts heartbeats (per range / coalesced per store pair / quiesced), range-cache misses and
# meta-range lookups/writes, TSO requests and batched RPCs, and prints them next to the closed-form model
# (about a minute; the small version runs in `make test`: test/unit/bench/scale-sim.test.ts).
#   make scale-sim SCALE_SIM_ARGS="--sizes 500x50000 --active 0.05 --hints"
.PHONY: scale-sim
SCALE_SIM_ARGS ?=
scale-sim: build
	node dist/bench/scale-sim.js $(SCALE_SIM_ARGS)
