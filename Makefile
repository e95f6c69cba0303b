# make demo: set up .venv and run the bundled scenario.
# make test: set up .venv and run every check (lint, types, tests, shipped scenarios);
#            property tests derandomised (the hypothesis profile `ci`, tests/conftest.py).
# make e2e: render the bundled scenario's HTML report in headless Chromium and check it
#           (installs Debian's chromium where it is missing).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint e2e bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,report]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/riskshare simulate scenarios/breakthrough-consortium.yaml

lint: $(STAMP)
	$(BIN)/ruff check riskshare tests benchmarks
	$(BIN)/ruff format --check riskshare tests benchmarks
	$(BIN)/mypy

test: lint
	$(BIN)/pytest --hypothesis-profile=ci
	$(BIN)/riskshare validate scenarios/*.yaml

e2e: $(STAMP)
	BIN=$(BIN) bash tests/e2e/render.sh

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis
