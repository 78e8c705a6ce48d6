"""Every REST request okx-ws makes goes through one wrapper (``RestHttp``).

The instrument list, OKX's clock, the signed queries and the book snapshots
once each built their own httpx client; these tests pin what the one wrapper
gives all four: the demo header, one base URL, and a failed round trip named
in the caller's error.  No network: an ``httpx.MockTransport`` answers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from okx_ws_core.errors import ClockSyncError, InstrumentResolutionError, RestUnavailable
from okx_ws_core.rest.clock import server_offset_ms
from okx_ws_core.rest.instruments import InstrumentRegistry
from okx_ws_core.rest.queries import PublicRest, SignedRest

URL = "https://www.okx.com"
CREDENTIALS = ("key", "secret", "passphrase")


def _answer(request: httpx.Request) -> httpx.Response:
    data: list[dict[str, Any]] = [{"ts": "1700000000000"}]
    if request.url.path.endswith("/instruments"):
        data = [{"instId": "BTC-USDT", "instIdCode": 1}]
    return httpx.Response(200, json={"code": "0", "msg": "", "data": data})


def _callers(transport: httpx.MockTransport) -> dict[str, Callable[[], Awaitable[object]]]:
    """One REST request of each kind okx-ws makes, on demo trading."""

    async def instruments() -> object:
        registry = InstrumentRegistry(URL, demo_trading=True, transport=transport)
        try:
            return await registry.resolve("BTC-USDT")
        finally:
            await registry.aclose()

    async def clock() -> object:
        return await server_offset_ms(URL, demo_trading=True, transport=transport)

    async def signed() -> object:
        rest = SignedRest(URL, CREDENTIALS, demo_trading=True, transport=transport)
        try:
            return await rest.get("/api/v5/trade/order", {"instId": "BTC-USDT"})
        finally:
            await rest.aclose()

    async def public() -> object:
        rest = PublicRest(URL, demo_trading=True, transport=transport)
        try:
            return await rest.get("/api/v5/market/books", {"instId": "BTC-USDT", "sz": "5"})
        finally:
            await rest.aclose()

    return {"instruments": instruments, "clock": clock, "signed": signed, "public": public}


@pytest.mark.parametrize("kind", ["instruments", "clock", "signed", "public"])
async def test_every_rest_request_carries_the_demo_header(kind: str) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return _answer(request)

    await _callers(httpx.MockTransport(handler))[kind]()
    assert [r.headers.get("x-simulated-trading") for r in seen] == ["1"]
    assert str(seen[0].url).startswith(f"{URL}/api/v5/")


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        ("instruments", InstrumentResolutionError),
        ("clock", ClockSyncError),
        ("signed", RestUnavailable),
        ("public", RestUnavailable),
    ],
)
async def test_a_timeout_names_the_request_in_the_callers_error(
    kind: str, error: type[Exception]
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    with pytest.raises(error, match=r"GET https://www\.okx\.com/api/v5/\S+ timed out after 5s"):
        await _callers(httpx.MockTransport(handler))[kind]()
