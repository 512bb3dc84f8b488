# kvs — top-level build. Two entry points for a fresh machine: `make run` and `make test`.
# Both install what they need (npm packages; Debian packages and Go-built tools where a target needs them).
SHELL := /bin/bash
.DEFAULT_GOAL := help
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)

NPM_STAMP := node_modules/.kvs-installed

.PHONY: help deps build run test test-unit clean lint

help:
	@echo "make run        build and start a local kvs node on 127.0.0.1:7379 (data under ./data)"
	@echo "make test       install, build and run every test"
	@echo "make test-unit  unit tests only"
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

test-unit: build
	mocha 'dist/test/unit/**/*.test.js'

clean:
	rm -rf dist dist-* coverage

# Sub-makefiles add their targets and append to TEST_TARGETS (test-sim, test-integration, e2e, ...).
TEST_TARGETS := test-unit
-include $(sort $(wildcard mk/*.mk))

test: build
	@set -e; for t in $(TEST_TARGETS); do echo "== make $$t"; $(MAKE) --no-print-directory $$t; done
	@echo "== all test targets passed: $(TEST_TARGETS)"
