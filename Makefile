# Quick start: `make run` (install + start the bot) and `make test` (install + run the tests).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint format bench install install-dev clean

# Expanded only when the venv is about to be created, so an old Python stops make with one line
# (make's own "*** ... Stop.") instead of a screen of pip errors.
PYTHON_CHECK = import sys; print("ok" if sys.version_info >= (3, 11) else "%d.%d" % sys.version_info[:2])
require_python_3_11 = $(if $(filter ok,$(PYTHON_VERSION)),,$(error Rollcall needs Python 3.11 or newer, \
	but PYTHON=$(or $(PYTHON),(none found)) is $(or $(PYTHON_VERSION),not a working Python): install python3.11 \
	and run make again, or pass PYTHON=/path/to/python3.11))
PYTHON_VERSION = $(shell $(PYTHON) -c '$(PYTHON_CHECK)' 2>/dev/null)

$(BIN)/.runtime-installed: requirements.txt
	$(require_python_3_11)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(BIN)/.dev-installed: $(BIN)/.runtime-installed requirements-dev.txt
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(BIN)/.runtime-installed

install-dev: $(BIN)/.dev-installed

run: install
	@test -f .env || cp .env.example .env
	$(BIN)/python main.py

# The suite twice: on SQLite, then on PostgreSQL (an embedded server the tests start and stop).
test: install-dev
	$(BIN)/python -m pytest -q --backend sqlite
	$(BIN)/python -m pytest -q --backend postgres

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install-dev
	$(BIN)/python -m bench.here_burst --students 5000
	$(BIN)/python -m bench.here_burst --students 20000 --model all_at_once
	$(BIN)/python -m bench.here_crash
	$(BIN)/python -m bench.rsvp_race
	$(BIN)/python -m bench.shard_jobs
	$(BIN)/python -m bench.restart_recovery
	$(BIN)/python -m bench.roster_import
	$(BIN)/python -m bench.report_range

clean:
	rm -rf $(VENV) .venv-ci .pytest_cache .ruff_cache
