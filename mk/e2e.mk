# End-to-end on a real local Kubernetes (e2e/run-e2e.sh): cluster-up → images → helm install →
# sample KvsCluster → client checks from the host → teardown (always). Needs root.
.PHONY: e2e

TEST_TARGETS += e2e

e2e: build
	e2e/run-e2e.sh dist
