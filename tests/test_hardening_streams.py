"""Hardening of the streaming side (issue #17 items 4, 5, 6, 9, 11; issue #22 item 7).

Each test pins one defect a review found: a ``wait_for`` or a stream that
could hang forever, a stream that leaked or flooded the log, a ``close()``
that could hang on user code, errors defined outside ``errors.py``, and an
order tracker that must take OKX's pushes as OKX sends them today.  The
runtime tests use the scripted peer on virtual time, so no test waits for
real seconds.
"""

from __future__ import annotations

import asyncio
import gc
import importlib
import logging
import math
from typing import Any

import pytest
from okx_ws import AsyncWebsocketAPIClient

from okx_ws_core import (
    AsyncWebsocketClient,
    ClientClosed,
    Event,
    OrderWaitTimeout,
    StreamInUse,
    errors,
)
from okx_ws_core.orders.tracker import OrderOp, OrderTracker, OrderWaits, TrackedOrder
from okx_ws_core.testing import ScriptedServer, ServerLink, ok_reply, run

CREDENTIALS = {"api_key": "k", "api_secret": "s", "api_passphrase": "p"}
ORDERS_ARG = {"channel": "orders", "instType": "ANY", "uid": "1"}


def api(server: ScriptedServer, **overrides: Any) -> AsyncWebsocketAPIClient:
    options: dict[str, Any] = {"transport": server, "instruments": {"BTC-USDT": 7},
                               "attach_event_listeners": False, **overrides}  # fmt: skip
    return AsyncWebsocketAPIClient(**CREDENTIALS, **options)


def link_of(server: ScriptedServer, connection: str) -> ServerLink:
    [link] = [lk for lk in server.open_links() if lk.url.endswith(f"/{connection}")]
    return link


def limit_order(cl: str, ord_type: str = "limit") -> dict[str, Any]:
    return {"instId": "BTC-USDT", "tdMode": "cash", "side": "buy", "ordType": ord_type,
            "px": "100", "sz": "3", "clOrdId": cl}  # fmt: skip


def order_push(cl: str, ord_id: str, state: str, u: int, **extra: Any) -> dict[str, Any]:
    item = {"instType": "SPOT", "instId": "BTC-USDT", "ordId": ord_id, "clOrdId": cl,
            "state": state, "sz": "3", "px": "100", "side": "buy", "ordType": "limit",
            "accFillSz": "0", "avgPx": "", "fillSz": "0", "fillPx": "", "tradeId": "",
            "cTime": "1", "uTime": str(u), **extra}  # fmt: skip
    return {"arg": ORDERS_ARG, "data": [item]}


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


def now() -> float:
    return asyncio.get_running_loop().time()


# -- item 11: every error lives in errors.py, old import paths keep working ------------

MOVED = [
    ("okx_ws_core.streams.channels", "UpdateTimeout"),
    ("okx_ws_core.orders.tracker", "OrderWaitTimeout"),
    ("okx_ws_core.rest.queries", "RestAuthenticationError"),
    ("okx_ws_core.rest.queries", "RestUnavailable"),
]


@pytest.mark.parametrize(("module", "name"), MOVED)
def test_errors_defined_elsewhere_now_live_in_errors_and_are_re_exported(
    module: str, name: str
) -> None:
    moved = getattr(errors, name, None)
    assert moved is not None, f"okx_ws_core.errors has no {name}"
    assert moved.__module__ == "okx_ws_core.errors"
    assert getattr(importlib.import_module(module), name) is moved  # the old path still works
    assert issubclass(moved, errors.OkxWsError)
    package = importlib.import_module("okx_ws_core")
    assert getattr(package, name, moved) is moved  # and so does the package's, if it had one


# -- item 4: wait_for never waits forever by default, and close() fails its waiters ----


def test_wait_for_without_a_timeout_gives_up_after_the_documented_default() -> None:
    from okx_ws_core.orders.tracker import DEFAULT_WAIT_TIMEOUT

    async def main() -> None:
        async with api(ScriptedServer()) as client:
            await client.track_orders(subscribe=False)
            await client.submit_new_order(limit_order("w1"))
            with pytest.raises(OrderWaitTimeout) as caught:
                await client.wait_for("w1", "filled")
            assert now() == DEFAULT_WAIT_TIMEOUT
            assert caught.value.order is not None and caught.value.order.state == "live"

    run(main(), limit=600)


