# Quick start: `make run` (install + start the bot) and `make test` (install + run the tests).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint format bench install install-dev clean

$(BIN)/.runtime-installed: requirements.txt
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

test: install-dev
	$(BIN)/python -m pytest -q

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

clean:
	rm -rf $(VENV) .venv-ci .pytest_cache .ruff_cache
