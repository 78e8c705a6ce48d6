"""The path of one warm request, measured: the modules a ``submit_new_order`` runs.

A profiler (``sys.setprofile``) records every Python function call on the loop
thread while one warm ``submit_new_order`` (default options, connection open,
instIdCode cached) goes down to the transport and its reply comes back up.  The
modules it ran, in order, must be exactly those the architecture page lists in
its request-path section (docs/guide/architecture.md, linked from the README),
so a module that joins the path, or leaves it, shows up here and on that page.

The scripted server stands in for the transport (``okx_ws_core.testing``): it is
the test's, not the path's, and is left out.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from types import FrameType
from typing import Any

import httpx
from okx_ws import AsyncWebsocketAPIClient

from okx_ws_core.testing import ScriptedServer, run

DOC = Path(__file__).resolve().parent.parent / "docs" / "guide" / "architecture.md"
SECTION = "## The path of one request"
OURS = ("okx_ws_core", "okx_ws")
LEFT_OUT = ("okx_ws_core.testing",)
BUY = {"instId": "BTC-USDT", "tdMode": "cash", "side": "buy", "ordType": "limit", "sz": "1"}
CREDENTIALS = {"api_key": "k", "api_secret": "s", "api_passphrase": "p"}


def _instruments(request: httpx.Request) -> httpx.Response:
    item = {"instId": "BTC-USDT", "instIdCode": 1001, "instType": "SPOT"}
    return httpx.Response(200, json={"code": "0", "msg": "", "data": [item]})


def traced_path() -> list[str]:
    """The runtime modules one warm submit_new_order runs, each stay once, in order."""
    stays: list[str] = []

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        if event != "call":
            return
        module = str(frame.f_globals.get("__name__", ""))
        if module.split(".")[0] not in OURS or module in LEFT_OUT:
            return
        if not stays or stays[-1] != module:
            stays.append(module)

    async def main() -> None:
        server = ScriptedServer()
        rest = httpx.MockTransport(_instruments)
        async with AsyncWebsocketAPIClient(
            **CREDENTIALS, transport=server, rest_transport=rest, attach_event_listeners=False
        ) as api:
            for warm_up in ("w1", "w2"):  # connect, log in, load the code: the cold path
                await api.submit_new_order({**BUY, "px": "1", "clOrdId": warm_up})
            sys.setprofile(profile)
            try:
                await api.submit_new_order({**BUY, "px": "1", "clOrdId": "traced"})
            finally:
                sys.setprofile(None)

    run(main())
    return stays


def documented_path() -> list[str]:
    text = DOC.read_text()
    section = text[text.index(SECTION) :]
    following = section.find("\n## ", len(SECTION))
    section = section if following < 0 else section[:following]
    names = re.findall(r"^\| `((?:okx_ws_core|okx_ws)(?:\.\w+)+)` \|", section, re.MULTILINE)
    return [n for n in dict.fromkeys(names) if n not in LEFT_OUT]


def test_the_documented_request_path_is_the_measured_one() -> None:
    stays = traced_path()
    print("\nwarm submit_new_order, module stays in order:")
    for number, module in enumerate(stays, 1):
        print(f"  {number:2d}. {module}")
    ran, listed = list(dict.fromkeys(stays)), documented_path()
    unlisted = [m for m in ran if m not in listed]
    stale = [m for m in listed if m not in ran]
    assert not unlisted, f"on the request path but not in {DOC.name}'s '{SECTION}': {unlisted}"
    assert not stale, f"listed in {DOC.name}'s '{SECTION}' but not on the path: {stale}"
    assert ran == listed, f"list them in the order the request first runs them: {ran}"
