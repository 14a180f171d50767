# The two commands a newcomer needs:
#   make run    - create .venv, install, migrate the embedded SQLite database, serve on http://127.0.0.1:8000
#   make test   - the whole test suite (SQLite and the local PostgreSQL; Chromium for the browser tests)
# Everything is installed by these targets; nothing needs to be set up by hand.

PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

# Installs are pinned and hashed: requirements/*.lock name every package, the build backend and pip
# itself, with the hashes of their files; pip refuses anything else. They are made from pyproject.toml by
# `make lock` (pip-tools): after changing dependencies there, run `make lock` and commit the lock files.
RUNTIME_LOCK = requirements/runtime.lock
DEV_LOCK = requirements/dev.lock

.PHONY: run test lint check install install-dev lock browser bench bench-tools clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# The lock first (hash-checked), then the project itself without dependencies and without build
# isolation: the build uses the locked setuptools already in the venv, so nothing unpinned is fetched.
# The stamps depend on the lock files, so a changed lock re-installs.
$(VENV)/.installed: $(RUNTIME_LOCK) pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r $(RUNTIME_LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

$(VENV)/.installed-dev: $(DEV_LOCK) pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r $(DEV_LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# pip-tools lives in a venv of its own (inside .venv), so the project's venv holds exactly the lock.
# The dev lock is resolved first and constrains the runtime lock: both pin a shared package alike.
# Existing pins are kept while they fit; `make lock LOCK_FLAGS=--upgrade` moves all to the newest.
LOCK_TOOLS = $(VENV)/lock-tools
LOCK_FLAGS ?=
PIP_COMPILE = $(LOCK_TOOLS)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links $(LOCK_FLAGS)

$(LOCK_TOOLS)/bin/pip-compile:
	$(PYTHON) -m venv $(LOCK_TOOLS)
	$(LOCK_TOOLS)/bin/python -m pip install --quiet pip-tools==7.6.2

lock: $(LOCK_TOOLS)/bin/pip-compile
	$(PIP_COMPILE) --extra dev -o $(DEV_LOCK) pyproject.toml requirements/install.in
	$(PIP_COMPILE) -c $(DEV_LOCK) -o $(RUNTIME_LOCK) pyproject.toml requirements/install.in

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
	$(BIN)/lint-imports  # the layering contract in pyproject.toml (../shared/DESIGN.md "Layers")

check: $(VENV)/.installed
	$(BIN)/hotline check

test: $(VENV)/.installed-dev browser
	$(BIN)/hotline check
	$(BIN)/hotline train
	$(MAKE) lint
	$(BIN)/python -m pytest

# Debian's wrk, the load generator of benchmarks/http_bench.py.
bench-tools:
	@command -v wrk >/dev/null 2>&1 || { \
	  echo "installing Debian's wrk for benchmarks/http_bench.py"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq wrk >/dev/null; }

bench: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/nlu_bench.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .import_linter_cache *.egg-info
