# Makefile fragment for the benchmark (issues #5, #10, #11); included by the top-level Makefile.
# `make bench` installs the peers (bench/requirements.txt) into .venv once, then runs
# every client side by side against the strict simulator (instIdCode required) in
# separate processes, several passes each, and prints the median of the passes, then
# the order-book row (python -m bench.book in its own process, issue #18).  It
# writes bench/results.json (the book under "order_book") and keeps a dated copy,
# bench/results/YYYY-MM-DD.json, for the README to point at.  `make bench-quick` (or BENCH_ARGS=--quick) is the short run
# (one pass, smaller phases, no dated copy).

PYTHON ?= python
VENV ?= .venv
BENCH_STAMP := $(VENV)/.bench-installed
BENCH_ARGS ?=

.PHONY: bench bench-quick bench-book

$(BENCH_STAMP): bench/requirements.txt $(STAMP)
	$(PYTHON) -m pip install --quiet -r bench/requirements.txt
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(PYTHON) -m bench $(BENCH_ARGS)

bench-quick: $(BENCH_STAMP)
	$(PYTHON) -m bench --quick $(BENCH_ARGS)

# Order books alone (issue #18; `make bench` includes them): okx-ws's OrderBook, ccxt
# pro's and a plain-dict floor replaying the same seeded streams, with the update-kind
# breakdown; BENCH_BOOK_ARGS=--quick for a short run.  BENCH_ARGS=--no-book skips the
# book row in `make bench`.
BENCH_BOOK_ARGS ?=
bench-book: $(BENCH_STAMP)
	$(PYTHON) -m bench.book $(BENCH_BOOK_ARGS)
