# The few verbs people need. `make demo` and `make test` set everything up themselves.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DAYS ?= 28
SEED ?= 42
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# cosmos and dbt try to send usage statistics; there is no internet here and no need
export DO_NOT_TRACK := 1
export AIRFLOW__COSMOS__ENABLE_TELEMETRY := False

BI_VENV := .local/bi/venv
BI_STAMP := $(BI_VENV)/.installed
BI_PORT ?= 8088

.PHONY: help setup demo docs dq-docs test test-fast lint format airflow simulator bi bi-setup bi-export clean

help:
	@echo "make demo     run the pipeline through Airflow on $(DAYS) simulated days (SEED=$(SEED); FAULTS=1 for the fault profile)"
	@echo "make docs     dbt docs of every model, column and metric (.local/dbt-docs/static_index.html)"
	@echo "make dq-docs  GX Data Docs of the latest quality-gate results (.local/dq-docs)"
	@echo "make test     the whole test suite (real PostgreSQL, dbt, GX and Airflow DAG runs)"
	@echo "make airflow  Airflow UI + scheduler on http://127.0.0.1:8080"
	@echo "make bi       the dashboards: Superset on http://127.0.0.1:$(BI_PORT) (installs it on first run)"
	@echo "make bi-export  write the dashboards as they are in Superset back into bi/superset/"
	@echo "make simulator  the channel simulator on http://127.0.0.1:8765 (FAULTS=1 for faults)"
	@echo "make lint     ruff + sqlfluff"
	@echo "make clean    stop the embedded warehouse and remove .venv and .local"

$(STAMP): pyproject.toml requirements/constraints.txt
	@$(PYTHON) -c "import sys; assert sys.version_info[:2] == (3, 11), sys.version" || { echo "need Python 3.11 (set PYTHON=...)"; exit 1; }
	@echo "installing into $(VENV) (first run only: a few minutes)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install -qq --upgrade "pip>=24"
	@$(BIN)/pip install -qq -c requirements/constraints.txt -e '.[dev,deploy]'
	@touch $(STAMP)

# Superset has a virtualenv and a lock of its own (its ranges conflict with Airflow's)
$(BI_STAMP): bi/requirements.lock
	@echo "installing Superset into $(BI_VENV) (first run only: a minute or two)"
	@test -x $(BI_VENV)/bin/python || $(PYTHON) -m venv $(BI_VENV)
	@$(BI_VENV)/bin/pip install -qq --upgrade "pip>=24"
	@$(BI_VENV)/bin/pip install -qq -r bi/requirements.lock
	@touch $(BI_STAMP)

# quiet: errors still reach the terminal (VERBOSE=1 shows the demo's Airflow/dbt/GX logs)
setup: $(STAMP)
	@$(BIN)/omni warehouse start >/dev/null
	@$(BIN)/omni env --migrate >/dev/null

demo: setup
	@$(BIN)/omni demo --days $(DAYS) --seed $(SEED) $(if $(RESET),--reset) $(if $(FAULTS),--faults)

docs: setup
	eval "$$($(BIN)/omni env)" && cd dbt_project && ../$(BIN)/dbt docs generate --quiet \
	  --profiles-dir . --static --target-path ../.local/dbt-docs
	@echo "dbt docs: $(CURDIR)/.local/dbt-docs/static_index.html (one file, open it in a browser)"

dq-docs: setup
	$(BIN)/omni dq-docs

# parallel workers (pytest-xdist), each with databases of its own; a module's tests stay on
# one worker, the Airflow tests share one. The crash tests restart the shared server, so
# they run after the workers, alone. `pytest -p no:xdist` runs everything in one process.
TEST_WORKERS ?= auto
test: setup $(BI_STAMP)
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadgroup -m "not restarts_server"
	$(BIN)/pytest -q -p no:xdist -m restarts_server

test-fast: setup
	$(BIN)/pytest -q -x -m "not dags"

lint: $(STAMP)
	$(BIN)/ruff check include dags plugins tests bench bi
	$(BIN)/ruff format --check include dags plugins tests bench bi
	cd dbt_project && ../$(BIN)/sqlfluff lint models tests

format: $(STAMP)
	$(BIN)/ruff format include dags plugins tests bench bi
	$(BIN)/ruff check --fix include dags plugins tests bench bi

airflow: setup
	export PATH="$(CURDIR)/$(BIN):$$PATH" && \
	  eval "$$($(BIN)/omni env --simulator http://127.0.0.1:8765)" && \
	  ($(BIN)/omni simulate serve --seed $(SEED) --port 8765 & \
	   $(BIN)/airflow standalone)

bi-setup: setup $(BI_STAMP)
	@$(BIN)/omni bi setup --port $(BI_PORT)

bi: setup $(BI_STAMP)
	@$(BIN)/omni bi serve --port $(BI_PORT)

bi-export: setup $(BI_STAMP)
	$(BIN)/omni bi export

simulator: $(STAMP)
	$(BIN)/omni simulate serve --seed $(SEED) --port 8765 $(if $(FAULTS),--faults)

clean:
	-test -x $(BIN)/omni && $(BIN)/omni warehouse stop
	rm -rf $(VENV) .local dbt_project/target dbt_project/logs .pytest_cache .ruff_cache
