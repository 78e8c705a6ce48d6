"""Hardening of the streaming side (issue #17 items 4, 5, 6, 9, 11; issue #22 item 7).

Each test pins one defect a review found: a ``wait_for`` or a stream that
could hang forever, a stream that leaked or flooded the log, a ``close()``
that could hang on user code, errors defined outside ``errors.py``, and an
order tracker that must take OKX's pushes as OKX sends them today.  The
runtime tests use the scripted peer on virtual time, so no test waits for
real seconds.
"""

from __future__ import annotations

import importlib

import pytest

from okx_ws_core import errors

# -- item 11: every error lives in errors.py, old import paths keep working ------------

MOVED = [
    ("okx_ws_core.channels", "UpdateTimeout"),
    ("okx_ws_core.tracker", "OrderWaitTimeout"),
    ("okx_ws_core.rest", "RestAuthenticationError"),
    ("okx_ws_core.rest", "RestUnavailable"),
]


@pytest.mark.parametrize(("module", "name"), MOVED)
def test_errors_defined_elsewhere_now_live_in_errors_and_are_re_exported(
    module: str, name: str
) -> None:
    moved = getattr(errors, name, None)
    assert moved is not None, f"okx_ws_core.errors has no {name}"
    assert moved.__module__ == "okx_ws_core.errors"
    assert getattr(importlib.import_module(module), name) is moved  # the old path still works
    assert issubclass(moved, errors.OkxWsError)
    package = importlib.import_module("okx_ws_core")
    assert getattr(package, name, moved) is moved  # and so does the package's, if it had one
