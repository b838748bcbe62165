# CivicGrid — the two commands a newcomer needs: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# The PostgreSQL that CI (and every developer machine here) provides; trust auth.
PG_URL ?= postgres://postgres@127.0.0.1:5432/postgres

.PHONY: install assets build demo serve test test-sqlite test-postgres lint format bench clean

$(BIN)/civicgrid: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	@touch $@

install: $(BIN)/civicgrid

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

# Front-end libraries come from the npm registry and are served by the app itself (no CDN).
assets: node_modules/.package-lock.json install
	$(BIN)/python scripts/build_assets.py

build: install assets
	$(BIN)/civicgrid collectstatic --noinput -v0

demo: build
	$(BIN)/civicgrid migrate -v0
	$(BIN)/civicgrid demo
	@echo "Serving on http://$(HOST):$(PORT)/  (map: http://$(HOST):$(PORT)/map/ — Ctrl-C stops)"
	$(BIN)/python scripts/serve.py --host $(HOST) --port $(PORT)

# The web server and the Huey consumer (periodic SLA work) together; Ctrl-C stops both.
serve: build
	$(BIN)/python scripts/serve.py --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test-sqlite: build
	$(BIN)/pytest

test-postgres: build
	CIVICGRID_DATABASE_URL=$(PG_URL) $(BIN)/pytest

# ruff + pytest on SQLite; with CI=true (or PG=1) on PostgreSQL as well, both runs at once.
test: lint build
	@if [ "$$CI" = "true" ] || [ -n "$$PG" ]; then BIN=$(BIN) PG_URL=$(PG_URL) scripts/test_both.sh; \
	else $(BIN)/pytest; fi

bench: build
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) node_modules civicgrid/static/vendor var/static
