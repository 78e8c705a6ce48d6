"""Connection lifecycle on virtual time: heartbeat, backoff, 64008, subscriptions, updates.

Same rules as ``test_client_scripted.py``: a :class:`ScriptedServer` peer, the
virtual clock of :func:`okx_ws_core.testing.run`, the public API only.  Times
asserted here are exact virtual times.
"""

from __future__ import annotations

import asyncio
import itertools
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest

from okx_ws_core import (
    AsyncWebsocketClient,
    ConnectionLost,
    Event,
    RequestTimeout,
    SubscriptionError,
    Transport,
)
from okx_ws_core.testing import ScriptedServer, ServerLink, run, until

TICKERS = {"channel": "tickers", "instId": "BTC-USDT"}
ORDERS = {"channel": "orders", "instType": "ANY"}
NOTICE = {"event": "notice", "code": "64008", "msg": "service upgrade", "connId": "c1"}


def make_client(server: Any, **overrides: Any) -> AsyncWebsocketClient:
    options: dict[str, Any] = {"attach_event_listeners": False, "id_prefix": "t", **overrides}
    return AsyncWebsocketClient("key1", "secret1", "pass1", transport=server, **options)


def now() -> float:
    return asyncio.get_running_loop().time()


def timeline(client: AsyncWebsocketClient, *names: str) -> list[tuple[float, str]]:
    """(virtual time, event name) of every event in ``names``."""
    seen: list[tuple[float, str]] = []
    for name in names:
        client.on(name, lambda event: seen.append((now(), event.name)))
    return seen


def pings(link: ServerLink) -> int:
    return link.frames.count("ping")


def order_args(cl_ord_id: str) -> list[dict[str, Any]]:
    return [{"instIdCode": 7, "tdMode": "cash", "side": "buy", "ordType": "market", "sz": "1",
             "clOrdId": cl_ord_id}]  # fmt: skip


def ok(frame: dict[str, Any], marker: str) -> dict[str, Any]:
    return {"id": frame["id"], "op": frame["op"], "code": "0", "msg": "",
            "data": [{"ordId": marker, "sCode": "0", "sMsg": ""}]}  # fmt: skip


# -- heartbeat --------------------------------------------------------------------


def test_idle_link_pings_every_ping_interval_while_pongs_come_back() -> None:
    async def main() -> None:
        server = ScriptedServer()
        async with make_client(server, ping_interval=10.0, pong_timeout=2.0) as client:
            await client.connect("private")
            link = server.links[0]
            await asyncio.sleep(9.99)
            assert pings(link) == 0
            await asyncio.sleep(0.02)
            assert pings(link) == 1 and link.frames[-1] == "ping"
            await asyncio.sleep(25)  # t = 35: pinged at 10, 20, 30
            assert pings(link) == 3
            assert len(server.links) == 1 and link.closed_reason is None

    run(main())


def test_traffic_postpones_the_ping() -> None:
    async def main() -> None:
        server = ScriptedServer()
        async with make_client(server, ping_interval=10.0) as client:
            await client.connect("private")
            link = server.links[0]
            for _ in range(4):  # a request every 6 s: never idle for 10 s
                await asyncio.sleep(6)
                await client.send_ws_api_request("private", "order", order_args("a1"))
            assert pings(link) == 0
            await asyncio.sleep(10.5)
            assert pings(link) == 1

    run(main())


def test_no_pong_reconnects_after_pong_timeout_and_logs_in_again() -> None:
    async def main() -> None:
        server = ScriptedServer(answer_pings=False)
        async with make_client(server, ping_interval=10.0, pong_timeout=2.0) as client:
            events = timeline(client, "close", "reconnect", "authenticated", "reconnected")
            await client.connect("private")
            first = server.links[0]
            await asyncio.sleep(11.99)
            assert len(server.links) == 1 and first.closed_reason is None
            await asyncio.sleep(0.02)
            assert first.closed_reason is not None
            assert len(server.links) == 2 and server.logins == 2
            reply = await client.send_ws_api_request("private", "order", order_args("a2"))
            assert [name for _, name in events] == [
                "authenticated", "close", "reconnect", "authenticated", "reconnected",
            ]  # fmt: skip
            assert [t for t, name in events if name != "authenticated"] == pytest.approx(
                [12.0, 12.0, 12.0], abs=1e-6
            )
        assert reply["id"] == server.links[1].requests[0]["id"]
        assert first.requests == []

    run(main())


