# baton: `make run` and `make test` on a fresh Debian machine. Each installs what is
# missing first (apt, non-interactive, skipped when present).

SHELL := /bin/bash
export PATH := $(PATH):/opt/swift/usr/bin
SWIFT ?= swift
VENV := .venv-test
PY := $(VENV)/bin/python
BATON := .build/debug/baton
CASES ?= 6000
FUZZ_SECONDS ?= 60

.PHONY: all deps test-deps venv build test run bench fuzz clean

all: build

deps:
	@bash ops/install-deps.sh

# Oracles for the tests and benchmarks, in a private venv (never the system's Python).
$(VENV)/.ready: ops/requirements-test.txt
	@test -x $(PY) || python3 -m venv $(VENV)
	@$(PY) -m pip install -q --disable-pip-version-check -r ops/requirements-test.txt
	@touch $@

venv: $(VENV)/.ready

build: deps
	@$(SWIFT) build 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\]' || { echo "build failed"; exit 1; }

test-deps:
	@bash ops/install-deps.sh --test

test: test-deps venv
	python3 -m unittest discover -s Tests/ops -t Tests/ops
	$(SWIFT) build --build-tests
	@# One private PostgreSQL on loopback for the store suite, Tests/postgres and the
	@# handler suites on APP_DB=postgres:// (a fresh database per test), stopped whatever happens.
	pgdir=$$(mktemp -d /tmp/baton-pg.XXXXXX); trap 'bash ops/test-postgres.sh stop "$$pgdir"' EXIT; \
	url=$$(bash ops/test-postgres.sh start "$$pgdir") && echo "PostgreSQL for the tests: $$url" && \
	export BATON_TEST_PG_URL=$$url BATON_BIN=$(abspath $(BATON)) && \
	$(SWIFT) test --skip-build && \
	$(PY) -m unittest discover -s Tests/postgres -t Tests/postgres && \
	BATON_TEST_APP_DB=postgres $(PY) -m unittest discover -s Tests/handlers -t Tests/handlers
	$(PY) Tests/oracle/cronsim_diff.py --baton $(BATON) --cases $(CASES)
	BATON_BIN=$(abspath $(BATON)) $(PY) -m unittest discover -s Tests/http -t Tests/http
	BATON_BIN=$(abspath $(BATON)) $(PY) -m unittest discover -s Tests/providers -t Tests/providers
	BATON_BIN=$(abspath $(BATON)) $(PY) -m unittest discover -s Tests/handlers -t Tests/handlers
	BATON_BIN=$(abspath $(BATON)) $(PY) -m unittest discover -s Tests/attack -t Tests/attack
	BATON_BIN=$(abspath $(BATON)) $(PY) -m unittest discover -s Tests/cli -t Tests/cli

run: build
	@bash ops/demo.sh $(BATON)

bench: deps venv
	@bash bench/cron-next
	@bash bench/slice-overhead
	@bash bench/webhooks
	@bash bench/providers
	@bash bench/ai-handlers
	@bash bench/send-batches
	@if [ "$$(id -u)" = 0 ]; then bash bench/fire-lateness; else echo "bench/fire-lateness skipped: it needs root"; fi

# Runs the schedule-file and expression parsers under libFuzzer for FUZZ_SECONDS.
fuzz: deps
	@bash fuzz/run.sh $(FUZZ_SECONDS)

clean:
	rm -rf .build .build-fuzz $(VENV)
