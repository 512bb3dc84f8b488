# Jepsen-style nemesis runs (docs/jepsen.md): 3- and 5-node clusters of kvs-node processes on loopback,
# a fault-injecting proxy on every node-to-node link, clients of one workload (registers checked by
# Porcupine; transactional counters, bank transfers, write skew), a seeded fault schedule (kill -9,
# SIGSTOP, partitions, membership changes, leader transfers, wiped disks, clock jumps/drift).
#   make jepsen                 $(RUNS) runs (default 10), seeds 1..RUNS, $(JEPSEN_JOBS) at a time
#   make jepsen RUNS=100        a longer campaign
#   make jepsen SEED=42         replay one run (the failing-run report prints the exact command)
#   make jepsen SEED=7 JEPSEN_ARGS='--control no-commit-fence'   a negative control (must fail)
#   make test-jepsen            what `make test` runs: a bounded set leading with every workload and
#                               fault kind, issue 10's counter recipe, and the negative controls
# Failing runs keep history.json, schedule.json, events.txt and node logs in test/out/jepsen/seed-<seed>/.
.PHONY: jepsen test-jepsen

TEST_TARGETS += test-jepsen

RUNS ?= 10
JEPSEN_JOBS ?= 1
JEPSEN_ARGS ?=
JEPSEN_RUN := dist/test/jepsen/run.js

jepsen: build
ifdef SEED
	node $(JEPSEN_RUN) --seed $(SEED) $(JEPSEN_ARGS)
else
	node $(JEPSEN_RUN) --runs $(RUNS) --jobs $(JEPSEN_JOBS) $(JEPSEN_ARGS)
endif

test-jepsen:
	@test -f $(JEPSEN_RUN) || { echo "test-jepsen: $(JEPSEN_RUN) missing (run make build)"; exit 1; }
	node $(JEPSEN_RUN) --bounded --mocha-summary
