# Multi-process integration tests (real kvs-node processes on 127.0.0.x, real disks) and the porcupine
# checker's own tests. `make test` runs them after the unit tests; the build is done by `make build`.
.PHONY: test-integration test-porcupine

TEST_TARGETS += test-porcupine test-integration

INTEGRATION_TIMEOUT_MS ?= 180000

# Go self-test of the linearizability checker (the Go toolchain fetches porcupine via the module proxy).
test-porcupine:
	cd test/porcupine && go vet ./... && go test -count=1 ./...

# bench-smoke compares against etcd, so the Debian etcd-server is installed first (mk/bench.mk).
test-integration: etcd-server
	@test -f dist/node/src/server/main.js || { echo "test-integration: dist/node/src/server/main.js missing (run make build)"; exit 1; }
	mocha --timeout $(INTEGRATION_TIMEOUT_MS) --slow 15000 'dist/test/integration/**/*.test.js'