def test_close_fails_every_waiter_and_later_waits_with_client_closed() -> None:
    async def main() -> None:
        server = ScriptedServer()
        client = api(server)
        await client.track_orders(subscribe=False)
        await client.submit_new_order(limit_order("w2"))
        forever = asyncio.ensure_future(client.wait_for("w2", "filled", timeout=math.inf))
        bounded = asyncio.ensure_future(client.wait_for("never-sent", timeout=30))
        await settle()
        await client.close()
        await settle()
        for waiter in (forever, bounded):
            assert waiter.done(), "a waiter outlived close()"
            with pytest.raises(ClientClosed, match="closed"):
                waiter.result()
        assert now() < 1.0
        with pytest.raises(ClientClosed):
            await client.wait_for("w2", timeout=1)

    run(main(), limit=600)


def test_an_infinite_timeout_waits_past_the_default_until_the_order_gets_there() -> None:
    from okx_ws_core.orders.tracker import DEFAULT_WAIT_TIMEOUT

    async def main() -> None:
        server = ScriptedServer()
        async with api(server) as client:
            await client.track_orders()
            reply = await client.submit_new_order(limit_order("w3"))
            ord_id = reply.data[0].ord_id
            later = 3 * DEFAULT_WAIT_TIMEOUT
            push = order_push("w3", ord_id, "filled", 5, accFillSz="3", avgPx="100")
            asyncio.get_running_loop().call_later(later, link_of(server, "private").push, push)
            got = await client.wait_for("w3", timeout=math.inf)
            assert (got.state, now()) == ("filled", later)

    run(main(), limit=3600)


# -- item 5: a ChannelStream has one consumer; a second one is told, never left hanging --


def test_a_second_concurrent_consumer_of_one_stream_gets_a_clear_error() -> None:
    async def main() -> None:
        server = ScriptedServer()
        async with api(server) as client:
            stream = await client.subscribe_orders()
            first = asyncio.ensure_future(stream.get(30))
            await settle()
            second = asyncio.ensure_future(stream.get(30))
            await settle()
            link_of(server, "private").push(order_push("c1", "1", "live", 1))
            await settle()
            assert first.done() and first.result().data[0].cl_ord_id == "c1"
            assert second.done()
            with pytest.raises(StreamInUse, match="one consumer"):
                second.result()
            # Once the first consumer is done, another may read.
            link_of(server, "private").push(order_push("c2", "2", "live", 2))
            assert (await stream.get(1)).data[0].cl_ord_id == "c2"

    run(main(), limit=600)


# -- item 9: close() is bounded, and so is the concurrency of async callbacks ----------


def test_async_channel_callbacks_run_one_at_a_time_in_order_and_close_cancels_them() -> None:
    async def main() -> None:
        server = ScriptedServer()
        client = api(server)
        gate = asyncio.Event()
        running: list[str] = []
        peak = 0
        done: list[str] = []
        cancelled: list[str] = []

        async def slow(update: Any) -> None:
            nonlocal peak
            cl = update.data[0].cl_ord_id
            running.append(cl)
            peak = max(peak, len(running))
            try:
                await gate.wait()
                done.append(cl)
            except asyncio.CancelledError:
                cancelled.append(cl)
                raise
            finally:
                running.remove(cl)

        await client.subscribe_orders(callback=slow)
        link = link_of(server, "private")
        for i in range(50):
            link.push(order_push(f"a{i}", str(i), "live", i))
        await settle()
        assert peak == 1  # not one task per push
        gate.set()
        await settle()
        assert done == [f"a{i}" for i in range(50)]  # every one, in push order
        gate.clear()
        link.push(order_push("b0", "90", "live", 90))
        link.push(order_push("b1", "91", "live", 91))
        await settle()
        await client.close()
        await settle()
        assert (cancelled, running) == (["b0"], [])  # b1 never started, b0 did not outlive close

    run(main(), limit=600)


# -- item 6: updates() streams are bounded, unregistered, quiet and never hang ---------


async def raw_client(server: ScriptedServer) -> AsyncWebsocketClient:
    client = AsyncWebsocketClient(**CREDENTIALS, transport=server, attach_event_listeners=False)
    await client.connect("private")
    return client


def live_events() -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if type(o) is Event and o.name == "update")


def test_an_abandoned_updates_stream_is_unregistered_and_holds_nothing() -> None:
    async def main() -> None:
        server = ScriptedServer()
        client = await raw_client(server)
        stream = client.updates()
        link_of(server, "private").push(order_push("u0", "0", "live", 0))
        assert (await anext(stream)).message is not None
        del stream  # abandoned, never closed
        for i in range(50):
            link_of(server, "private").push(order_push(f"u{i}", str(i), "live", i))
        await settle()
        assert live_events() == 0  # nobody holds the 50 pushes
        await client.close()

    run(main(), limit=600)


