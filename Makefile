# jobservice. `make help` lists the targets; `make run` is all a fresh machine needs (Python 3.11).
#
# The virtualenv is .venv. `pip install` runs again only when setup.cfg or setup.py is newer
# than the stamp file it leaves (.venv/.installed, or .venv/.installed-test with the test extra).

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3 2>/dev/null || echo python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

# Extra arguments: make test PYTEST_ARGS='-k query -x', make bench BENCH_ARGS='--jobs 5000'
PYTEST_ARGS ?=
BENCH_ARGS ?=
COUNT ?= 500

# Runs the Procfile line named $(1) as written, with the venv's commands first on PATH, so the
# production-style targets and the Procfile cannot drift apart.
procfile = @line="$$(sed -n 's/^$(1):[[:space:]]*//p' Procfile)"; echo "$$line"; \
	PATH="$(abspath $(BIN)):$$PATH" exec sh -c "$$line"

.PHONY: help install run run-web run-worker migrate demo test lint bench bench-1m bench-recovery

help: ## List the targets
	@echo "jobservice: make <target>"
	@grep -E '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  %-11s %s\n", $$1, $$2}'

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "jobservice needs Python 3.11 or newer; $(PYTHON) is " + sys.version.split()[0] + ". Use: make PYTHON=/path/to/python3.11 ...")'
	$(PYTHON) -m venv $(VENV)

$(STAMP): setup.cfg setup.py | $(BIN)/python
	$(BIN)/python -m pip install -e .
	touch $@

$(TEST_STAMP): setup.cfg setup.py | $(BIN)/python
	$(BIN)/python -m pip install -e '.[test]'
	touch $(STAMP) $@

install: $(TEST_STAMP) ## Create .venv with the service and its test tools (pip install -e '.[test]')

run: $(STAMP) ## Run everything on this machine: SQLite, file broker, a Celery worker, the API on PORT (8080)
	$(BIN)/python -m app.embedded

run-web: $(STAMP) ## Production-style web server (Procfile "web"; needs DATABASE_URL and REDIS_URL)
	$(call procfile,web)

run-worker: $(STAMP) ## Production-style Celery worker (Procfile "worker"; needs DATABASE_URL and REDIS_URL)
	$(call procfile,worker)

migrate: $(STAMP) ## Apply the database migrations (APP_ENV picks the database; development by default)
	$(BIN)/flask --app app db upgrade

demo: migrate ## Add demo jobs (COUNT=500)
	$(BIN)/flask --app app jobs demo --count $(COUNT)

test: $(TEST_STAMP) ## Run the test suite (TEST_DATABASE_URL / TEST_REDIS_URL pick PostgreSQL and Redis)
	$(BIN)/pytest $(PYTEST_ARGS)

# README.rst is also the package's long description: a broken reference or table must fail here,
# not on the first reader's screen.
lint: $(TEST_STAMP) ## flake8 (setup.cfg), ruff's import rules (ruff.toml), import-linter's layers (setup.cfg), README renders
	$(BIN)/flake8
	$(BIN)/ruff check app schemas workers config tests benchmarks
	$(BIN)/lint-imports
	$(BIN)/python -m docutils --halt=warning --report=warning README.rst /dev/null

bench: $(STAMP) ## Run the benchmarks
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

bench-1m: $(STAMP) ## Run the benchmarks on one million jobs
	$(BIN)/python -m benchmarks.run --jobs 1000000 $(BENCH_ARGS)

bench-recovery: $(STAMP) ## Kill a worker, restart Redis and PostgreSQL mid-batch (private servers)
	$(BIN)/python -m benchmarks.run --scenarios R1,R2,R3 $(BENCH_ARGS)
