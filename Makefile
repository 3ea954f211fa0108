# The one interface: `make demo` (offline demo through Airflow) and `make test` (whole suite).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT      ?= 8080
SITE      ?=
SITE_PORT ?= 8765

export GX_ANALYTICS_ENABLED := false

.PHONY: help demo test test-fast lint format bench lock sample-site airflow-ui check-image measure clean

help:
	@echo "make demo      set up, serve the sample site, run the ETL DAG through Airflow, print a summary"
	@echo "make test      set up with dev extras and run the whole test suite"
	@echo "make lint      ruff + sqlfluff"
	@echo "make bench     run the benchmarks (figures on stdout)"
	@echo "make airflow-ui [PORT=8080] [SITE=sample]   Airflow UI + scheduler on this checkout"
	@echo "make check-image   pip dry run of the image's install against Airflow's constraints"
	@echo "make measure   measure the README's figures on a fresh clone and write them"
	@echo "make lock      refresh constraints.txt from the current environment"

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is required")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev,postgres]"
	touch $(STAMP)

demo: $(STAMP)
	bash scripts/demo.sh

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/sqlfluff lint sql --disable-progress-bar
	$(BIN)/pytest -n 2 --dist loadgroup

test-fast: $(STAMP)
	$(BIN)/pytest -n 2 -m "not airflow"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/sqlfluff lint sql --disable-progress-bar

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_parse.py
	$(BIN)/python benchmarks/bench_crawl.py
	$(BIN)/python benchmarks/bench_load.py
	$(BIN)/python benchmarks/bench_compare.py
	$(BIN)/python benchmarks/bench_storage.py
	$(BIN)/python benchmarks/bench_idle_watch.py

lock: $(STAMP)
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^-e ' > constraints.txt

sample-site: $(STAMP)
	$(BIN)/qdp sample-site --port 8765

# make airflow-ui [PORT=8080] [SITE=sample] [SITE_PORT=8765]: see scripts/airflow-ui.sh
airflow-ui: $(STAMP)
	PORT=$(PORT) SITE=$(SITE) SITE_PORT=$(SITE_PORT) bash scripts/airflow-ui.sh

# pip dry run of the Dockerfile's install line against Airflow's constraints (needs PyPI; minutes)
check-image:
	bash scripts/check-image-deps.sh

# the README's figures, measured on a fresh clone (minutes)
measure:
	$(PYTHON) scripts/measure.py --write

clean:
	rm -rf $(VENV) .airflow data .pytest_cache .ruff_cache .hypothesis
