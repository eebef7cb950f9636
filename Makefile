# Two commands for a new user: `make run` and `make test`. Everything else is for developers.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TEST_WORKERS ?= 2  # pytest-xdist processes: most tests wait on I/O, two keep both cores busy
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: run test lint docs bench-links bench-redirect bench-analytics bench-ratelimit bench-webhooks clean fuzz

$(VENV)/.deps-run: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.deps-dev: $(VENV)/.deps-run clients/python/pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m pip install --quiet -e clients/python
	@touch $@

$(VENV)/.deps-docs: $(VENV)/.deps-run
	$(BIN)/python -m pip install --quiet -e '.[docs]'
	@touch $@

## Serve MASK on http://127.0.0.1:8000 with SQLite under ./var/ (API, redirects, dashboard).
run: $(VENV)/.deps-run
	$(BIN)/mask migrate
	$(BIN)/mask serve --host 127.0.0.1 --port 8000

## The whole test suite. PostgreSQL/Redis/browser tests skip without their servers, unless CI=true.
test: $(VENV)/.deps-dev
	bash scripts/debian-packages.sh chromium caddy
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --durations=20 $(PYTEST_ARGS)

## The gates CI applies: ruff (lint and format), mypy --strict, and the import contracts (pyproject.toml).
lint: $(VENV)/.deps-dev
	$(BIN)/ruff check src tests bench clients/python
	$(BIN)/ruff format --check src tests bench clients/python
	$(BIN)/mypy src
	$(BIN)/mypy tests bench
	$(BIN)/mypy clients/python/src
	$(BIN)/lint-imports

## The documentation site (MkDocs + Material, mkdocs.yml) into site/; --strict: a warning or broken link fails.
## NO_MKDOCS_2_WARNING mutes Material's end-of-life notice, nothing else.
docs: $(VENV)/.deps-docs
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

## Schemathesis over /v1/openapi.json against a real `mask serve` on SQLite: every check, every phase (stateful
## too), bounded (FUZZ_SECONDS, default 180). Zero failures expected. scripts/fuzz.sh, scripts/schemathesis.toml.
fuzz: $(VENV)/.deps-dev
	bash scripts/fuzz.sh

bench-links: $(VENV)/.deps-dev
	$(BIN)/python bench/links.py

## Analytics at scale (default 2M clicks; BENCH_ARGS="--clicks 20000000" for the large run). Needs PostgreSQL.
bench-analytics: $(VENV)/.deps-dev
	$(BIN)/python bench/analytics.py $(BENCH_ARGS)

## Redirects vs nginx (wrk, 64 connections, 10 s) on SQLite and PostgreSQL + Redis; clicks stored == answered.
bench-redirect: $(VENV)/.deps-dev
	bash scripts/debian-packages.sh wrk nginx-light
	$(BIN)/python bench/redirect.py $(BENCH_ARGS)

## Added latency of the API rate limiter per request (in memory, with Redis) against limiting off.
bench-ratelimit: $(VENV)/.deps-dev
	$(BIN)/python bench/ratelimit.py

## Webhook deliveries/s from the outbox to a local receiver vs bare signed POSTs (SQLite and PostgreSQL).
bench-webhooks: $(VENV)/.deps-dev
	$(BIN)/python bench/webhooks.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis test-artifacts site
