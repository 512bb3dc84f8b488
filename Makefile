# kvs — top-level build. Two entry points for a fresh machine: `make run` and `make test`.
# Both install what they need (npm packages; Debian packages and Go-built tools where a target needs them).
SHELL := /bin/bash
.DEFAULT_GOAL := help
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)

NPM_STAMP := node_modules/.kvs-installed

.PHONY: help deps build run test test-unit clean

help:
	@echo "make run        build and start a local kvs node on 127.0.0.1:7379 (data under ./data)"
	@echo "make test       install, build and run every test"
	@echo "make test-unit  unit tests only"
	@echo "make lint       type-aware lint (typescript-eslint: dropped/misused promises)"
	@echo "make bench      benchmarks (bounded duration)"

# npm packages, reinstalled only when the lockfile changes.
$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

deps: $(NPM_STAMP)

build: deps
	node scripts/gen-proto.mjs
	tsc -p tsconfig.json

run: build
	scripts/run-local.sh

# Unit tests under c8 coverage (source-mapped back to the TypeScript); summary printed, HTML in coverage/.
test-unit: build
	c8 --reporter=text-summary --reporter=html --include 'dist/node/src/**' --include 'dist/operator/src/**' \
	  mocha 'dist/test/unit/**/*.test.js'

clean:
	rm -rf dist dist-* coverage

# Sub-makefiles add their targets and append to TEST_TARGETS (test-sim, test-integration, e2e, ...).
TEST_TARGETS := test-unit
-include $(sort $(wildcard mk/*.mk))

test: build
	@scripts/run-tests.sh $(TEST_TARGETS)
