# The two commands: `make demo` and `make test`. Both install what they need first and are safe to re-run.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test setup system venv assets lint bench openapi-examples

demo: setup
	$(BIN)/gis-enforcement demo

test: setup
	$(BIN)/python -m pytest -q
	$(BIN)/ruff check gis_enforcement tests bench
	$(BIN)/mypy gis_enforcement
	$(BIN)/lint-imports

setup: system venv assets

# Leaflet for offline maps, from the npm registry at set-up (never fetched by a browser at run time)
assets:
	./scripts/fetch-assets.sh

system:
	./scripts/setup-system.sh

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

lint: setup
	$(BIN)/ruff check gis_enforcement tests bench
	$(BIN)/mypy gis_enforcement
	$(BIN)/lint-imports

bench: setup
	$(BIN)/python bench/intake.py

# the examples in the API's description: the first successful answer of each operation in the API tests
openapi-examples: setup
	GISE_OPENAPI_EXAMPLES_OUT=$(CURDIR)/gis_enforcement/api/openapi_examples.json \
		$(BIN)/python -m pytest -q tests/api --ignore=tests/api/test_openapi_examples.py
