"""End to end against the simulator over loopback sockets, on both transports.

Fewer and broader than the socket-free layer (tests/test_client_*.py), which
pins each runtime behaviour on virtual time: these prove the same promises
hold on real sockets and against the simulator's own rules (login codes,
restarts, 64008, clocks, lost links, the blocking client's threads).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import threading
from collections.abc import AsyncIterator
from typing import Any

import pytest
from okx_ws.operations import CANCEL_ORDER, SUBMIT_MULTIPLE_ORDERS, SUBMIT_NEW_ORDER

from okx_ws_core import (
    AsyncWebsocketClient,
    AuthenticationError,
    ClientClosed,
    ConnectionLost,
    Event,
    InstrumentResolutionError,
    OkxApiError,
    RequestTimeout,
    SubscriptionError,
    WebsocketClient,
)
from okx_ws_core.transports.registry import Transport, connector_for
from okx_ws_sim import DEFAULT_API_SECRET, DEFAULT_PASSPHRASE, Simulator
from tests.conftest import client_options

SPOT = ("BTC-USDT", "ETH-USDT", "ETH-BTC")


def order(cl_ord_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "instId": "BTC-USDT",
        "tdMode": "cash",
        "side": "buy",
        "ordType": "limit",
        "px": "100",
        "sz": "0.01",
        "clOrdId": cl_ord_id,
        **extra,
    }


def _operation_for(items: tuple[dict[str, Any], ...]) -> Any:
    return SUBMIT_NEW_ORDER if len(items) == 1 else SUBMIT_MULTIPLE_ORDERS


async def place(client: AsyncWebsocketClient, *items: dict[str, Any], **kw: Any) -> dict[str, Any]:
    """Place orders through the typed path (instIdCode resolved) and return OKX's reply."""
    params = items[0] if len(items) == 1 else list(items)
    reply = await client.call(_operation_for(items), params, **kw)
    return reply.model_dump(by_alias=True)


def place_sync(client: WebsocketClient, *items: dict[str, Any], **kw: Any) -> dict[str, Any]:
    params = items[0] if len(items) == 1 else list(items)
    return client.call(_operation_for(items), params, **kw).model_dump(by_alias=True)


def recorder(client: AsyncWebsocketClient, *names: str) -> list[Event]:
    seen: list[Event] = []
    for name in names:
        client.on(name, seen.append)
    return seen


async def wait_until(predicate: Any, timeout: float = 3.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)


async def test_connect_ws_api_logs_in_both_connections_once(sim: Simulator, transport: str) -> None:
    async with AsyncWebsocketClient(**client_options(sim.base_url, transport=transport)) as client:
        events = recorder(client, "open", "authenticated")
        await client.connect_ws_api()
        assert sorted((e.name, e.connection) for e in events) == [
            ("authenticated", "business"),
            ("authenticated", "private"),
            ("open", "business"),
            ("open", "private"),
        ]
        reply = await place(client, order("conn1"))
        assert reply["code"] == "0" and reply["data"][0]["clOrdId"] == "conn1"
        assert int(reply["inTime"]) > 10**15  # microseconds


async def test_refused_login_fails_every_waiter_and_does_not_loop(sim: Simulator) -> None:
    opts = client_options(sim.base_url, api_passphrase="wrong-passphrase")
    async with AsyncWebsocketClient(**opts) as client:
        results = await asyncio.gather(
            *(place(client, order(f"auth{i}")) for i in range(5)),
            return_exceptions=True,
        )
        assert all(isinstance(r, AuthenticationError) for r in results)
        error = results[0]
        assert isinstance(error, AuthenticationError)
        assert error.code == "60024" and "market" in str(error)
        await asyncio.sleep(0.3)  # a reconnect loop would log in again within this time
        assert sim.stats.logins_failed == 1
        with pytest.raises(AuthenticationError):  # the next request makes one fresh attempt
            await place(client, order("auth9"))
        assert sim.stats.logins_failed == 2


async def test_login_refusal_that_clears_is_recovered_by_the_next_request(sim: Simulator) -> None:
    sim.faults.refuse_logins(count=1)
    async with AsyncWebsocketClient(**client_options(sim.base_url)) as client:
        with pytest.raises(AuthenticationError):
            await client.connect_ws_api()
        reply = await place(client, order("clear1"))
        assert reply["code"] == "0"


async def test_time_offset_is_applied_when_signing(sim: Simulator) -> None:
    sim.faults.fail_rest(count=5, path="/api/v5/public/time")  # no automatic resync here
    async with AsyncWebsocketClient(**client_options(sim.base_url)) as client:
        client.set_time_offset_ms(-120_000)  # our clock would be 2 minutes behind the server's
        with pytest.raises(AuthenticationError) as info:
            await client.connect("private")
        assert info.value.code in ("60004", "60006") and "set_time_offset_ms" in str(info.value)
        assert "Reading OKX's clock failed" in str(info.value)
        client.set_time_offset_ms(0)
        await client.connect("private")


