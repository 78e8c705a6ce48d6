"""Warming the instrument codes makes its HTTP client before its first suspension.

``connect_ws_api`` loads the codes beside its connects.  Importing httpx and its
transport (~0.1 s idle, seconds on a loaded machine) blocks the loop; done in the
load task, it ran after the connects had taken their turns under OKX's 3 connects
per second, so their upgrades reached the server late, bunched with the next
client's: HTTP 429 (the docs snippet of instrument-codes.md, under load).  Checked
in a fresh interpreter, the only place those modules are not loaded yet.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import httpx

from okx_ws_core.rest.instruments import InstrumentRegistry

ROOT = Path(__file__).resolve().parent.parent

PROBE = textwrap.dedent(
    """
    import asyncio
    import sys

    from okx_ws_core.rest.instruments import InstrumentRegistry

    LAZY = ("httpx", "httpcore")


    async def main() -> None:
        registry = InstrumentRegistry("http://127.0.0.1:9")
        before = [name for name in LAZY if name in sys.modules]
        load = registry.load(["SPOT"])
        load.send(None)  # its first step: up to its first suspension
        after = [name for name in LAZY if name in sys.modules]
        load.close()
        await registry.aclose()
        print(before, after)


    asyncio.run(main())
    """
)


def test_load_imports_httpx_and_its_transport_before_its_first_suspension() -> None:
    path = os.pathsep.join([str(ROOT), str(ROOT / "generated")])
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": path},
        check=False,
    )
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert result.stdout.split("\n")[0] == "[] ['httpx', 'httpcore']"


async def test_a_load_that_will_not_fetch_makes_no_http_client(monkeypatch: Any) -> None:
    """A registry whose list a sibling sharing the store loaded moments ago fetches
    nothing, so it builds no HTTP client (an SSL context each: +16 KiB of RSS per
    client in the bench's memory rows when it did)."""
    made: list[object] = []
    real_init = httpx.AsyncClient.__init__

    def counting_init(self: httpx.AsyncClient, *args: Any, **kwargs: Any) -> None:
        made.append(self)
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(httpx.AsyncClient, "__init__", counting_init)
    item = {"instId": "BTC-USDT", "instIdCode": 1001, "instType": "SPOT"}
    venue = httpx.MockTransport(
        lambda request: httpx.Response(200, json={"code": "0", "msg": "", "data": [item]})
    )
    first = InstrumentRegistry("http://venue.test", transport=venue, shared=True)
    second = InstrumentRegistry("http://venue.test", transport=venue, shared=True)
    try:
        await first.load(["SPOT"])
        assert len(made) == 1 and first.code("BTC-USDT") == 1001
        await second.load(["SPOT"])  # fresh in the shared store: nothing to fetch
        assert second.code("BTC-USDT") == 1001
        assert len(made) == 1
    finally:
        await first.aclose()
        await second.aclose()
