# okx-ws developer commands. Every target bootstraps .venv on first use, so a
# fresh clone needs only `make demo` and `make test`.

PY_BOOT ?= python3
VENV    := .venv
PYTHON  := $(VENV)/bin/python
STAMP   := $(VENV)/.installed

.PHONY: install demo test lint typecheck check soak clean
.DEFAULT_GOAL := test

$(STAMP): pyproject.toml
	$(PY_BOOT) -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The editable install compiles the order book in place (hatch_build.py); this
# step recompiles it whenever its sources changed since (a stale build is never
# imported: okx_ws_core.book.compiled falls back to the .py with a warning).
install: $(STAMP)
	$(PYTHON) hatch_build.py --if-stale

-include codegen.mk
-include bench.mk
-include docs.mk

# The fragments' targets need the venv too.
generate check-generated bench: $(STAMP)

demo: $(STAMP)
	$(PYTHON) examples/demo.py

# A worker per core; tests that share a file in the checkout or a costly module
# fixture run on one worker (tests/conftest.py, GROUPS).
test: install
	$(PYTHON) -m pytest -q -n auto --dist loadgroup

lint: $(STAMP)
	$(PYTHON) -m ruff check okx_ws_core okx_ws_sim codegen generated tests bench examples soak tools
	$(PYTHON) -m ruff format --check okx_ws_core okx_ws_sim codegen tests examples soak bench tools
	PYTHONPATH=generated $(VENV)/bin/lint-imports --no-cache  # the layers (pyproject.toml)

typecheck: $(STAMP)
	MYPYPATH=. $(PYTHON) -m mypy okx_ws_core okx_ws_sim generated/okx_ws soak

check: lint typecheck check-generated test

# The user's defaults: transport websockets, rate_limit "wait" (from 50,000 requests
# the blocking client runs on httpx-ws, so each transport meets every fault at scale).
# At OKX's limits: make soak SOAK_ARGS="--requests 2000 --faults 60 --at-limits"
SOAK_ARGS ?=
soak: $(STAMP)
	$(PYTHON) -m soak --requests 10000 --faults 300 $(SOAK_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
