# Two commands on a fresh machine: `make run` and `make test`. Each sets itself up first:
# a virtual environment in .venv with the project and its tools installed.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
export DAGSTER_HOME := $(CURDIR)/.dagster_home

.PHONY: run test lint format dev sample spec setup browser clean bench

setup: $(INSTALLED)

$(INSTALLED): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is required (set PYTHON=...)")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(INSTALLED)

run: $(INSTALLED)
	$(BIN)/oscp run

test: $(INSTALLED) browser
	$(BIN)/python -m pytest

# The UI test drives a real browser, and the Excel report test opens the workbook in
# LibreOffice. Install Debian's Chromium and LibreOffice Calc where this machine allows it
# (root with apt); elsewhere those tests are skipped and say why.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
		&& apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium >/dev/null 2>&1; } \
		|| echo "note: Chromium is not installed and cannot be installed here; the browser test will be skipped"
	@command -v soffice >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
		&& apt-get update -qq >/dev/null 2>&1 \
		&& DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libreoffice-calc-nogui >/dev/null 2>&1; } \
		|| echo "note: LibreOffice is not installed and cannot be installed here; the Excel report's LibreOffice test will be skipped"

lint: $(INSTALLED)
	$(BIN)/ruff check oscp_pipeline tests
	$(BIN)/ruff format --check oscp_pipeline tests

format: $(INSTALLED)
	$(BIN)/ruff check --fix oscp_pipeline tests
	$(BIN)/ruff format oscp_pipeline tests

dev: $(INSTALLED)
	$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

spec: $(INSTALLED)
	$(BIN)/oscp spec

sample: $(INSTALLED)
	$(BIN)/python -m oscp_pipeline.synthetic --out data/raw

# National ingestion against the floor, and the bundled sample's refresh (docs/performance.md).
# BENCH_DATA=DIR measures an archive laid out as DIR/YYYY-MM/YYYY-MM-<force>-street.csv instead
# of the generated national data (cached in bench/data/); figures go to bench/results/.
BENCH_MONTHS ?= 3,6,12
BENCH_DATA ?=
bench: $(INSTALLED)
	$(BIN)/python -m oscp_pipeline.bench --months $(BENCH_MONTHS) $(if $(BENCH_DATA),--data "$(BENCH_DATA)")

clean:
	rm -rf data/warehouse/staging data/warehouse/quarantine data/warehouse/.build data/warehouse/oscp.duckdb
