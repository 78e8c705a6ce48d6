# Makefile fragment for the spec -> okx_ws generator; included by the top-level Makefile.
# `generate` rewrites generated/okx_ws from spec/; `check-generated` fails when the
# committed output differs from what the spec produces (someone edited one without the other).
# The generator formats its output with ruff itself, so no formatting step is needed here.

PYTHON ?= python

.PHONY: generate check-generated

generate:
	$(PYTHON) -m codegen --spec spec --out generated

check-generated:
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(PYTHON) -m codegen --spec spec --out "$$tmp" >/dev/null && \
	if diff -r -x __pycache__ "$$tmp/okx_ws" generated/okx_ws; then \
		echo "check-generated: generated/okx_ws is up to date with spec/"; \
	else \
		echo "check-generated: generated/okx_ws is stale or hand-edited; run 'make generate' and commit the result" >&2; \
		exit 1; \
	fi
