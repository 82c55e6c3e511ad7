# Every target creates and uses the local virtual environment; nothing is installed globally.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test venv bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/mcp-guard demo

test: $(STAMP)
	$(BIN)/mcp-guard test policies
	$(BIN)/pytest -q

bench: $(STAMP) benchmarks/.venv-peers/.installed
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) .pytest_cache

# FastMCP, the peer the benchmark compares against, lives in its own venv: it is not a dependency.
benchmarks/.venv-peers/.installed:
	$(PYTHON) -m venv benchmarks/.venv-peers
	benchmarks/.venv-peers/bin/pip install --quiet 'fastmcp==4.1.0'
	touch $@
