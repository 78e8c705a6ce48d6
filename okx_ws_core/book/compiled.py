"""Which order-book core is loaded: mypyc-compiled or pure Python (issue #18).

``levels`` and ``orderbook`` are compiled with mypyc when the package is built
with a C compiler (``hatch_build.py`` at the repository root); their ``.py``
sources ship beside the compiled modules and are the fallback.  Python imports
a compiled module before a ``.py`` of the same name, so a compiled module left
over from older sources would silently run old code: the build records the
sha256 of the sources it compiled (``compiled-from.txt``) and :func:`guard`,
run by the package before anything imports the two modules, loads the ``.py``
instead (with a :class:`RuntimeWarning`) when they differ.

:data:`COMPILED` says which one is running; :func:`pure_modules` loads the
pure-Python modules under another name, so both can be compared in one process
(the differential test, ``python -m bench.book``).
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
import types
import warnings
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path
from typing import NamedTuple

__all__ = ["COMPILED", "PureBook", "guard", "is_compiled", "pure_modules", "stale_reason"]

_DIR = Path(__file__).resolve().parent
_PACKAGE = __name__.rpartition(".")[0]  # okx_ws_core.book
COMPILED_MODULES = ("levels", "orderbook")
MANIFEST = "compiled-from.txt"


def _has_build(directory: Path, module: str) -> bool:
    return any((directory / f"{module}{suffix}").exists() for suffix in EXTENSION_SUFFIXES)


def stale_reason(directory: Path = _DIR) -> str | None:
    """Why the compiled modules in ``directory`` must not be used; ``None`` if they may (or are absent).

    A few ``stat`` calls, and a sha256 of the two sources when compiled
    modules are present (tens of microseconds, once per process).
    """
    if not any(_has_build(directory, m) for m in COMPILED_MODULES):
        return None
    if not all(_has_build(directory, m) for m in COMPILED_MODULES):
        return "only some of its modules are compiled"
    try:
        recorded = dict(line.split() for line in (directory / MANIFEST).read_text().splitlines())
    except (OSError, ValueError):
        return f"{MANIFEST} (the sources it was compiled from) is missing or unreadable"
    for module in COMPILED_MODULES:
        source = f"{module}.py"
        digest = hashlib.sha256((directory / source).read_bytes()).hexdigest()
        if recorded.get(source) != digest:
            return f"{source} changed since it was compiled"
    return None


def _load(name: str, path: Path) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def guard() -> None:
    """Load the ``.py`` modules in place of a stale compiled build (see the module docstring)."""
    reason = stale_reason()
    if reason is None or f"{_PACKAGE}.levels" in sys.modules:
        return
    warnings.warn(
        f"okx-ws: the compiled order book is stale ({reason}); using the pure-Python "
        "one. Rebuild it: `make install` (or python hatch_build.py) in a checkout",
        RuntimeWarning,
        stacklevel=3,
    )
    for module in COMPILED_MODULES:  # levels first: orderbook imports it
        _load(f"{_PACKAGE}.{module}", _DIR / f"{module}.py")


def is_compiled(module: types.ModuleType) -> bool:
    """True if ``module`` was loaded from a compiled extension, not from its ``.py``."""
    return (getattr(module, "__file__", None) or "").endswith(tuple(EXTENSION_SUFFIXES))


class PureBook(NamedTuple):
    """The pure-Python book modules, loaded by :func:`pure_modules`."""

    levels: types.ModuleType
    orderbook: types.ModuleType


def pure_modules(name: str = "okx_ws_core.pure_book") -> PureBook:
    """The book's pure-Python modules under the package ``name`` (loaded once, then reused).

    ``name`` must sit directly in ``okx_ws_core`` (the modules import
    ``..errors``): exceptions of the shared hierarchy are the same classes, the
    book's own (``BookFrameError``, ``StaleBookError``) are copies.
    """
    parent, _, _ = name.rpartition(".")
    if parent != _PACKAGE.rpartition(".")[0]:
        raise ValueError(f"{name!r} must be a direct subpackage of {parent!r}")
    if f"{name}.orderbook" not in sys.modules:
        package = types.ModuleType(name, "The order book's pure-Python modules (comparisons).")
        package.__path__ = []  # nothing found by search: every module is loaded below
        sys.modules[name] = package
        for module in ("levels", "channel_rules", "resync", "orderbook"):
            setattr(package, module, _load(f"{name}.{module}", _DIR / f"{module}.py"))
    return PureBook(sys.modules[f"{name}.levels"], sys.modules[f"{name}.orderbook"])


guard()

from . import levels as _levels  # noqa: E402  (after the guard, by design)
from . import orderbook as _orderbook  # noqa: E402

#: True when the order book's core runs compiled (mypyc), False for pure Python.
COMPILED: bool = is_compiled(_levels) and is_compiled(_orderbook)
