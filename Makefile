# Every target creates and uses the local virtual environment; nothing is installed globally.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NODE_DIR   := tests/node
NODE_STAMP := $(NODE_DIR)/node_modules/.mcp-guard-installed

.PHONY: demo test venv bench clean lint

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,lint]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/mcp-guard demo

test: $(STAMP) $(NODE_STAMP)
	$(BIN)/mcp-guard test policies
	$(BIN)/pytest -q -n 4

# ruff and mypy --strict (with the pydantic plugin) over the package; part of CI.
lint: $(STAMP)
	$(BIN)/ruff check mcp_guard tools
	$(BIN)/mypy
	$(BIN)/mypy tools

# The Stripe field table (issue 9): regenerated from the pinned `stripe` package; review the diff.
.PHONY: stripe-fields
stripe-fields: $(STAMP)
	$(BIN)/python -m tools.stripe_fields --report

# Tables on stdout, benchmarks/results.json for tools; a subset: make bench BENCH_ARGS="--only start,rss,small".
bench: $(STAMP) benchmarks/.venv-peers/.installed
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache $(NODE_DIR)/node_modules benchmarks/.venv-peers

# FastMCP, the peer the benchmark compares against, lives in its own venv: it is not a dependency.
benchmarks/.venv-peers/.installed:
	$(PYTHON) -m venv benchmarks/.venv-peers
	benchmarks/.venv-peers/bin/pip install --quiet 'fastmcp==4.1.0'
	touch $@

# --- real-world test tools (issue 6): pinned npm packages for tests/realworld and `make conformance`

.PHONY: node-tools conformance

$(NODE_STAMP): $(NODE_DIR)/package.json $(NODE_DIR)/package-lock.json
	cd $(NODE_DIR) && npm ci --no-audit --no-fund --prefer-offline --loglevel=error
	touch $(NODE_STAMP)

node-tools: $(NODE_STAMP)

# Transparency: the MCP conformance suite against server-everything, bare and through
# `mcp-guard run --profile diagnostic`; exits non-zero if any scenario's checks differ.
conformance: $(STAMP) $(NODE_STAMP)
	$(BIN)/python tests/realworld/conformance.py

# --- installs outside the checkout (issue 11)

.PHONY: wheel-smoke schema

# The README's set-up section, from a wheel installed into a fresh venv outside the checkout; part of CI.
wheel-smoke:
	PYTHON=$(PYTHON) .ci/wheel-smoke

# The config's JSON Schema, generated from the models; a test fails when the checked-in copies are stale.
schema: $(STAMP)
	$(BIN)/mcp-guard schema > policies/config.schema.json
	cp policies/config.schema.json mcp_guard/data/config.schema.json