def test_a_full_updates_stream_warns_once_not_per_push(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="okx_ws")

    async def main() -> None:
        server = ScriptedServer()
        client = await raw_client(server)
        stream = client.updates(buffer=3)
        for i in range(10):
            link_of(server, "private").push(order_push(f"f{i}", str(i), "live", i))
        await settle()
        assert stream.dropped == 7
        got = [(await anext(stream)).message for _ in range(3)]
        assert [m["data"][0]["clOrdId"] for m in got if m] == ["f7", "f8", "f9"]
        await client.close()

    run(main(), limit=600)
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]


def test_updates_streams_end_for_good_and_none_can_start_after_close() -> None:
    async def main() -> None:
        server = ScriptedServer()
        client = await raw_client(server)
        stream = client.updates()
        await client.close()
        for _ in range(2):  # iterating an ended stream again ends again, it does not hang
            assert await asyncio.wait_for(_collect(stream), 5) == []
        with pytest.raises(ClientClosed):
            client.updates()

    run(main(), limit=600)


def test_aclose_ends_a_reader_waiting_on_an_updates_stream() -> None:
    async def main() -> None:
        server = ScriptedServer()
        async with await raw_client(server) as client:
            stream = client.updates()
            reader = asyncio.ensure_future(_collect(stream))
            await settle()
            await stream.aclose()
            assert await asyncio.wait_for(reader, 5) == []
            link_of(server, "private").push(order_push("x", "1", "live", 1))
            await settle()
            assert live_events() == 0  # a closed stream takes nothing more

    run(main(), limit=600)


def test_a_second_concurrent_reader_of_an_updates_stream_gets_a_clear_error() -> None:
    async def main() -> None:
        server = ScriptedServer()
        async with await raw_client(server) as client:
            stream = client.updates()
            first = asyncio.ensure_future(anext(stream))
            await settle()
            with pytest.raises(StreamInUse, match="one consumer"):
                await anext(stream)
            link_of(server, "private").push(order_push("r", "1", "live", 1))
            assert (await asyncio.wait_for(first, 5)).name == "update"

    run(main(), limit=600)


async def _collect(stream: Any) -> list[Any]:
    return [event async for event in stream]


def test_close_does_not_wait_forever_for_an_async_event_handler() -> None:
    from okx_ws_core.streams.events import HANDLER_DRAIN_TIMEOUT

    async def main() -> None:
        server = ScriptedServer()
        client = await raw_client(server)
        outcome: list[str] = []

        async def stuck(event: Event) -> None:
            try:
                await asyncio.Event().wait()  # a bot bug: waits for something that never comes
            except asyncio.CancelledError:
                outcome.append("cancelled")
                raise

        client.on("update", stuck)
        link_of(server, "private").push(order_push("h", "1", "live", 1))
        await settle()
        started = now()
        await asyncio.wait_for(client.close(), 3 * HANDLER_DRAIN_TIMEOUT)
        assert now() - started == HANDLER_DRAIN_TIMEOUT
        await settle()
        assert outcome == ["cancelled"]

    run(main(), limit=600)


# -- #22 item 7: the tracker takes OKX's order pushes as OKX sends them today ----------

PLACE = OrderOp("order", "place", exp_time=True, lookup="order")


def tracker_push(cl: str, ord_id: str, state: str, u: int, **extra: Any) -> dict[str, Any]:
    [item] = order_push(cl, ord_id, state, u, **extra)["data"]
    return dict(item)


def placed(cl: str, ord_type: str) -> tuple[OrderTracker, dict[str, Any]]:
    tracker = OrderTracker()
    request = {**limit_order(cl, ord_type), "instIdCode": 7}
    tracker.on_request(PLACE, [request], 0.0)
    return tracker, request


def ok_item(cl: str, ord_id: str) -> dict[str, Any]:
    return {"id": "1", "op": "order", "code": "0", "msg": "",
            "data": [{"clOrdId": cl, "ordId": ord_id, "sCode": "0", "sMsg": ""}]}  # fmt: skip


@pytest.mark.parametrize("ord_type", ["post_only", "mmp_and_post_only", "rpi"])
@pytest.mark.parametrize("push_first", [False, True], ids=["reply-first", "push-first"])
def test_a_crossing_post_only_order_reaches_canceled_with_no_live_push(
    ord_type: str, push_first: bool
) -> None:
    tracker, request = placed("p1", ord_type)
    canceled = tracker_push("p1", "9", "canceled", 3, ordType=ord_type, cancelSource="31")
    feeds = [
        lambda: tracker.on_reply(PLACE, [request], ok_item("p1", "9"), 0.1),
        lambda: tracker.on_push([canceled], "order", 0.2),
    ]
    for feed in reversed(feeds) if push_first else feeds:
        feed()
    got = tracker.get("p1")
    assert got is not None and (got.state, got.ord_id, got.final) == ("canceled", "9", True)
    assert got.data["cancelSource"] == "31" and got.ord_type == ord_type


