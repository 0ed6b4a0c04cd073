# Cleanse Mesh. `make run` and `make test` bootstrap everything they need.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
BUF := node_modules/.bin/buf
# buf breaking compares the contracts with this git ref (.ci/run uses HEAD~1).
BREAKING_AGAINST ?= main

.PHONY: bootstrap gen run test test-fast lint fmt bench clean

bootstrap:
	@bash tools/bootstrap.sh

gen: bootstrap
	@$(PY) tools/gen.py

run: bootstrap
	@$(PY) tools/gen.py --check >/dev/null || $(PY) tools/gen.py
	@$(PY) -m mesh.cli up

test: bootstrap lint
	@$(PY) -m pytest -q $(PYTEST_ARGS)

lint: bootstrap
	@echo "[lint] ruff check + format"; $(PY) -m ruff check . && $(PY) -m ruff format --check .
	@echo "[lint] buf lint"; $(BUF) lint
	@echo "[lint] buf breaking against $(BREAKING_AGAINST)"; bash tools/breaking.sh $(BREAKING_AGAINST)
	@echo "[lint] generated code drift"; $(PY) tools/gen.py --check

fmt: bootstrap
	@$(PY) -m ruff format . && $(PY) -m ruff check --fix .

bench: bootstrap
	@$(PY) -m bench

clean:
	rm -rf $(VENV) node_modules build data .pytest_cache
