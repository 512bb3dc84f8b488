# Operator: CRD generation, unit tests, tests against a real kube-apiserver (docs/operator.md).
.PHONY: operator-crds operator-crds-check test-operator test-operator-k8s operator-run

TEST_TARGETS += test-operator-k8s

# Regenerates crds/kvs.dev_kvsclusters.yaml and the chart's copy from operator/src/api/schema.ts.
operator-crds: build
	node dist/operator/src/api/gen-crd.js

operator-crds-check: build
	node dist/operator/src/api/gen-crd.js --check

# Unit tests of the operator only (also part of test-unit).
test-operator: build
	mocha 'dist/test/unit/operator/**/*.test.js'

# etcd + kube-apiserver (e2e/cluster/up.sh --control-plane, own dir and ports), chart lint + dry run,
# then test/integration-k8s; always torn down.
test-operator-k8s: build
	e2e/run-operator-k8s.sh dist

# Run the operator on the host against $KUBECONFIG (metrics on 127.0.0.1:8080).
operator-run: build
	node dist/operator/src/main.js --leader-elect=false
