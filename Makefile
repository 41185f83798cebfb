# One entry point: every target creates .venv and installs the project first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint unit install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## make run: the main job (the demo: a simulated cluster, 90 days of history, the API on localhost)
## Options of `license-service demo` go in ARGS: make run ARGS="--port 8090 --metrics-port 8091"
ARGS ?=
run: $(STAMP)
	@$(BIN)/license-service demo $(ARGS) || { status=$$?; \
	  if [ $$status -eq 2 ]; then \
	    echo 'make run passes options to the demo in ARGS, e.g. make run ARGS="--port 8090 --metrics-port 8091"' >&2; \
	  fi; exit $$status; }

## make test: lint, type check, layer contracts, then the whole test suite
test: lint unit

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy --strict src
	$(BIN)/lint-imports

# Two workers at most (one per core here): the end-to-end tests wait on real processes
# and real time, so a core is free while the other waits; each test file runs whole on one
# worker (its module fixtures are set up once).
unit: $(STAMP)
	$(BIN)/pytest --numprocesses auto --maxprocesses 2 --dist loadfile

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache

## make soak: the long versions of the fault and load suites (tests marked soak, LICENSE_SERVICE_SOAK=1)
.PHONY: soak
soak: $(STAMP)
	LICENSE_SERVICE_SOAK=1 $(BIN)/pytest -m soak -rP

## make manifests: render the Helm chart (deploy/helm/license-service) into deploy/manifests/
.PHONY: manifests
manifests: $(STAMP)
	$(BIN)/python deploy/render_chart.py --write-manifests

## make bench: every benchmark at full size (about 4 minutes on 2 cores, plus about 30 for the fleet, 12); writes bench/RESULTS.md
.PHONY: bench
bench: $(STAMP)
	$(BIN)/python -m bench
