# The two commands a newcomer needs:
#   make run    - create .venv, install, migrate the embedded SQLite database, serve on http://127.0.0.1:8000
#   make test   - the whole test suite (SQLite and the local PostgreSQL; Chromium for the browser tests)
# Everything is installed by these targets; nothing needs to be set up by hand.

PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: run test lint check install install-dev browser bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# `hotline train` trains the language model only when the content or the model's code changed.
run: $(VENV)/.installed
	$(BIN)/hotline db upgrade
	$(BIN)/hotline train
	$(BIN)/hotline serve

# Debian's Chromium for the browser tests (Playwright drives it; it never downloads a browser itself).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check bot ivr tests benchmarks
	$(BIN)/ruff format --check bot ivr tests benchmarks
	$(BIN)/mypy

check: $(VENV)/.installed
	$(BIN)/hotline check

test: $(VENV)/.installed-dev browser
	$(BIN)/hotline check
	$(BIN)/hotline train
	$(MAKE) lint
	$(BIN)/python -m pytest

bench: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/nlu_bench.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
