"""Connections and logins by need (issue #18 item 1), over the scripted peer on virtual time.

The public connection opens without a login and logs in only while a channel
marked ``login`` (books-l2-tbt) is subscribed, again on every reconnect before
restoring it; the business connection serves its public channels without
credentials and logs in when the client has them; operations and ``login``
channels without credentials fail before anything is sent.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from okx_ws import (
    AsyncWebsocketAPIClient,
    AuthenticationError,
    ConfigurationError,
    WebsocketAPIClient,
)

from okx_ws_core.testing import ScriptedServer, ServerLink, run, until

CREDENTIALS = {"api_key": "k", "api_secret": "s", "api_passphrase": "p"}


def client(server: ScriptedServer, *, credentials: bool = True) -> AsyncWebsocketAPIClient:
    given = CREDENTIALS if credentials else {}
    return AsyncWebsocketAPIClient(
        **given, attach_event_listeners=False, transport=server, reconnect_delay=0.01
    )


def links_of(server: ScriptedServer, connection: str) -> list[ServerLink]:
    return [link for link in server.links if link.url.endswith(f"/{connection}")]


def ops(link: ServerLink) -> list[str]:
    """What the client wrote on ``link``, in order: ``login``, ``subscribe:books-l2-tbt``..."""
    out: list[str] = []
    for text in link.frames:
        frame = None if text == "ping" else json.loads(text)
        if not isinstance(frame, dict):
            continue
        op = frame.get("op")
        if op == "login":
            out.append("login")
        elif op in ("subscribe", "unsubscribe"):
            out.extend(f"{op}:{arg['channel']}" for arg in frame["args"])
    return out


def test_public_channels_open_the_public_connection_without_a_login() -> None:
    async def main() -> None:
        server = ScriptedServer()
        async with client(server) as api:
            await api.subscribe_tickers("BTC-USDT")
            await api.subscribe_books("BTC-USDT")
            [link] = links_of(server, "public")
            assert ops(link) == ["subscribe:tickers", "subscribe:books"]
            assert server.logins == 0

    run(main())


def test_a_login_channel_logs_in_on_the_live_public_link_then_again_on_reconnect() -> None:
    async def main() -> None:
        server = ScriptedServer()
        async with client(server) as api:
            await api.subscribe_tickers("BTC-USDT")
            await api.subscribe_books_l2_tbt("BTC-USDT")
            [first] = links_of(server, "public")
            # one link, logged in before the channel that needs it, not before the others
            assert ops(first) == ["subscribe:tickers", "login", "subscribe:books-l2-tbt"]
            first.close("scripted: dropped")
            second = await server.next_link()
            second = await server.next_link()
            await until(lambda: len(second.ops("subscribe")) == 1, "resubscribed")
            assert ops(second) == ["login", "subscribe:tickers", "subscribe:books-l2-tbt"]

    run(main())


def test_the_public_link_stops_logging_in_once_no_login_channel_is_left() -> None:
    async def main() -> None:
        server = ScriptedServer()
        async with client(server) as api:
            tickers = await api.subscribe_tickers("BTC-USDT")
            tbt = await api.subscribe_books50_l2_tbt("BTC-USDT")
            await tbt.aclose()
            [first] = links_of(server, "public")
            first.close("scripted: dropped")
            await server.next_link()
            second = await server.next_link()
            await until(lambda: len(second.ops("subscribe")) == 1, "resubscribed")
            assert ops(second) == ["subscribe:tickers"]  # OKX has no logout: just no new login
            await tickers.aclose()

    run(main())


def test_concurrent_login_channels_share_one_login() -> None:
    async def main() -> None:
        server = ScriptedServer()
        async with client(server) as api:
            await asyncio.gather(
                api.subscribe_books_l2_tbt("BTC-USDT"),
                api.subscribe_books50_l2_tbt("ETH-USDT"),
            )
            [link] = links_of(server, "public")
            assert link.ops("login") and server.logins == 1

    run(main())


def test_a_login_channel_without_credentials_fails_before_anything_is_sent() -> None:
    async def main() -> None:
        server = ScriptedServer()
        async with client(server, credentials=False) as api:
            with pytest.raises(ConfigurationError, match="books-l2-tbt.*needs a login"):
                await api.subscribe_books_l2_tbt("BTC-USDT")
            with pytest.raises(ConfigurationError, match="sprd-orders.*needs a login"):
                await api.subscribe_sprd_orders()
            assert server.links == []  # not even a connect
            assert api.get_ws_client().subscriptions("public") == []

    run(main())


def test_a_refused_login_fails_the_subscribe_and_forgets_it() -> None:
    async def main() -> None:
        server = ScriptedServer()
        async with client(server) as api:
            await api.subscribe_tickers("BTC-USDT")
            server.login_errors.append(("60009", "Login failed."))
            with pytest.raises(AuthenticationError, match="60009"):
                await api.subscribe_books_l2_tbt("BTC-USDT")
            [link] = links_of(server, "public")
            assert ops(link) == ["subscribe:tickers", "login"]  # the channel was never sent
            ws = api.get_ws_client()
            assert [a["channel"] for a in ws.subscriptions("public")] == ["tickers"]
            await api.subscribe_books_l2_tbt("BTC-USDT")  # the next one logs in afresh
            assert ops(link)[-2:] == ["login", "subscribe:books-l2-tbt"]

    run(main())


def test_business_public_channels_need_no_credentials() -> None:
    async def main() -> None:
        server = ScriptedServer()
        async with client(server, credentials=False) as api:
            await api.subscribe_candle("BTC-USDT", bar="1m")
            await api.subscribe_trades_all("BTC-USDT")
            await api.subscribe_sprd_books5("BTC-USDT_BTC-USDT-SWAP")
            [link] = links_of(server, "business")
            assert ops(link) == [
                "subscribe:candle1m",
                "subscribe:trades-all",
                "subscribe:sprd-books5",
            ]

    run(main())


def test_the_business_connection_logs_in_when_credentials_exist() -> None:
    async def main() -> None:
        server = ScriptedServer()
        async with client(server) as api:
            await api.subscribe_candle("BTC-USDT", bar="1m")
            await api.subscribe_sprd_orders()
            [link] = links_of(server, "business")
            assert ops(link) == ["login", "subscribe:candle1m", "subscribe:sprd-orders"]

    run(main())


def test_operations_without_credentials_send_nothing() -> None:
    async def main() -> None:
        server = ScriptedServer()
        async with client(server, credentials=False) as api:
            await api.subscribe_candle("BTC-USDT", bar="1m")  # the business link is open
            ws = api.get_ws_client()
            with pytest.raises(ConfigurationError, match="'sprd-mass-cancel' needs api_key"):
                await ws.send_ws_api_request("business", "sprd-mass-cancel", [{}])
            with pytest.raises(ConfigurationError, match="needs api_key"):
                await api.mass_cancel_spread_orders({"sprdId": "BTC-USDT_BTC-USDT-SWAP"})
            with pytest.raises(ConfigurationError, match="'private' connection needs api_key"):
                await ws.connect("private")
            [link] = links_of(server, "business")
            assert link.requests == [] and server.logins == 0

    run(main())


def test_the_blocking_client_logs_in_on_demand_too() -> None:
    server = ScriptedServer()
    with WebsocketAPIClient(**CREDENTIALS, attach_event_listeners=False, transport=server) as api:
        api.subscribe_tickers("BTC-USDT")
        api.subscribe_books_l2_tbt("BTC-USDT")
        [link] = links_of(server, "public")
        assert ops(link) == ["subscribe:tickers", "login", "subscribe:books-l2-tbt"]
    with WebsocketAPIClient(attach_event_listeners=False, transport=server) as anonymous:
        with pytest.raises(ConfigurationError, match="needs a login"):
            anonymous.subscribe_books_l2_tbt("BTC-USDT")
