# Makefile fragment for the documentation site (issue #19); included by the top-level Makefile.
# `make docs` builds the site into site/ in strict mode: a broken link, a missing
# API object or a docstring mkdocstrings cannot read fails the build.  The guide is
# docs/guide; the API reference comes from the docstrings (mkdocstrings); one page
# per operation and channel is generated from spec/ at build time
# (docs/_hooks/spec_pages.py).  `make docs-serve` serves it with live reload.

PYTHON ?= python
VENV ?= .venv
DOCS_STAMP := $(VENV)/.docs-installed
# Material prints a banner about MkDocs 2.0 on every build; pyproject pins mkdocs<2.
DOCS_ENV := NO_MKDOCS_2_WARNING=1

.PHONY: docs docs-serve

$(DOCS_STAMP): pyproject.toml $(STAMP)
	$(PYTHON) -m pip install --quiet -e '.[docs]'
	touch $(DOCS_STAMP)

docs: $(DOCS_STAMP)
	$(DOCS_ENV) $(PYTHON) -m mkdocs build --strict

docs-serve: $(DOCS_STAMP)
	$(DOCS_ENV) $(PYTHON) -m mkdocs serve
