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
import wsproto
from okx_ws import AsyncWebsocketAPIClient

from okx_ws_core import (
    AsyncWebsocketClient,
    AuthenticationError,
    Event,
    RequestCancelled,
    RequestTimeout,
    Transport,
)
from okx_ws_core.net.pacing import SAFETY_MARGIN_S
from okx_ws_core.protocol.late import LATE_REPLY_TTL_S, MAX_EXPIRED
from okx_ws_core.testing import ScriptedServer, ServerLink, run, until

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
    """A transport whose ``order`` writes wait for ``gate`` (a socket under backpressure).

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
        async with api(server, rate_limit="wait", min_send_time=0.0) as client:
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


# -- item 3: cancellation ---------------------------------------------------------------


def test_cancelled_mid_write_leaks_nothing_and_drops_the_link() -> None:
    """Cancelled while its write waits: the pending entry and its timer go, the link
    (which may hold a partial frame) is dropped and replaced, the fate is recorded."""

    async def main() -> None:
        server = ScriptedServer()
        connector = HeldConnector(server)
        async with api(connector, reconnect_delay=0.01) as client:
            ws = client.get_ws_client()
            await ws.connect("private")
            first = private(server)
            call = asyncio.ensure_future(client.submit_new_order(order("c1"), timeout=5))
            await until(lambda: ws.in_flight == 1, "the order is pending")
            call.cancel()
            with pytest.raises(asyncio.CancelledError):
                await call
            assert ws.in_flight == 0  # before the fix: 1, and its timer still armed
            await until(lambda: first.closed_reason is not None, "the torn link is dropped")
            [fate] = ws.cancelled_fates()
            assert isinstance(fate, RequestCancelled)
            assert (fate.op, fate.cl_ord_ids, fate.connection) == ("order", ("c1",), "private")
            assert fate.inst_ids == {"c1": "BTC-USDT"}
            connector.gate.set()
            reply_ = await client.submit_new_order(order("c2"))  # on a fresh link
            assert reply_.data[0].cl_ord_id == "c2"
            assert private(server) is not first

    run(main())


def test_a_transport_with_atomic_writes_keeps_its_link_when_a_write_is_cancelled() -> None:
    async def main() -> None:
        server = ScriptedServer()
        connector = HeldConnector(server, AtomicHeld)
        async with api(connector) as client:
            ws = client.get_ws_client()
            await ws.connect("private")
            first = private(server)
            call = asyncio.ensure_future(client.submit_new_order(order("a1"), timeout=5))
            await until(lambda: ws.in_flight == 1, "the order is pending")
            call.cancel()
            with pytest.raises(asyncio.CancelledError):
                await call
            assert ws.in_flight == 0
            connector.gate.set()
            await client.submit_new_order(order("a2"))
            assert private(server) is first and first.closed_reason is None

    run(main())


def test_cancelled_after_sending_is_an_unknown_fate_that_reconcile_settles() -> None:
    """Before the fix the tracker stayed at ``sent`` and no id was reported anywhere."""

    async def main() -> None:
        server = ScriptedServer(answer=None)
        rest = Rest()
        async with api(server, rest_transport=httpx.MockTransport(rest.handler)) as client:
            ws = client.get_ws_client()
            await client.track_orders()
            call = asyncio.ensure_future(client.submit_new_order(order("k1"), timeout=5))
            frame = await private(server).next_request()
            call.cancel()
            with pytest.raises(asyncio.CancelledError):
                await call
            assert ws.in_flight == 0
            tracked = client.tracked_order("k1")
            assert tracked is not None and tracked.state == "unknown"
            [fate] = ws.cancelled_fates()
            assert fate.id == frame["id"] and fate.sent
            assert "reconcile" in str(fate)
            rest.place("k1", "901")
            verdicts = await client.reconcile(fate)
            assert verdicts["k1"].placed and rest.asked == ["k1"]
            assert ws.cancelled_fates() == []  # settled
            tracked = client.tracked_order("k1")
            assert tracked is not None and (tracked.state, tracked.ord_id) == ("live", "901")

    run(main())


def test_cancelled_raw_request_is_recorded_too() -> None:
    async def main() -> None:
        server = ScriptedServer(answer=None)
        async with api(server) as client:
            ws = client.get_ws_client()
            call = asyncio.ensure_future(
                ws.send_ws_api_request("private", "order", [order("q1")], timeout=5)
            )
            await private_request(server)
            call.cancel()
            with pytest.raises(asyncio.CancelledError):
                await call
            assert ws.in_flight == 0
            [fate] = ws.cancelled_fates()
            assert fate.cl_ord_ids == ("q1",)

    run(main())


async def private_request(server: ScriptedServer) -> dict[str, Any]:
    while not [lk for lk in server.open_links() if lk.url.endswith("/private")]:
        await asyncio.sleep(0)
    return await private(server).next_request()


def test_a_call_cancelled_before_sending_records_nothing() -> None:
    async def main() -> None:
        server = ScriptedServer()
        server.refuse_connects = 1_000
        async with api(server, reconnect_delay=1.0) as client:
            ws = client.get_ws_client()
            await client.track_orders(subscribe=False)
            call = asyncio.ensure_future(client.submit_new_order(order("n1"), timeout=5))
            await asyncio.sleep(0.5)  # still connecting
            call.cancel()
            with pytest.raises(asyncio.CancelledError):
                await call
            assert ws.cancelled_fates() == []
            assert client.tracked_order("n1") is None  # the tracker never heard of it
            assert ws.in_flight == 0

    run(main())


def test_a_reply_consumed_by_a_call_cancelled_before_it_resumed_is_not_lost() -> None:
    """The reply resolves the call's future, then the call is cancelled before it runs:
    the reply must still settle the order (as a late reply), not vanish."""

    async def main() -> None:
        server = ScriptedServer(answer=None)
        async with api(server) as client:
            ws = client.get_ws_client()
            await client.track_orders()
            late: list[Event] = []
            ws.on("late_reply", late.append)
            call = asyncio.ensure_future(client.submit_new_order(order("z1"), timeout=5))
            link = private(server)
            frame = await link.next_request()
            link.push(reply(frame))
            await until(lambda: ws.in_flight == 0, "the reply was read")
            call.cancel()  # the call has not resumed yet
            with pytest.raises(asyncio.CancelledError):
                await call
            assert [e.message for e in late] == [reply(frame)]
            assert ws.cancelled_fates() == []
            tracked = client.tracked_order("z1")
            assert tracked is not None and tracked.state == "live"

    run(main())


# -- item 3: the httpx-ws writer ------------------------------------------------------------


class _Stream:
    """An httpcore network stream whose writes wait for ``release``."""

    def __init__(self) -> None:
        self.written: list[bytes] = []
        self.release = asyncio.Event()
        self.closed = False

    async def write(self, data: bytes, timeout: float | None = None) -> None:
        await self.release.wait()
        self.written.append(data)

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        await asyncio.Event().wait()
        return b""

    async def aclose(self) -> None:
        self.closed = True


class _Session:
    def __init__(self) -> None:
        self.stream = _Stream()
        self.connection = wsproto.connection.Connection(wsproto.connection.ConnectionType.CLIENT)


def test_httpx_writer_cancelled_mid_write_says_the_link_is_torn() -> None:
    """A rider's cancel is harmless (its bytes go out whole with the shared write); the
    writer's cancel may have cut a TLS record, so the transport reports it and refuses
    further writes."""
    from okx_ws_core.transports.httpx_backend import _HttpxWs
    from okx_ws_core.transports.registry import TransportClosed

    async def main() -> None:
        session = _Session()
        ws = _HttpxWs(session)  # type: ignore[arg-type]
        writer = asyncio.ensure_future(ws.send("first"))
        await asyncio.sleep(0)
        rider = asyncio.ensure_future(ws.send("second"))
        await asyncio.sleep(0)
        rider.cancel()
        with pytest.raises(asyncio.CancelledError):
            await rider
        assert ws.write_interrupted() is False  # the rider's bytes still go out whole
        writer.cancel()
        with pytest.raises(asyncio.CancelledError):
            await writer
        assert ws.write_interrupted() is True
        with pytest.raises(TransportClosed):
            await ws.send("third")
        assert session.stream.written == []

    run(main())


# -- item 8: late replies ------------------------------------------------------------------


def test_a_late_reply_settles_the_timed_out_order_without_rest() -> None:
    async def main() -> None:
        server = ScriptedServer(answer=None)
        rest = Rest()
        async with api(server, rest_transport=httpx.MockTransport(rest.handler)) as client:
            ws = client.get_ws_client()
            await client.track_orders()
            late: list[Event] = []
            ws.on("late_reply", late.append)
            call = asyncio.ensure_future(client.submit_new_order(order("t1"), timeout=1))
            link = private(server)
            frame = await link.next_request()
            with pytest.raises(RequestTimeout) as caught:
                await call
            assert caught.value.sent
            tracked = client.tracked_order("t1")
            assert tracked is not None and tracked.state == "unknown"
            link.push(reply(frame, ord_id="777"))
            await until(lambda: late, "the late reply is reported")
            [event] = late
            assert event.connection == "private" and event.message == reply(frame, ord_id="777")
            assert frame["id"] in event.detail
            tracked = client.tracked_order("t1")
            assert tracked is not None and (tracked.state, tracked.ord_id) == ("live", "777")
            verdicts = await client.reconcile(caught.value)
            assert verdicts["t1"].placed and verdicts["t1"].definite
            assert "late reply" in verdicts["t1"].reason
            assert rest.asked == []  # OKX's own answer: no REST look-up

    run(main())


def test_a_late_rejection_settles_as_not_placed() -> None:
    async def main() -> None:
        server = ScriptedServer(answer=None)
        rest = Rest()
        async with api(server, rest_transport=httpx.MockTransport(rest.handler)) as client:
            await client.track_orders()
            call = asyncio.ensure_future(client.submit_new_order(order("t2"), timeout=1))
            link = private(server)
            frame = await link.next_request()
            with pytest.raises(RequestTimeout) as caught:
                await call
            link.push(reply(frame, s_code="51008"))
            await until(lambda: state(client, "t2") == "rejected", "settled by the late reply")
            verdicts = await client.reconcile(caught.value)
            assert verdicts["t2"].status == "not_placed" and verdicts["t2"].definite
            assert "51008" in verdicts["t2"].reason and rest.asked == []

    run(main())


def test_a_late_reply_to_a_cancelled_call_settles_its_fate() -> None:
    async def main() -> None:
        server = ScriptedServer(answer=None)
        async with api(server) as client:
            ws = client.get_ws_client()
            await client.track_orders()
            call = asyncio.ensure_future(client.submit_new_order(order("t3"), timeout=5))
            link = private(server)
            frame = await link.next_request()
            call.cancel()
            with pytest.raises(asyncio.CancelledError):
                await call
            assert len(ws.cancelled_fates()) == 1
            link.push(reply(frame))
            await until(lambda: not ws.cancelled_fates(), "the late reply settles it")
            tracked = client.tracked_order("t3")
            assert tracked is not None and tracked.state == "live"

    run(main())


def test_a_reply_racing_the_timeout_is_never_lost() -> None:
    """The reply lands in the very loop turn its timer fires: either the call gets it,
    or it times out and the reply settles it as a late reply."""

    async def main() -> None:
        server = ScriptedServer(answer=None)
        async with api(server) as client:
            ws = client.get_ws_client()
            await client.track_orders()
            late: list[Event] = []
            ws.on("late_reply", late.append)
            call = asyncio.ensure_future(client.submit_new_order(order("t4"), timeout=1))
            link = private(server)
            frame = await link.next_request()
            asyncio.get_running_loop().call_at(now() + 1, link.push, reply(frame))
            try:
                await call
            except RequestTimeout:
                await until(lambda: late, "the reply is a late reply")
            tracked = client.tracked_order("t4")
            assert tracked is not None and tracked.state == "live"

    run(main())


def test_expired_ids_are_bounded_in_number_and_age(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        server = ScriptedServer(answer=None)
        async with AsyncWebsocketClient(
            "k", "s", "p", transport=server, attach_event_listeners=False
        ) as ws:
            late: list[Event] = []
            ws.on("late_reply", late.append)
            await ws.connect("private")
            link = private(server)
            calls = [
                asyncio.ensure_future(
                    ws.send_ws_api_request("private", "order", [order(f"b{i}")], timeout=1)
                )
                for i in range(MAX_EXPIRED + 10)
            ]
            results = await asyncio.gather(*calls, return_exceptions=True)
            assert all(isinstance(r, RequestTimeout) and r.sent for r in results)
            frames = link.requests
            link.push(reply(frames[0]))  # beyond the bound: forgotten
            link.push(reply(frames[-1]))
            await until(lambda: late, "the newest is still known")
            assert [e.message["id"] for e in late if e.message] == [frames[-1]["id"]]
            await asyncio.sleep(LATE_REPLY_TTL_S + 1)  # heartbeats keep the link up
            link.push(reply(frames[-2]))  # too old now
            await asyncio.sleep(0.1)
            assert len(late) == 1

    with caplog.at_level("WARNING", logger="okx_ws"):
        run(main())
    unknown = [r for r in caplog.records if "unknown or expired" in r.getMessage()]
    assert len(unknown) == 2


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
