# Makefile fragment for the benchmark (issue #5); included by the top-level Makefile.
# `make bench` installs the peers (bench/requirements.txt) into .venv once, then runs
# every client side by side against the simulator in separate processes and writes
# bench/results.json.  `make bench-quick` (or BENCH_ARGS=--quick) is the short run.

PYTHON ?= python
VENV ?= .venv
BENCH_STAMP := $(VENV)/.bench-installed
BENCH_ARGS ?=

.PHONY: bench bench-quick

$(BENCH_STAMP): bench/requirements.txt $(STAMP)
	$(PYTHON) -m pip install --quiet -r bench/requirements.txt
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(PYTHON) -m bench $(BENCH_ARGS)

bench-quick: $(BENCH_STAMP)
	$(PYTHON) -m bench --quick $(BENCH_ARGS)
