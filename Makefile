# The platform's commands. `make run` and `make test` work on a fresh Debian machine with
# Python 3.11: they install what is missing first (apt for Redis, Prometheus, Chromium and its
# German locale, npm, PostgreSQL, the DejaVu fonts and pdftotext;
# a venv with pinned packages; the pinned npm packages of the web client and the browser tests).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DATA_DIR ?= .data
STAMP := $(VENV)/.installed
# npm projects installed with `npm ci` from their lock files; a stamp in node_modules/ keeps a
# second `make` from reinstalling. The web client's own packages join when it has a package.json.
NPM_DIRS := tests/browser $(if $(wildcard gateway/web/package.json),gateway/web)
NPM_STAMPS := $(addsuffix /node_modules/.engage-installed,$(NPM_DIRS))
# Debian packages: command (or file) that shows it is there -> package. PostgreSQL with PostGIS
# is a peer of the matching engine in its benchmark (bench/peers/postgis.py) and its tests.
# DejaVu is the font of the certificate PDF (services/profiles/domain/certificate.py) and of
# Chromium's pages; pdftotext reads the PDF back in the tests. Debian's chromium ships only its
# en-US locale: chromium-l10n brings German, so that date and time inputs show German formats.
APT_NEEDS := redis-server:redis-server promtool:prometheus /usr/bin/chromium:chromium npm:npm \
             /usr/lib/chromium/locales/de.pak:chromium-l10n \
             /usr/lib/postgresql/15/bin/pg_ctl:postgresql-15 \
             /usr/share/postgresql/15/extension/postgis.control:postgresql-15-postgis-3 \
             /usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf:fonts-dejavu-core \
             pdftotext:poppler-utils

# The README's tour: screenshots the browser tests take, copied by `make screenshots`.
TOUR := page-sign-in-1280 search-results-1280 page-need-visitor-1280 post-need-1280 \
        contacts-accepted-1280 need-hidden-owner-1280 page-admin-stats-1280 \
        admin-widget-preview-1280 page-search-375 page-need-visitor-375

.PHONY: help install system-packages run test test-unit screenshots bench reindex schemas clean distclean

help:
	@echo "make run      start the whole platform with demo data (Ctrl-C stops it)"
	@echo "make test     install what the tests need, then run the whole suite"
	@echo "make bench    run the benchmarks, JSON results in bench/results/"
	@echo "make reindex  rebuild the search indexes from the system of record (stack running)"
	@echo "make schemas  re-export the event JSON schemas into contracts/events/"
	@echo "make screenshots  run the browser tests and refresh the README tour's pictures"
	@echo "make clean    delete the local stack's data ($(DATA_DIR)/)"

install: system-packages $(STAMP) $(NPM_STAMPS)

# Only what is missing, and no apt at all when everything is there. Chromium is the browser of
# the browser tests (Playwright drives /usr/bin/chromium; `playwright install` never runs).
system-packages:
	@missing=""; for need in $(APT_NEEDS); do \
	  probe=$${need%%:*}; package=$${need#*:}; \
	  if [[ $$probe == /* ]]; then test -e $$probe; else command -v $$probe >/dev/null; fi \
	    || missing="$$missing $$package"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "==> installing$$missing with apt"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends $$missing; \
	fi

%/node_modules/.engage-installed: %/package.json %/package-lock.json | system-packages
	@echo "==> installing the pinned npm packages of $* (npm ci)"
	@cd $* && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	@touch $@

$(STAMP): requirements.txt pyproject.toml | system-packages
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ needed"'
	@test -x $(PY) || { echo "==> creating $(VENV)"; $(PYTHON) -m venv $(VENV); }
	@echo "==> installing pinned Python packages into $(VENV) (first time: a minute or two)"
	@$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	@$(PY) -m pip install --disable-pip-version-check -q --no-deps -e .
	@touch $(STAMP)

run: install
	@$(PY) -m deploy.local run --data-dir $(DATA_DIR)

# The unit and contract tests need no server: they run beside the rest (which waits on the
# local stack much of the time), on the second core, and their report follows at the end.
test: install
	@mkdir -p $(DATA_DIR)
	@$(PY) -m pytest tests/unit tests/contract > $(DATA_DIR)/unit-tests.log 2>&1 & units=$$!; \
	 $(PY) -m pytest --ignore=tests/unit --ignore=tests/contract; rest=$$?; \
	 wait $$units; unit=$$?; \
	 echo "==> unit and contract tests (run alongside; full report in $(DATA_DIR)/unit-tests.log):"; \
	 if [ $$unit -eq 0 ]; then tail -n 3 $(DATA_DIR)/unit-tests.log; else cat $(DATA_DIR)/unit-tests.log; fi; \
	 if [ $$rest -ne 0 ] || [ $$unit -ne 0 ]; then exit 1; fi

test-unit: install
	@$(PY) -m pytest tests/unit tests/contract

# The browser tests save a screenshot of every page they visit in $(DATA_DIR)/screenshots/;
# this runs them and refreshes the README tour's pictures in docs/screenshots/.
screenshots: install
	@rm -rf $(DATA_DIR)/screenshots
	@SCREENSHOTS_DIR=$(abspath $(DATA_DIR))/screenshots $(PY) -m pytest tests/browser -q
	@mkdir -p docs/screenshots
	@for name in $(TOUR); do cp $(DATA_DIR)/screenshots/$$name.png docs/screenshots/; done
	@echo "==> docs/screenshots/ refreshed ($(words $(TOUR)) pictures)"

bench: install
	@mkdir -p bench/results
	@$(PY) bench/engine_bench.py --sizes 10000 100000 1000000 --workers 2 --out bench/results/engine.json
	@$(PY) bench/ingest_bench.py --items 100000 --out bench/results/ingest.json
	@$(PY) bench/pipeline_bench.py --rate 100 --seconds 60 --out bench/results/pipeline.json
	@$(PY) bench/pipeline_bench.py --rate 30 --seconds 60 --out bench/results/pipeline-30.json

# Signs as the search service with the running stack's key (written by `make run`).
reindex: install
	@set -a; if [ -f $(DATA_DIR)/reindex.env ]; then . $(DATA_DIR)/reindex.env; fi; set +a; \
	$(PY) -m services.search.reindex --profiles-url $${PROFILES_URL:-http://127.0.0.1:8081}

schemas: install
	@$(PY) -m platform_common.events.schemas

clean:
	rm -rf $(DATA_DIR)

distclean: clean
	rm -rf $(VENV)
