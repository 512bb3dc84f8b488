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

# The chart rendered by `helm template` both ways (cert-manager Certificates or an existing Secret; the
# operator's TLS mount): test/chart, a few seconds. helm is the e2e's (e2e/cluster/build.sh when missing).
.PHONY: test-chart
TEST_TARGETS += test-chart

test-chart: build
	@. e2e/cluster/env.sh; [ -x "$$KVS_BIN/helm" ] || e2e/cluster/build.sh; \
	  KVS_HELM=$$KVS_BIN/helm mocha 'dist/test/chart/**/*.test.js'
