# Townsquare: `make demo` and `make test` do everything on a fresh machine
# (python3, pip, git and make). Dependencies install from requirements/lock.txt.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
UV_VERSION := 0.13.9
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?=

export DO_NOT_TRACK := 1
export GX_ANALYTICS_ENABLED := false
export AIRFLOW__COSMOS__ENABLE_TELEMETRY := False
export DBT_SEND_ANONYMOUS_USAGE_STATS := false

.PHONY: setup browser demo test bench lint format lock expectations clean help

help:
	@echo "make demo   - set up and run the demo (bundled samples -> lake -> dbt -> checks)"
	@echo "make test   - set up and run the whole test suite"
	@echo "make bench  - benchmark every step on a synthetic community (SCALE=1, BENCH_OUT=.townsquare/bench)"
	@echo "make lint   - ruff + sqlfluff"
	@echo "make lock   - re-pin requirements/lock.txt from requirements/*.in"

$(STAMP): requirements/lock.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements/lock.txt
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(BIN)/townsquare demo

# Every step on a synthetic community, Perceval (own venv) on the same mbox and git:
# BENCH_OUT/bench.md and bench.json. The issue's targets are set at SCALE=10.
SCALE     ?= 1
BENCH_OUT ?= .townsquare/bench
bench: setup
	$(BIN)/townsquare bench --scale $(SCALE) --out $(BENCH_OUT)

# The dashboard's browser test drives Debian's Chromium (headless) through Playwright;
# Playwright's own browser download is not used.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "installing Debian's chromium for the dashboard browser test"; \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		( $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			$$SUDO apt-get install -y -qq chromium >/dev/null ) \
		|| echo "warning: chromium could not be installed: the browser tests will be skipped"; }

test: setup browser
	$(BIN)/python -m pytest -n 2 --dist loadfile $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint dbt_project/models dbt_project/macros dbt_project/tests --nocolor

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	$(BIN)/sqlfluff fix dbt_project/models

expectations: setup
	$(BIN)/townsquare expectations --write

lock: setup
	$(BIN)/uv pip compile requirements/dev.in -o requirements/lock.txt \
		--python-version 3.11 --no-header --no-annotate --quiet

clean:
	rm -rf .townsquare dbt_project/target dbt_project/logs
