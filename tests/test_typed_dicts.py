"""Dicts with OKX's names get help from the type checker (issue #19 item 3).

mypy --strict and pyright (strict) check small typed examples: OKX's names in
a dict pass, a misspelt key, a float price or a bad enum fails; models take
snake_case keywords, and OKX's names as keywords fail, as they would in a
trader's IDE.  pyright comes from npm (``.ci/run`` installs it under .tools/).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import okx_ws
import pytest
from okx_ws import OPERATIONS

ROOT = Path(__file__).resolve().parent.parent
GOOD = """
    from okx_ws import AsyncWebsocketAPIClient, OrderParamsDict

    async def place(client: AsyncWebsocketAPIClient) -> None:
        order: OrderParamsDict = {"instId": "BTC-USDT", "tdMode": "cash", "side": "buy",
                                  "ordType": "limit", "sz": "0.01", "px": "20000.5"}
        await client.submit_new_order(order)
        await client.submit_multiple_orders([order, {**order, "px": "20001"}])
        await client.cancel_order({"instId": "BTC-USDT", "clOrdId": "b15"})
"""
BAD = """
    from okx_ws import WebsocketAPIClient

    def place(client: WebsocketAPIClient) -> None:
        client.submit_new_order({"instId": "BTC-USDT", "tdMode": "cash", "side": "buy",
                                 "ordType": "limit", "sz": "0.01", "prx": "20000.5"})
        client.submit_new_order({"instId": "BTC-USDT", "tdMode": "cash", "side": "buy",
                                 "ordType": "limit", "sz": "0.01", "px": 20000.5})
        client.submit_new_order({"instId": "BTC-USDT", "tdMode": "cash", "side": "hold",
                                 "ordType": "limit", "sz": "0.01"})
"""


MODELS = """
    from okx_ws import OrderParams

    good = OrderParams(inst_id="BTC-USDT", td_mode="cash", side="buy", ord_type="limit", sz="1")
    bad = OrderParams(instId="BTC-USDT", tdMode="cash", side="buy", ordType="limit", sz="1")
"""
PYRIGHT = ROOT / ".tools" / "node_modules" / ".bin" / "pyright"


def _pyright(sources: dict[str, str], tmp_path: Path) -> dict[str, list[int]]:
    """The lines pyright (strict) reports errors on, per example, in one pyright run."""
    found = str(PYRIGHT) if PYRIGHT.exists() else shutil.which("pyright")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("pyright is missing in CI: .ci/run installs it with npm")
        pytest.skip("pyright is not installed (npm install --prefix .tools pyright)")
    for name, source in sources.items():
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    config = {"extraPaths": [str(ROOT), str(ROOT / "generated")], "typeCheckingMode": "strict",
              "pythonVersion": "3.11", "venvPath": str(ROOT), "venv": ".venv"}  # fmt: skip
    (tmp_path / "pyrightconfig.json").write_text(json.dumps(config), encoding="utf-8")
    files = [str(tmp_path / f"{name}.py") for name in sources]
    result = subprocess.run(
        [found, "--outputjson", "-p", str(tmp_path / "pyrightconfig.json"), *files],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    report = json.loads(result.stdout)
    lines: dict[str, set[int]] = {name: set() for name in sources}
    for diagnostic in report["generalDiagnostics"]:
        if diagnostic["severity"] == "error":
            name = Path(diagnostic["file"]).stem
            lines[name].add(diagnostic["range"]["start"]["line"] + 1)
    return {name: sorted(found_lines) for name, found_lines in lines.items()}


def test_pyright_agrees_on_dicts_and_models(tmp_path: Path) -> None:
    errors = _pyright({"good": GOOD, "bad": BAD, "models": MODELS}, tmp_path)
    assert errors == {"good": [], "bad": [5, 7, 9], "models": [5]}  # models: OKX names rejected


def test_mypy_takes_snake_case_keywords_and_rejects_okx_names_on_models(tmp_path: Path) -> None:
    result = _mypy(MODELS, tmp_path)
    lines = {int(line.split(":")[1]) for line in result.stdout.splitlines() if ": error:" in line}
    assert lines == {5}, result.stdout


def _mypy(source: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "example.py"
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", str(path)],
        cwd=ROOT, env={"MYPYPATH": f"{ROOT}:{ROOT / 'generated'}", "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, check=False,
    )  # fmt: skip


def test_okx_names_in_a_dict_pass_mypy_strict(tmp_path: Path) -> None:
    result = _mypy(GOOD, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_misspelt_key_a_float_price_and_a_bad_enum_fail_mypy(tmp_path: Path) -> None:
    result = _mypy(BAD, tmp_path)
    assert result.returncode == 1
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert [int(line.split(":")[1]) for line in errors] == [5, 7, 9], result.stdout  # each call
    assert all('expected "OrderParams | OrderParamsDict"' in line for line in errors)


def test_every_operation_has_a_typed_dict_with_okx_names() -> None:
    for operation in OPERATIONS.values():
        typed = getattr(okx_ws, f"{operation.params_model.__name__}Dict")
        aliases = {f.alias or n for n, f in operation.params_model.model_fields.items()}
        assert set(typed.__annotations__) == aliases
