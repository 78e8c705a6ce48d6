"""``import okx_ws`` stays cheap (issue #20): the models and pydantic load on first use.

Building the 86 pydantic models and importing pydantic were most of the import;
these checks keep them out of it without timing anything, and check that the
lazily loaded names are the very objects they were before.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import okx_ws
import pytest

from okx_ws_core.lazy import LazyModule

ROOT = Path(__file__).resolve().parent.parent
DEFERRED = ("pydantic", "okx_ws.models", "okx_ws.operations", "okx_ws.channels")


def _loaded_after(code: str) -> list[str]:
    probe = f"{code}; import sys, json; print(json.dumps([m for m in {DEFERRED!r} if m in sys.modules]))"
    path = os.pathsep.join([str(ROOT), str(ROOT / "generated"), os.environ.get("PYTHONPATH", "")])
    out = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": path},
    ).stdout
    return list(json.loads(out.splitlines()[-1]))


def test_importing_the_package_or_its_clients_builds_no_model() -> None:
    assert _loaded_after("import okx_ws_core; print(okx_ws_core.__file__)") == []
    assert _loaded_after("import okx_ws") == []
    assert _loaded_after("from okx_ws import AsyncWebsocketAPIClient, WebsocketAPIClient") == []


def test_a_model_name_loads_its_module_on_first_use() -> None:
    assert _loaded_after("from okx_ws import OrderParams") == [
        "pydantic",
        "okx_ws.models",
    ]


def test_lazy_names_are_the_objects_of_their_modules() -> None:
    from okx_ws import models, operations

    assert okx_ws.OrderParams is models.OrderParams
    assert okx_ws.OPERATIONS is operations.OPERATIONS
    assert okx_ws.models is models
    assert {"OrderParams", "OPERATIONS", "models", "AsyncWebsocketAPIClient"} <= set(dir(okx_ws))
    with pytest.raises(AttributeError):
        _ = okx_ws.NoSuchName


def test_a_held_lazy_module_is_replaced_by_the_module_itself() -> None:
    holder: dict[str, object] = {}
    holder["codec"] = LazyModule("json", holder, "codec")
    assert holder["codec"].dumps is json.dumps  # type: ignore[attr-defined]
    assert holder["codec"] is json


def test_lazy_module_imports_once_for_readers_on_several_threads() -> None:
    lazy = LazyModule("json")
    seen: list[object] = []
    threads = [threading.Thread(target=lambda: seen.append(lazy.dumps)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == [json.dumps] * 8
    with pytest.raises(AttributeError):
        _ = lazy.no_such_function
