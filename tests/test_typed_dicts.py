"""Dicts with OKX's names get help from the type checker (issue #19 item 3).

mypy --strict checks a small typed example: OKX's names pass, a misspelt key
or a float price fails, as they would in a trader's IDE.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import okx_ws
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