@pytest.mark.parametrize("ord_type", ["post_only", "mmp_and_post_only", "rpi"])
def test_an_order_pushed_live_only_once_resting_is_accepted_until_its_push(ord_type: str) -> None:
    async def main() -> None:
        tracker, request = placed("p2", ord_type)
        waits = OrderWaits(tracker)
        waiting = asyncio.ensure_future(waits.wait_for("p2", "live", 5))
        waits.notify(tracker.on_reply(PLACE, [request], ok_item("p2", "8"), 0.1))
        await settle()
        got = tracker.get("p2")
        assert got is not None and (got.state, got.ord_id) == ("accepted", "8")
        assert not waiting.done()  # OKX accepted it; it does not rest yet
        push = tracker_push("p2", "8", "live", 2, ordType=ord_type)
        waits.notify(tracker.on_push([push], "order", 0.2))
        assert (await waiting).state == "live"
        fill = tracker_push("p2", "8", "filled", 3, accFillSz="3", avgPx="100")
        tracker.on_push([fill], "order", 1)
        got = tracker.get("p2")
        assert got is not None and (got.state, str(got.filled_sz)) == ("filled", "3")

    run(main(), limit=600)


def test_a_plain_limit_order_is_still_live_on_its_reply() -> None:
    tracker, request = placed("p4", "limit")
    tracker.on_reply(PLACE, [request], ok_item("p4", "4"), 0.1)
    assert tracker.get("p4").state == "live"  # type: ignore[union-attr]


def test_order_types_and_states_the_tracker_does_not_know_are_taken_as_data() -> None:
    tracker = OrderTracker()
    # An algo order's child (ordType "trigger"), seen only by its push.
    tracker.on_push([tracker_push("", "70", "live", 1, ordType="trigger")], "order", 0.0)
    child = tracker.get(ord_id="70")
    assert child is not None and (child.ord_type, child.state) == ("trigger", "live")
    # A state OKX adds later: OKX's newer word wins over any open state...
    tracker.on_push([tracker_push("n1", "71", "partially_filled", 1, accFillSz="1")], "order", 0)
    tracker.on_push([tracker_push("n1", "71", "new_okx_state", 2, accFillSz="1")], "order", 1)
    got = tracker.get("n1")
    assert got is not None and (got.state, got.final, str(got.filled_sz)) == (
        "new_okx_state", False, "1",
    )  # fmt: skip
    # ... an older push does not move it back, and a known final state still ends it.
    tracker.on_push([tracker_push("n1", "71", "partially_filled", 1)], "order", 2)
    assert tracker.get("n1").state == "new_okx_state"  # type: ignore[union-attr]
    tracker.on_push([tracker_push("n1", "71", "filled", 3, accFillSz="3")], "order", 3)
    tracker.on_push([tracker_push("n1", "71", "new_okx_state", 4)], "order", 4)
    assert tracker.get("n1").state == "filled"  # type: ignore[union-attr]


@pytest.mark.parametrize("push_first", [False, True], ids=["reply-first", "push-first"])
def test_a_crossing_post_only_order_over_the_wire_wakes_wait_for_with_canceled(
    push_first: bool,
) -> None:
    async def main() -> None:
        server = ScriptedServer()

        def crossing(frame: dict[str, Any]) -> dict[str, Any]:
            reply = ok_reply(frame)
            item = reply["data"][0]
            # OKX: no live push, only canceled, about 1 ms after accepting it
            push = order_push(item["clOrdId"], item["ordId"], "canceled", 2, ordType="post_only")
            link = link_of(server, "private")
            if push_first:
                link.push(push)
            else:
                asyncio.get_running_loop().call_later(0.001, link.push, push)
            return reply

        server.answer = crossing
        async with api(server) as client:
            await client.track_orders()
            waiting = asyncio.ensure_future(client.wait_for("x1", "live", timeout=5))
            await client.submit_new_order(limit_order("x1", "post_only"))
            got: TrackedOrder = await waiting
            assert got.state == "canceled"

    run(main(), limit=600)


def test_wait_for_on_the_sans_io_waits_wakes_on_a_final_state_it_did_not_ask_for() -> None:
    async def main() -> None:
        tracker, request = placed("p3", "post_only")
        waits = OrderWaits(tracker)
        waiting = asyncio.ensure_future(waits.wait_for("p3", "live", 5))
        await settle()
        waits.notify(tracker.on_push([tracker_push("p3", "6", "canceled", 2)], "order", 0.1))
        assert (await waiting).state == "canceled"

    run(main(), limit=600)