def test_any_inbound_frame_counts_as_alive_not_only_pong() -> None:
    async def main() -> None:
        server = ScriptedServer(answer_pings=False)
        async with make_client(server, ping_interval=10.0, pong_timeout=2.0) as client:
            events = timeline(client, "reconnect")
            await client.connect("private")
            link = server.links[0]
            await asyncio.sleep(10.5)  # pinged at 10, no pong will come...
            assert pings(link) == 1
            link.push({"event": "channel-conn-count", "channel": "orders", "connCount": "1",
                       "connId": "c1"})  # fmt: skip
            await asyncio.sleep(4.5)  # t = 15, past the 12 s a missing pong would mean
            assert events == [] and link.closed_reason is None
            await asyncio.sleep(10)  # silence again: ping at 20, dead at 22
        assert [t for t, _ in events] == [pytest.approx(22.0, abs=1e-6)]
        assert pings(link) == 2

    run(main())


# -- reconnect backoff ------------------------------------------------------------------


class TimedConnector:
    """A Connector recording the virtual time of every connect attempt."""

    def __init__(self, server: ScriptedServer) -> None:
        self.server = server
        self.times: list[float] = []

    def open(self, url: str, timeout: float) -> AbstractAsyncContextManager[Transport]:
        self.times.append(now())
        return self.server.open(url, timeout)


def check_backoff(delays: list[float], initial: float, maximum: float) -> None:
    """Each delay in [ceiling/2, ceiling], ceilings doubling from ``initial`` up to ``maximum``."""
    for attempt, delay in enumerate(delays):
        ceiling = min(maximum, initial * 2**attempt)
        assert ceiling / 2 - 1e-9 <= delay <= ceiling + 1e-9, (attempt, delay, delays)


def test_failed_connects_back_off_growing_jittered_bounded_and_reset_after_success() -> None:
    async def main() -> None:
        server = ScriptedServer()
        connector = TimedConnector(server)
        server.refuse_connects = 8
        async with make_client(
            connector, reconnect_delay=1.0, reconnect_max_delay=8.0, request_timeout=200.0
        ) as client:
            reply = await client.send_ws_api_request("private", "order", order_args("b1"))
            assert reply["id"] == server.links[0].requests[0]["id"]
            times = connector.times
            assert len(times) == 9  # 8 refused, the 9th opened
            delays = [b - a for a, b in itertools.pairwise(times)]
            check_backoff(delays, 1.0, 8.0)
            assert max(delays) <= 8.0
            assert delays[3] > delays[0] * 2  # it grows...
            assert len({round(d, 9) for d in delays[3:]}) > 1  # ...with jitter at the cap

            server.refuse_connects = 3
            del times[:]
            server.links[0].close("dropped")
            await asyncio.sleep(20)
            assert len(times) == 4 and len(server.open_links()) == 1
            after = [b - a for a, b in itertools.pairwise(times)]
            check_backoff(after, 1.0, 8.0)  # back to 0.5-1 s: reset by the success
            assert after[0] <= 1.0

    run(main())


def test_reconnect_after_a_drop_is_immediate() -> None:
    async def main() -> None:
        server = ScriptedServer()
        connector = TimedConnector(server)
        async with make_client(connector) as client:
            await client.connect("private")
            await asyncio.sleep(3)
            server.links[0].close("dropped")
            await asyncio.sleep(1)
        assert connector.times == pytest.approx([0.0, 3.0], abs=1e-9)

    run(main())


# -- 64008 notice --------------------------------------------------------------------


