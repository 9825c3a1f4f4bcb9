# Fresh machine: `make run` or `make test`. Everything else is a building block.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
LSC_DATA_DIR ?= ../shared/data
export LSC_DATA_DIR
PORT ?= 8501

.PHONY: run test test-unit setup venv vendor browser postgres store bench clean-store

run: setup store
	$(VPY) -m streamlit run serve.py --server.port $(PORT) --server.headless true

test: setup browser postgres store
	$(VPY) -m pytest -q tests

# Unit tests with no data and no browser: tests/unit minus those marked real_data, with the
# data and store folders pointed at nothing, so a unit test that reads them unmarked fails
test-unit: venv postgres
	LSC_DATA_DIR=/nonexistent/data LSC_STORE_DIR=/nonexistent/store $(VPY) -m pytest -q -m "not real_data" tests/unit

bench: setup browser store
	$(VPY) bench/run_all.py

setup: venv vendor

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	test -x $(VPY) || $(PY) -m venv $(VENV)
	$(VPY) -m pip install -q --upgrade pip
	$(VPY) -m pip install -q -r requirements.txt
	touch $@

# Leaflet & plugins from the npm registry into static/vendor (git-ignored, served locally)
vendor: static/vendor/.installed

static/vendor/.installed: scripts/vendor_assets.sh
	bash scripts/vendor_assets.sh
	touch $@

# Debian's Chromium for the browser tests and PNG snapshots
browser:
	@bash scripts/ensure_chromium.sh

# PostgreSQL server programs: the user-data store tests start a throwaway cluster
postgres:
	@bash scripts/ensure_postgres.sh

# Build the data store when missing or stale (sources/config changed)
store: venv
	$(VPY) -m geo build --if-stale

clean-store:
	rm -rf data/store
