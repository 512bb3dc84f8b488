# Deterministic Raft simulation (test/sim): seeded network/disk/crash faults, safety invariants
# after every step, linearizability of client histories, liveness after healing.
#   make sim                    run $(SEEDS) seeds (default 1000) on $(SIM_JOBS) worker threads
#   make sim SEED=42            replay one seed (add VERBOSE=1 for the full event trace)
#   make test-sim               what `make test` runs: 1000 seeds (built by `make build`)
.PHONY: sim test-sim

TEST_TARGETS += test-sim

SEEDS ?= 1000
SIM_JOBS ?= 2
SIM_RUN := dist/test/sim/run.js

sim: build
ifdef SEED
	node $(SIM_RUN) --seed $(SEED) $(if $(VERBOSE),--verbose,)
else
	node $(SIM_RUN) --seeds $(SEEDS) --jobs $(SIM_JOBS)
endif

test-sim:
	@test -f $(SIM_RUN) || { echo "test-sim: $(SIM_RUN) missing (run make build)"; exit 1; }
	node $(SIM_RUN) --seeds 1000 --jobs $(SIM_JOBS)
