# Palier — developer commands. Only Python 3.11 and make are needed.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# pytest-xdist workers for `make test` (0 runs the suite in one process).
TEST_WORKERS ?= 2

.PHONY: install install-runtime run test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Runtime dependencies only (what `make run` needs).
$(VENV)/.runtime: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

# Runtime + dev extra (tests, linters).
$(VENV)/.dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.runtime

install-runtime: $(VENV)/.runtime
install: $(VENV)/.dev

# Install what is missing, migrate, load the demo into an empty database, serve.
run: $(VENV)/.runtime
	$(BIN)/palier db upgrade
	$(BIN)/palier demo --if-empty
	$(BIN)/palier serve --host $(HOST) --port $(PORT)

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/mypy

test: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

bench: $(VENV)/.runtime
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) var/*.db .pytest_cache .ruff_cache .mypy_cache