def test_notice_64008_moves_to_a_fresh_link_before_the_old_one_closes() -> None:
    async def main() -> None:
        server = ScriptedServer(answer=None)
        async with make_client(server) as client:
            await client.connect("private")
            old = server.links[0]
            old_state_at_login: list[str | None] = []
            client.on("authenticated", lambda event: old_state_at_login.append(old.closed_reason))
            in_flight = asyncio.create_task(
                client.send_ws_api_request("private", "order", order_args("n1"))
            )
            frame = await old.next_request()

            old.push(NOTICE)
            await until(lambda: len(server.links) == 2 and old_state_at_login, "fresh link")
            new = server.links[1]
            assert len(new.ops("login")) == 1
            assert old_state_at_login == [None]  # logged in while the old link was open

            later = asyncio.create_task(
                client.send_ws_api_request("private", "order", order_args("n2"))
            )
            later_frame = await new.next_request()
            assert [r["id"] for r in old.requests] == [frame["id"]]

            await asyncio.sleep(2)
            assert old.closed_reason is None  # still waiting for the reply in flight
            old.push(ok(frame, "on-old"))
            new.push(ok(later_frame, "on-new"))
            assert (await in_flight)["data"][0]["ordId"] == "on-old"
            assert (await later)["data"][0]["ordId"] == "on-new"
            await asyncio.sleep(0.5)
            assert old.closed_reason is not None and new.closed_reason is None
            assert len(server.links) == 2

    run(main())


def test_notice_64008_without_requests_in_flight_retires_the_old_link_promptly() -> None:
    async def main() -> None:
        server = ScriptedServer()
        async with make_client(server) as client:
            events = timeline(client, "reconnect", "reconnected", "close")
            await client.subscribe(ORDERS, "private")
            old = server.links[0]
            old.push(NOTICE)
            await asyncio.sleep(0.5)
            new = server.links[1]
            assert old.closed_reason is not None and new.closed_reason is None
            assert new.ops("subscribe")[0]["args"] == [ORDERS]  # restored on the new link
        assert [name for _, name in events][:2] == ["reconnect", "reconnected"]

    run(main())


def test_close_during_a_64008_retire_closes_the_old_link_too() -> None:
    async def main() -> None:
        server = ScriptedServer(answer=None)
        client = make_client(server)
        await client.connect("private")
        old = server.links[0]
        in_flight = asyncio.create_task(
            client.send_ws_api_request("private", "order", order_args("c1"))
        )
        await old.next_request()
        old.push(NOTICE)
        await until(lambda: len(server.links) == 2, "fresh link")
        await asyncio.sleep(0.1)
        await client.close()
        assert server.open_links() == []
        with pytest.raises(ConnectionLost):
            await asyncio.wait_for(in_flight, 0.1)
        assert asyncio.all_tasks() == {asyncio.current_task()}

    run(main())


# -- a link that dies during setup ------------------------------------------------------


def test_link_dying_right_after_its_resubscribe_is_replaced_without_a_call() -> None:
    async def main() -> None:
        server = ScriptedServer()
        async with make_client(server) as client:
            events = timeline(client, "reconnected")
            await client.subscribe(ORDERS, "private")

            async def drop_after_resubscribe() -> None:
                await server.next_link()  # the first link
                link = await server.next_link()
                await until(lambda: link.ops("subscribe"), "resubscribe sent")
                link.close("dropped right after the acks")  # the acks are already queued

            dropper = asyncio.create_task(drop_after_resubscribe())
            server.links[0].close("dropped")
            await dropper
            await asyncio.sleep(30)  # no call: the client alone must notice
            assert len(server.open_links()) == 1
            assert server.open_links()[0].ops("subscribe")[0]["args"] == [ORDERS]
            # The dying link is either never installed (it died during setup: one
            # "reconnected") or replaced after (two); either way the client alone recovered.
            assert len(events) in (1, 2)

    run(main())


# -- subscriptions -------------------------------------------------------------------


def test_subscribe_waits_for_every_ack_and_is_remembered() -> None:
    async def main() -> None:
        server = ScriptedServer(ack_subscriptions=False)
        async with make_client(server) as client:
            both = [TICKERS, {"channel": "tickers", "instId": "ETH-USDT"}]
            call = asyncio.create_task(client.subscribe(both))
            link = await server.next_link()
            await until(lambda: link.ops("subscribe"), "subscribe sent")
            assert link.ops("subscribe")[0]["args"] == both
            link.push({"event": "subscribe", "arg": both[1], "connId": "c1"})
            await asyncio.sleep(1)
            assert not call.done()  # one ack of two
            link.push({"event": "subscribe", "arg": {**both[0], "extra": "x"}, "connId": "c1"})
            await call
            assert client.subscriptions("public") == both
            assert client.subscriptions("private") == []

    run(main())


