"""Typed channel subscriptions on both generated clients, over the scripted peer.

Spec-driven: every channel of ``spec/channels.yaml`` is subscribed with its
defaults on the async and the blocking client, and every push example of the
spec arrives typed (the channel's push model, extra fields kept).  Then the
stream behaviours: routing by argument, buffering before the ack, shared
subscriptions, callbacks, timeouts, reconnects, invalid items, closing.
The async tests run on virtual time; the blocking ones on the client's loop
thread with the peer in memory.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from pathlib import Path
from typing import Any

import pytest
from okx_ws import (
    AsyncWebsocketAPIClient,
    ChannelStream,
    ClientClosed,
    ConfigurationError,
    OrdersPushItem,
    ParamsValidationError,
    SubscriptionError,
    UpdateTimeout,
    WebsocketAPIClient,
    channels,
)

from codegen.channels import snake_case
from codegen.spec_loader import read_yaml
from okx_ws_core import ChannelUpdate
from okx_ws_core.testing import ScriptedServer, ServerLink, run

SPEC = read_yaml(Path(__file__).parents[1] / "spec" / "channels.yaml")
CHANNELS: dict[str, Any] = SPEC["channels"]
CREDENTIALS = {"api_key": "k", "api_secret": "s", "api_passphrase": "p"}


def api(server: ScriptedServer, **overrides: Any) -> AsyncWebsocketAPIClient:
    options: dict[str, Any] = {"attach_event_listeners": False, "transport": server, **overrides}
    return AsyncWebsocketAPIClient(**CREDENTIALS, **options)


def link_of(server: ScriptedServer, connection: str) -> ServerLink:
    [link] = [lk for lk in server.open_links() if lk.url.endswith(f"/{connection}")]
    return link


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


ORDER_PUSH = CHANNELS["orders"]["examples"]["push"][0]["message"]


def orders_push(arg: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {"arg": arg, "data": [{**ORDER_PUSH["data"][0], **changes}]}


# -- every channel, every example, both clients ------------------------------------------------


def _subscribe_kwargs(name: str, message: dict[str, Any]) -> dict[str, Any]:
    """The generated method's keyword arguments that subscribe to ``message``'s arg."""
    channel = channels.CHANNELS[name]
    arg = {k: v for k, v in message["arg"].items() if k not in ("channel", "uid")}
    if channel.name_suffix_arg:  # "candle1D" -> bar="1D"
        arg[channel.name_suffix_arg] = message["arg"]["channel"][len(channel.channel) :]
    params = {f.alias or n for n, f in channel.args_model.model_fields.items()}
    return {snake_case(k): v for k, v in arg.items() if k in params}


def _as_objects(name: str, data: list[Any]) -> list[Any]:
    """Items as the model reads them (rows of a row_columns channel named)."""
    columns = channels.CHANNELS[name].row_columns
    return [dict(zip(columns, item, strict=False)) if columns else item for item in data]


def _examples() -> list[tuple[str, int]]:
    return [(name, i) for name, c in CHANNELS.items() for i in range(len(c["examples"]["push"]))]


@pytest.mark.parametrize(("name", "index"), _examples(), ids=[f"{n}[{i}]" for n, i in _examples()])
def test_every_push_example_arrives_typed_on_the_async_client(name: str, index: int) -> None:
    channel = channels.CHANNELS[name]
    message = CHANNELS[name]["examples"]["push"][index]["message"]

    async def main() -> None:
        server = ScriptedServer()
        kwargs = _subscribe_kwargs(name, message)
        async with api(server) as client:
            stream = await getattr(client, f"subscribe_{name}")(**kwargs)
            assert isinstance(stream, ChannelStream)
            link = link_of(server, channel.connection)
            [frame] = link.ops("subscribe")
            sent = frame["args"][0]
            assert all(message["arg"].get(k) == v for k, v in sent.items())  # the push matches it
            link.push(message)
            update = await stream.get(timeout=1.0)
            assert isinstance(update, ChannelUpdate)
            assert update.channel is channel and update.connection == channel.connection
            assert update.arg == message["arg"] and update.message == message
            assert update.event_type == message.get("eventType")
            assert all(type(item) is channel.item_model for item in update.data)
            # Every field OKX sent survives, unknown ones included, under OKX's names.
            dumped = [item.model_dump(by_alias=True, exclude_unset=True) for item in update.data]
            assert dumped == _as_objects(name, message["data"])
            await stream.aclose()
            assert link.ops("unsubscribe")[0]["args"] == [sent]

    run(main())


@pytest.mark.parametrize("name", list(CHANNELS))
def test_every_channel_on_the_blocking_client_iterates_calls_back_and_times_out(name: str) -> None:
    channel = channels.CHANNELS[name]
    message = CHANNELS[name]["examples"]["push"][0]["message"]
    server = ScriptedServer()
    with WebsocketAPIClient(
        **CREDENTIALS, transport=server, attach_event_listeners=False
    ) as client:
        loop = client.get_ws_client().loop
        kwargs = _subscribe_kwargs(name, message)
        stream = getattr(client, f"subscribe_{name}")(**kwargs, timeout=2.0)
        seen: list[ChannelUpdate[Any]] = []
        called = threading.Event()

        def on_update(update: ChannelUpdate[Any]) -> None:
            seen.append(update)
            called.set()

        calling = getattr(client, f"subscribe_{name}")(**kwargs, callback=on_update)
        link = link_of(server, channel.connection)
        loop.call_soon_threadsafe(link.push, message)
        update = stream.get(timeout=5.0)
        assert [type(i) for i in update.data] == [channel.item_model] * len(message["data"])
        assert called.wait(5.0) and seen[0].data == update.data
        with pytest.raises(UpdateTimeout):
            stream.get(timeout=0.05)
        assert list(stream.iter(timeout=0.05)) == []  # ends after the timeout
        loop.call_soon_threadsafe(link.push, message)
        assert len(next(iter(stream)).data) == len(message["data"])
        calling.close()
        stream.close()
        assert stream.closed and list(stream) == []
        with pytest.raises(ClientClosed):
            stream.get(timeout=0)
    assert len(link.ops("unsubscribe")) == 1  # the second close was the last user


# -- arguments --------------------------------------------------------------------------------


def test_arguments_are_validated_before_anything_is_sent() -> None:
    async def main() -> None:
        server = ScriptedServer()
        async with api(server) as client:
            with pytest.raises(ParamsValidationError, match="instType"):
                await client.subscribe_orders(inst_type="BOGUS")  # type: ignore[arg-type]
            with pytest.raises(ParamsValidationError, match="instId"):
                await client.subscribe_fills(inst_id="")
            with pytest.raises(ParamsValidationError, match="sprdId"):
                await client.get_ws_client().subscribe_channel(channels.SPRD_ORDERS, {"sprdId": 5})
        assert server.connect_attempts == 0

    run(main())


def test_arguments_reach_okx_with_okx_names_and_without_unset_ones() -> None:
    async def main() -> None:
        server = ScriptedServer()
        async with api(server) as client:
            await client.subscribe_orders("FUTURES", inst_family="BTC-USD")
            await client.subscribe_positions(inst_id="BTC-USDT-SWAP", extra_params='{"a": 1}')
            await client.subscribe_sprd_trades(sprd_id="BTC-USDT_BTC-USDT-SWAP")
            private = link_of(server, "private").ops("subscribe")
            business = link_of(server, "business").ops("subscribe")
        assert [f["args"][0] for f in private] == [
            {"channel": "orders", "instType": "FUTURES", "instFamily": "BTC-USD"},
            {"channel": "positions", "instType": "ANY", "instId": "BTC-USDT-SWAP",
             "extraParams": '{"a": 1}'},
        ]  # fmt: skip
        assert business[0]["args"] == [
            {"channel": "sprd-trades", "sprdId": "BTC-USDT_BTC-USDT-SWAP"}
        ]

    run(main())


# -- routing and sharing -------------------------------------------------------------------------


def test_each_push_goes_to_the_stream_of_its_argument() -> None:
    async def main() -> None:
        server = ScriptedServer()
        async with api(server) as client:
            every = await client.subscribe_orders()
            one = await client.subscribe_orders("SPOT", inst_id="BTC-USDT")
            link = link_of(server, "private")
            link.push(orders_push({"channel": "orders", "instType": "SPOT", "instId": "BTC-USDT",
                                   "uid": "1"}, clOrdId="one"))  # fmt: skip
            link.push(orders_push({"channel": "orders", "instType": "ANY", "uid": "1"},
                                  clOrdId="every"))  # fmt: skip
            await settle()
            assert [i.cl_ord_id for i in (await one.get(0)).data] == ["one"]
            assert [i.cl_ord_id for i in (await every.get(0)).data] == ["every"]
            with pytest.raises(UpdateTimeout):
                await one.get(0)
            # An echo matching no argument exactly still reaches the channel's streams.
            link.push(orders_push({"channel": "orders", "instType": "SWAP", "uid": "1"}))
            await settle()
            assert len((await every.get(0)).data) == len((await one.get(0)).data) == 1

    run(main())


def test_a_push_for_another_subscription_does_not_leak_into_a_stream() -> None:
    async def main() -> None:
        server = ScriptedServer()
        async with api(server) as client:
            await client.get_ws_client().subscribe(
                {"channel": "orders", "instType": "ANY"}, "private"
            )
            one = await client.subscribe_orders("SPOT", inst_id="BTC-USDT")
            link = link_of(server, "private")
            link.push(orders_push({"channel": "orders", "instType": "ANY", "uid": "1"}))
            await settle()
            with pytest.raises(UpdateTimeout):
                await one.get(0)

    run(main())


def test_streams_of_one_argument_share_one_subscription() -> None:
    async def main() -> None:
        server = ScriptedServer()
        async with api(server) as client:
            ws = client.get_ws_client()
            first = await client.subscribe_account(ccy="BTC")
            second = await client.subscribe_account(ccy="BTC")
            link = link_of(server, "private")
            link.push({"arg": {"channel": "account", "ccy": "BTC", "uid": "1"},
                       "data": [{"uTime": "1", "details": [{"ccy": "BTC", "eq": "1"}]}]})  # fmt: skip
            await settle()
            update = await first.get(0)
            assert update.data[0].details[0].eq == "1"
            assert await second.get(0) is update  # typed once, delivered to both
            await first.aclose()
            assert link.ops("unsubscribe") == []
            assert ws.subscriptions("private") == [{"channel": "account", "ccy": "BTC"}]
            await second.aclose()
            await second.aclose()  # idempotent
            assert [f["args"] for f in link.ops("unsubscribe")] == [
                [{"channel": "account", "ccy": "BTC"}]
            ]
            assert ws.subscriptions("private") == []

    run(main())


def test_pushes_right_after_the_subscribe_frame_are_buffered_before_the_ack() -> None:
    async def main() -> None:
        server = ScriptedServer(ack_subscriptions=False)
        async with api(server) as client:
            await client.get_ws_client().connect("private")
            link = link_of(server, "private")
            subscribing = asyncio.ensure_future(client.subscribe_orders())
            await settle()
            [frame] = link.ops("subscribe")
            link.push(orders_push({**frame["args"][0], "uid": "1"}, clOrdId="early"))
            link.push({"event": "subscribe", "arg": frame["args"][0], "connId": "c"})
            stream = await subscribing
            assert (await stream.get(0)).data[0].cl_ord_id == "early"

    run(main())


def test_a_refused_subscription_raises_and_is_not_restored() -> None:
    async def main() -> None:
        server = ScriptedServer(ack_subscriptions=False)
        async with api(server) as client:
            await client.get_ws_client().connect("private")
            link = link_of(server, "private")
            subscribing = asyncio.ensure_future(client.subscribe_fills())
            await settle()
            link.push({"event": "error", "code": "60029", "msg": "VIP5 only", "connId": "c"})
            with pytest.raises(SubscriptionError, match="60029"):
                await subscribing
            assert client.get_ws_client().subscriptions("private") == []

    run(main())


def test_a_subscription_lost_in_flight_is_forgotten_when_nothing_uses_it() -> None:
    async def main() -> None:
        server = ScriptedServer()
        async with api(server) as client:
            ws = client.get_ws_client()
            kept = await client.subscribe_orders()
            server.drop_on = {"subscribe"}
            with pytest.raises(Exception, match="dropped"):
                await client.subscribe_sprd_orders()
            with pytest.raises(Exception, match="dropped"):
                await client.subscribe_orders()  # same argument as a live stream: kept
            server.drop_on = set()
            await asyncio.sleep(5)  # reconnects
            assert ws.subscriptions("business") == []
            assert ws.subscriptions("private") == [{"channel": "orders", "instType": "ANY"}]
            link = link_of(server, "private")
            assert link.ops("subscribe")[0]["args"] == [kept.arg]
            link.push(orders_push({**kept.arg, "uid": "1"}))
            assert len((await kept.get(1.0)).data) == 1

    run(main())


# -- reconnects, callbacks, invalid items, buffers, closing ---------------------------------------


def test_streams_survive_reconnects() -> None:
    async def main() -> None:
        server = ScriptedServer()
        async with api(server) as client:
            stream = await client.subscribe_sprd_orders(sprd_id="BTC-USDT_BTC-USDT-SWAP")
            first = link_of(server, "business")
            first.close("scripted: network cut")
            await asyncio.sleep(5)
            second = link_of(server, "business")
            assert second is not first
            assert [f["args"] for f in second.ops("subscribe")] == [[stream.arg]]
            item = CHANNELS["sprd_orders"]["examples"]["push"][0]["message"]["data"][0]
            second.push({"arg": {**stream.arg, "uid": "1"}, "data": [item]})
            update = await stream.get(1.0)
            assert update.data[0].sprd_id == "BTC-USDT_BTC-USDT-SWAP"

    run(main())


def test_async_callbacks_plain_and_coroutine_and_a_failing_one_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def main() -> None:
        server = ScriptedServer()
        seen: list[str] = []

        def plain(update: ChannelUpdate[OrdersPushItem]) -> None:
            seen.append(f"plain {update.data[0].cl_ord_id}")

        async def coro(update: ChannelUpdate[OrdersPushItem]) -> None:
            await asyncio.sleep(1)
            seen.append(f"coro {update.data[0].cl_ord_id}")

        def broken(update: ChannelUpdate[OrdersPushItem]) -> None:
            raise RuntimeError("bot bug")

        async with api(server) as client:
            await client.subscribe_orders(callback=plain)
            await client.subscribe_orders(callback=coro)
            await client.subscribe_orders(callback=broken)
            link_of(server, "private").push(orders_push({"channel": "orders", "instType": "ANY"},
                                                        clOrdId="x"))  # fmt: skip
            await asyncio.sleep(2)
        assert seen == ["plain x", "coro x"]
        assert "orders update consumer failed" in caplog.text

    run(main())


def test_an_item_that_no_longer_matches_its_model_is_delivered_unvalidated_and_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="okx_ws")

    async def main() -> None:
        server = ScriptedServer()
        async with api(server) as client:
            stream = await client.subscribe_orders()
            link = link_of(server, "private")
            arg = {"channel": "orders", "instType": "ANY"}
            for _ in range(3):
                link.push(orders_push(arg, uTime="soon", clOrdId="odd"))
            link.push({"arg": arg, "data": ["not an object"]})
            await settle()
            update = await stream.get(0)
            item = update.data[0]
            assert type(item) is OrdersPushItem and item.u_time == "soon"
            assert item.cl_ord_id == "odd" and item.model_extra == {}
            await stream.get(0)
            await stream.get(0)
            assert (await stream.get(0)).data == []  # a non-object item is skipped, logged
        assert caplog.text.count("do not match OrdersPushItem") == 2  # uTime, then [0]

    run(main())


def test_a_full_buffer_drops_the_oldest_update_and_counts_it() -> None:
    async def main() -> None:
        server = ScriptedServer()
        async with api(server) as client:
            stream = await client.get_ws_client().subscribe_channel(channels.ORDERS, buffer=2)
            link = link_of(server, "private")
            for cl in ("a1", "a2", "a3"):
                link.push(orders_push({"channel": "orders", "instType": "ANY"}, clOrdId=cl))
            await settle()
            assert stream.dropped == 1
            assert [(await stream.get(0)).data[0].cl_ord_id for _ in range(2)] == ["a2", "a3"]

    run(main())


def test_streams_end_when_the_client_closes_and_subscribing_after_close_fails() -> None:
    async def main() -> None:
        server = ScriptedServer()
        client = api(server)
        stream = await client.subscribe_balance_and_position()
        link_of(server, "private").push(CHANNELS["balance_and_position"]["examples"]["push"][0]
                                        ["message"])  # fmt: skip
        await settle()
        task = asyncio.ensure_future(_drain(stream))
        await settle()
        await client.close()
        assert [len(u.data) for u in await task] == [1]  # the buffered update, then the end
        with pytest.raises(ClientClosed):
            await stream.get(0)
        with pytest.raises(ClientClosed):
            await client.subscribe_orders()
        await stream.aclose()  # no unsubscribe on a closed client, no error

    run(main())


async def _drain(stream: ChannelStream[Any]) -> list[ChannelUpdate[Any]]:
    return [update async for update in stream]


def test_raw_updates_still_see_typed_channels_pushes() -> None:
    async def main() -> None:
        server = ScriptedServer()
        async with api(server) as client:
            raw = client.get_ws_client().updates()
            await client.subscribe_orders()
            message = orders_push({"channel": "orders", "instType": "ANY"})
            link_of(server, "private").push(message)
            event = await anext(raw)
            assert event.message == message

    run(main())


def test_bad_stream_and_tracker_settings_are_configuration_errors() -> None:
    async def main() -> None:
        server = ScriptedServer()
        async with api(server) as client:
            ws = client.get_ws_client()
            with pytest.raises(ConfigurationError, match="buffer"):
                await ws.subscribe_channel(channels.ORDERS, buffer=0)
            with pytest.raises(ConfigurationError, match="max_finished"):
                await client.track_orders(max_finished=-1)
            assert ws.tracker is None
        assert server.connect_attempts == 0

    run(main())