async def test_a_server_clock_45s_ahead_fails_login_once_then_syncs_and_succeeds(
    sim: Simulator,
) -> None:
    sim.clock_offset_s = 45.0
    async with AsyncWebsocketClient(**client_options(sim.base_url)) as client:
        seen = recorder(client, "exception")
        await client.connect("private")
        assert client.get_time_offset_ms() == pytest.approx(45_000, abs=500)
        assert [e.detail for e in seen if "clock was off by" in e.detail]
        assert (await place(client, order("skew1")))["code"] == "0"


def test_blocking_client_syncs_with_a_skewed_server_clock(sim_thread: Any) -> None:
    sim_thread.clock_offset_s = -45.0
    with WebsocketClient(**client_options(sim_thread.base_url)) as client:
        assert place_sync(client, order("skew2"))["code"] == "0"
        assert client.get_time_offset_ms() == pytest.approx(-45_000, abs=500)
        assert client.sync_time() == pytest.approx(-45_000, abs=500)


async def test_secrets_never_appear_in_logs(
    sim: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    logger = logging.getLogger("okx_ws.test")
    opts = client_options(sim.base_url, attach_event_listeners=True, logger=logger)
    async with AsyncWebsocketClient(**opts) as client:
        await client.connect_ws_api()
        await place(client, order("log1"))
    async with AsyncWebsocketClient(
        **{**opts, "api_secret": "bad-" + DEFAULT_API_SECRET}
    ) as client:
        with pytest.raises(AuthenticationError) as info:
            await client.connect("private")
    text = caplog.text + str(info.value) + repr(info.value)
    assert "authenticated" in caplog.text
    for secret in (DEFAULT_API_SECRET, DEFAULT_PASSPHRASE):
        assert secret not in text


async def test_server_restart_reconnects_relogs_and_resubscribes(
    sim: Simulator, transport: str
) -> None:
    async with AsyncWebsocketClient(**client_options(sim.base_url, transport=transport)) as client:
        events = recorder(client, "reconnected")
        updates: list[Event] = []
        client.on("update", updates.append)
        await client.subscribe({"channel": "orders", "instType": "ANY"}, "private")
        await sim.restart()
        await wait_until(lambda: len(events) == 1)
        await place(client, order("resub1"))
        await wait_until(
            lambda: any(
                u.message and u.message["data"][0].get("clOrdId") == "resub1" for u in updates
            )
        )


async def test_unknown_channel_raises_subscription_error(sim: Simulator) -> None:
    async with AsyncWebsocketClient(**client_options(sim.base_url)) as client:
        with pytest.raises(SubscriptionError) as info:
            await client.subscribe({"channel": "no-such-channel"}, "public")
        assert info.value.code == "60018"
        assert client.subscriptions("public") == []


async def test_request_while_server_is_down_times_out_as_never_sent() -> None:
    async with Simulator() as sim:
        url, code = sim.base_url, sim.inst_id_code("BTC-USDT")
    # A preset code: no REST needed, so the WebSocket being down is what the call meets.
    options = client_options(url, instruments={"BTC-USDT": code})
    async with AsyncWebsocketClient(**options) as client:
        with pytest.raises(RequestTimeout) as info:
            await place(client, order("down1"), timeout=0.2)
        assert not info.value.sent


async def test_rest_down_fails_the_call_as_unresolved_and_sends_nothing() -> None:
    async with Simulator() as sim:
        url = sim.base_url
    async with AsyncWebsocketClient(**client_options(url)) as client:
        with pytest.raises(InstrumentResolutionError, match="BTC-USDT") as info:
            await place(client, order("down2"), timeout=0.5)
        assert "nothing was sent" in str(info.value)


async def test_connection_lost_in_flight_is_reported_and_never_resent(
    sim: Simulator, transport: str
) -> None:
    async with AsyncWebsocketClient(**client_options(sim.base_url, transport=transport)) as client:
        await client.connect("private")
        sim.faults.drop_next_request(op="order")
        with pytest.raises(ConnectionLost) as info:
            await place(client, order("lost1"))
        assert info.value.cl_ord_ids == ("lost1",) and info.value.op == "order"
        await asyncio.sleep(0.2)  # time for a (wrong) re-send after the reconnect
        assert sim.stats.requests_by_op.get("order", 0) == 1
        assert (await place(client, order("lost2")))["code"] == "0"


async def test_tag_is_sent_as_given_and_exp_time_is_honoured(sim: Simulator) -> None:
    async with AsyncWebsocketClient(**client_options(sim.base_url)) as client:
        await place(client, order("tag1", tag="mybot7"))
        placed = sim.find_order(cl_ord_id="tag1")
        assert placed is not None and placed["tag"] == "mybot7"
        with pytest.raises(OkxApiError):
            await place(client, order("exp1"), exp_time=1_000)
        assert sim.find_order(cl_ord_id="exp1") is None


async def test_notice_64008_moves_to_a_fresh_connection_before_the_close(sim: Simulator) -> None:
    async with AsyncWebsocketClient(**client_options(sim.base_url)) as client:
        events = recorder(client, "reconnect", "reconnected", "close")
        await client.connect("private")
        sim.faults.send_notice(close_after=0.3)
        await wait_until(lambda: any(e.name == "reconnected" for e in events))
        assert not any(
            e.name == "close" for e in events
        )  # moved before the server closed the old one
        assert (await place(client, order("notice1")))["code"] == "0"


def test_blocking_client_round_trip_and_thread_shutdown(sim_thread: Any) -> None:
    threads_before = threading.active_count()
    with WebsocketClient(**client_options(sim_thread.base_url)) as client:
        client.connect_ws_api()
        reply = place_sync(client, order("sync1"))
        assert reply["data"][0]["clOrdId"] == "sync1"
        with pytest.raises(OkxApiError):
            client.call(CANCEL_ORDER, {"instId": "BTC-USDT", "ordId": "999999"})
    assert threading.active_count() == threads_before
    with pytest.raises(ClientClosed):
        place_sync(client, order("sync2"))


def test_blocking_client_is_thread_safe(sim_thread: Any) -> None:
    with WebsocketClient(**client_options(sim_thread.base_url)) as client:
        errors: list[BaseException] = []

        def worker(n: int) -> None:
            try:
                for i in range(20):  # within OKX's 60 / 2 s per instrument: no pacing
                    place_sync(client, order(f"t{n}x{i}", instId=SPOT[n % len(SPOT)]))
            except BaseException as exc:  # noqa: BLE001 - collected for the assertion
                errors.append(exc)

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert len(sim_thread.orders()) == 80


class BreakingConnector:
    """A real websockets connection whose sends fail on demand (a public Connector)."""

    def __init__(self, fail_when: Any) -> None:
        self._inner = connector_for("websockets")
        self.fail_when = fail_when

    @contextlib.asynccontextmanager
    async def open(self, url: str, timeout: float) -> AsyncIterator[Transport]:
        async with self._inner.open(url, timeout) as transport:
            yield _Breaking(transport, self)


class _Breaking:
    def __init__(self, inner: Transport, owner: BreakingConnector) -> None:
        self._inner, self._owner = inner, owner

    async def send(self, text: str) -> None:
        if self._owner.fail_when(text):
            raise OSError("EPIPE")
        await self._inner.send(text)

    async def recv(self) -> str:
        return await self._inner.recv()

    async def close(self) -> None:
        await self._inner.close()


async def test_failed_send_fails_the_request_at_once_instead_of_hanging(sim: Simulator) -> None:
    connector = BreakingConnector(lambda text: '"clOrdId":"send1"' in text)
    options = client_options(sim.base_url, request_timeout=5.0, transport=connector)
    async with AsyncWebsocketClient(**options) as client:
        await client.connect("private")
        started = asyncio.get_running_loop().time()
        with pytest.raises(ConnectionLost) as info:
            await place(client, order("send1"))
        assert asyncio.get_running_loop().time() - started < 1.0
        assert info.value.cl_ord_ids == ("send1",) and "EPIPE" in str(info.value)
        assert (await place(client, order("send2")))["code"] == "0"  # reconnected


async def test_restarts_under_load_do_not_turn_a_dead_link_into_a_failure_storm() -> None:
    """Regression (found by the soak): after a server close, every request failed at once on
    the dead link and callers retrying in a loop starved the event loop."""
    # Rate limits on both sides would (rightly) hold most of this storm back: this test
    # is about dead links, so it sends as fast as the simulator takes them.
    async with Simulator(idle_timeout=5.0, rate_limits=False) as sim:
        await _storm(sim)


async def _storm(sim: Simulator) -> None:
    options = client_options(sim.base_url, request_timeout=1.0, rate_limit="off")
    async with AsyncWebsocketClient(**options) as client:
        await client.connect("private")
        lost = 0
        loop = asyncio.get_running_loop()
        stop = loop.time() + 2.6
        counter = iter(range(10**6))

        async def worker() -> None:
            nonlocal lost
            while loop.time() < stop:
                try:
                    await place(client, order(f"storm{next(counter)}"))
                except ConnectionLost:
                    lost += 1
                except RequestTimeout:
                    pass

        workers = [asyncio.create_task(worker()) for _ in range(8)]
        for _ in range(8):
            await asyncio.sleep(0.3)
            await sim.restart()
        await asyncio.gather(*workers)
        assert lost <= 8 * 8 * 2  # at most the requests in flight on each dead link, not thousands
        assert (await place(client, order("stormEnd")))["code"] == "0"


async def test_failed_login_send_leaves_no_unretrieved_future(sim: Simulator) -> None:
    """Regression (found by the soak): a login frame that failed to send left its waiter
    failed but never awaited ("Future exception was never retrieved")."""
    connector = BreakingConnector(lambda text: '"op":"login"' in text)
    problems: list[str] = []
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda _loop, ctx: problems.append(str(ctx.get("message"))))
    try:
        client = AsyncWebsocketClient(**client_options(sim.base_url, transport=connector))
        with pytest.raises(RequestTimeout) as info:
            await place(client, order("login1"), timeout=0.2)
        assert info.value.sent is False
        await client.close()
        gc.collect()
        await asyncio.sleep(0)
    finally:
        loop.set_exception_handler(None)
    assert problems == []
    assert sim.stats.requests_by_op.get("order", 0) == 0