def test_refused_subscribe_raises_subscription_error_and_is_forgotten() -> None:
    async def main() -> None:
        server = ScriptedServer(ack_subscriptions=False)
        async with make_client(server) as client:
            bad = {"channel": "no-such-channel"}
            call = asyncio.create_task(client.subscribe(bad, "private"))
            link = await server.next_link()
            await until(lambda: link.ops("subscribe"), "subscribe sent")
            link.push({"event": "error", "code": "60018", "msg": "channel doesn't exist",
                       "connId": "c1"})  # fmt: skip
            with pytest.raises(SubscriptionError) as caught:
                await call
            assert caught.value.code == "60018" and caught.value.args_ == [bad]
            assert client.subscriptions("private") == []
            assert link.closed_reason is None  # the link stays usable

    run(main())


def test_subscriptions_are_restored_after_a_reconnect_after_login() -> None:
    async def main() -> None:
        server = ScriptedServer()
        async with make_client(server) as client:
            details: list[str] = []
            client.on("reconnected", lambda event: details.append(event.detail))
            other = {"channel": "account"}
            await client.subscribe([ORDERS, other], "private")
            await client.unsubscribe(other, "private")
            assert client.subscriptions("private") == [ORDERS]
            server.links[0].close("dropped")
            await asyncio.sleep(1)
            new = server.links[1]
            assert [f.split('"op":"')[1].split('"')[0] for f in new.frames] == [
                "login",
                "subscribe",
            ]
            assert new.ops("subscribe")[0]["args"] == [ORDERS]
            assert details == ["1 subscriptions restored"]

    run(main())


def test_a_refused_resubscribe_is_reported_and_keeps_the_link() -> None:
    async def main() -> None:
        server = ScriptedServer()
        async with make_client(server) as client:
            errors: list[Event] = []
            client.on("exception", errors.append)
            await client.subscribe(TICKERS)
            server.ack_subscriptions = False
            server.links[0].close("dropped")

            async def refuse() -> None:
                link = await server.next_link()  # the first, already open
                link = await server.next_link()
                await until(lambda: link.ops("subscribe"), "resubscribe sent")
                link.push({"event": "error", "code": "60018", "msg": "gone", "connId": "c1"})

            await refuse()
            await asyncio.sleep(1)
        assert [(e.detail, type(e.error)) for e in errors] == [
            ("resubscribe refused", SubscriptionError)
        ]
        assert len(server.links) == 2

    run(main())


def test_updates_yields_pushes_in_order_and_ends_when_the_client_closes() -> None:
    async def main() -> None:
        server = ScriptedServer()
        client = make_client(server)
        stream = client.updates()
        handler_saw: list[Event] = []
        client.on("update", handler_saw.append)
        await client.subscribe(ORDERS, "private")
        link = server.links[0]
        pushes: list[dict[str, Any]] = [
            {"arg": {**ORDERS, "uid": "1"}, "data": [{"ordId": str(i)}]} for i in range(3)
        ]
        for push in pushes:
            link.push(push)
        got = [await anext(stream) for _ in pushes]
        assert [e.message for e in got] == pushes
        assert {(e.name, e.connection) for e in got} == {("update", "private")}
        assert [e.message for e in handler_saw] == pushes
        await client.close()
        assert [e async for e in stream] == []

    run(main())


def test_subscription_lost_in_flight_raises_connection_lost_and_is_restored() -> None:
    async def main() -> None:
        server = ScriptedServer()
        server.drop_on = {"subscribe"}
        async with make_client(server) as client:
            with pytest.raises(ConnectionLost):
                await client.subscribe(TICKERS)
            server.drop_on = set()
            await asyncio.sleep(1)
            assert client.subscriptions("public") == [TICKERS]
            assert server.links[-1].ops("subscribe")[0]["args"] == [TICKERS]

    run(main())


def test_subscribe_timeout_argument_bounds_the_ack_wait() -> None:
    async def main() -> None:
        server = ScriptedServer(ack_subscriptions=False)
        async with make_client(server, request_timeout=10.0) as client:
            started = now()
            with pytest.raises(RequestTimeout) as caught:
                await client.subscribe(TICKERS, timeout=2.0)
            assert now() - started == pytest.approx(2.0, abs=1e-9)
            assert caught.value.timeout == 2.0

    run(main())
