# The platform's commands. `make run` and `make test` work on a fresh Debian machine with
# Python 3.11: they install what is missing first (apt for Redis, a venv with pinned packages).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DATA_DIR ?= .data
STAMP := $(VENV)/.installed

.PHONY: help install run test test-unit bench reindex schemas clean distclean

help:
	@echo "make run      start the whole platform with demo data (Ctrl-C stops it)"
	@echo "make test     install what the tests need, then run the whole suite"
	@echo "make bench    run the benchmarks, JSON results in bench/results/"
	@echo "make reindex  rebuild the search indexes from the system of record (stack running)"
	@echo "make schemas  re-export the event JSON schemas into contracts/events/"
	@echo "make clean    delete the local stack's data ($(DATA_DIR)/)"

install: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@command -v redis-server >/dev/null && command -v promtool >/dev/null || { \
	  echo "==> installing redis-server and prometheus (promtool) with apt"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends redis-server prometheus; }
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ needed"'
	@test -x $(PY) || { echo "==> creating $(VENV)"; $(PYTHON) -m venv $(VENV); }
	@echo "==> installing pinned Python packages into $(VENV) (first time: a minute or two)"
	@$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	@$(PY) -m pip install --disable-pip-version-check -q --no-deps -e .
	@touch $(STAMP)

run: install
	@$(PY) -m deploy.local run --data-dir $(DATA_DIR)

test: install
	@$(PY) -m pytest

test-unit: install
	@$(PY) -m pytest tests/unit tests/contract

bench: install
	@mkdir -p bench/results
	@$(PY) bench/engine_bench.py --sizes 10000 100000 1000000 --workers 2 --out bench/results/engine.json
	@$(PY) bench/ingest_bench.py --items 100000 --out bench/results/ingest.json
	@$(PY) bench/pipeline_bench.py --rate 100 --seconds 60 --out bench/results/pipeline.json
	@$(PY) bench/pipeline_bench.py --rate 30 --seconds 60 --out bench/results/pipeline-30.json

reindex: install
	@$(PY) -m services.search.reindex --profiles-url $${PROFILES_URL:-http://127.0.0.1:8081}

schemas: install
	@$(PY) -m platform_common.events.schemas

clean:
	rm -rf $(DATA_DIR)

distclean: clean
	rm -rf $(VENV)
