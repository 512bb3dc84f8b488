# Type-aware lint (eslint.config.js: typescript-eslint with the project's tsconfig): dropped promises
# (no-floating-promises) and promises passed where nobody awaits them (no-misused-promises) are errors.
#   make lint     lint every TypeScript file of the repository
# `make test` runs it; on success it prints one "1 passing" line so scripts/run-tests.sh counts it, and a
# finding fails the target (counted as failed).
.PHONY: lint

TEST_TARGETS += lint

lint: deps
	eslint --max-warnings 0 .
	@echo "  1 passing (eslint: no findings)"
