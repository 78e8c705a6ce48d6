"""Connect failures that point at the cause (issue 19, item 5).

A wrong ``base_url`` or a simulator that is not running used to log about ten
"connect failed, retry" warnings and end in a bare ``ConnectTimeout``; a 429
said nothing of the 3 connections/s limit; a ``base_url`` with a path was
silently accepted.  Socket-free on virtual time where the cause can be
scripted; real sockets only to check the real transports' exception chains
and the simulator's 429 body.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.datastructures import Headers
from websockets.exceptions import InvalidStatus
from websockets.http11 import Response

from okx_ws_core import (
    AsyncWebsocketClient,
    ConfigurationError,
    ConnectRefused,
    ConnectTimeout,
)
from okx_ws_core.testing import ScriptedServer, run
from okx_ws_core.transports.registry import Transport
from okx_ws_sim import Limit, RateLimits, Simulator

LOGGER = "okx-ws.test-newcomer"
TIMEOUT = 10.0


def make_client(connector: Any, caplog: pytest.LogCaptureFixture, **kw: Any) -> Any:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    return AsyncWebsocketClient(
        "k",
        "s",
        "p",
        transport=connector,
        logger=logging.getLogger(LOGGER),
        request_timeout=TIMEOUT,
        reconnect_delay=0.5,
        **kw,
    )


def connect_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == LOGGER and "retry in" in r.getMessage()]


class TooManyConnects:
    """A Connector answering every upgrade with HTTP 429, as websockets reports it."""

    def __init__(self) -> None:
        self.connect_attempts = 0

    @contextlib.asynccontextmanager
    async def open(self, url: str, timeout: float) -> AsyncIterator[Transport]:
        self.connect_attempts += 1
        raise InvalidStatus(Response(429, "Too Many Requests", Headers(), b"Too Many Requests\n"))
        yield  # pragma: no cover - never reached


# -- the log: one WARNING with the URL, then DEBUG with a count ------------------------------


def test_first_failed_connect_is_one_warning_with_the_url_later_ones_debug(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def main() -> None:
        server = ScriptedServer()
        server.refuse_connects = 10**6
        client = make_client(server, caplog)
        loop = asyncio.get_running_loop()
        start = loop.time()
        with pytest.raises(ConnectTimeout) as info:
            await client.connect("private")
        assert loop.time() - start == pytest.approx(TIMEOUT)
        await client.close()
        records = connect_records(caplog)
        warnings = [r for r in records if r.levelno == logging.WARNING]
        debug = [r for r in records if r.levelno == logging.DEBUG]
        assert len(warnings) == 1, [r.getMessage() for r in warnings]
        assert "connection refused by wss://ws.okx.com/ws/v5/private" in warnings[0].getMessage()
        assert len(debug) == server.connect_attempts - 1 >= 3
        assert "failed again (attempt 2)" in debug[0].getMessage()
        assert f"(attempt {server.connect_attempts})" in debug[-1].getMessage()
        message = str(info.value)
        assert f"after {server.connect_attempts} failed connect attempt(s)" in message
        assert "connection refused by wss://ws.okx.com/ws/v5/private" in message

    run(main())


def test_a_new_run_of_attempts_warns_again(caplog: pytest.LogCaptureFixture) -> None:
    """After a success, the next failure (a reconnect) is news: a WARNING again."""

    async def main() -> None:
        server = ScriptedServer()
        client = make_client(server, caplog)
        await client.connect("private")
        await server.next_link()  # the first link
        server.refuse_connects = 3
        server.links[0].close("dropped by the test")
        link = await server.next_link()  # the second link: after three refusals
        assert link is not server.links[0] and server.refuse_connects == 0
        await client.close()
        levels = [r.levelno for r in connect_records(caplog)]
        assert levels == [logging.WARNING, logging.DEBUG, logging.DEBUG]

    run(main())


# -- a refused connection on this machine fails at once, naming base_url ---------------------


@pytest.mark.parametrize("host", ["127.0.0.1:9", "127.0.0.2:8765", "localhost:9", "[::1]:9"])
def test_refused_on_loopback_fails_at_once_naming_base_url(
    host: str, caplog: pytest.LogCaptureFixture
) -> None:
    async def main() -> None:
        server = ScriptedServer()
        server.refuse_connects = 10**6
        client = make_client(server, caplog, base_url=f"ws://{host}")
        loop = asyncio.get_running_loop()
        start = loop.time()
        with pytest.raises(ConnectRefused) as info:
            await client.connect("private")
        assert loop.time() - start < 0.1  # not after the 10 s timeout
        assert server.connect_attempts == 1
        assert str(info.value).startswith(
            f"nothing listens on ws://{host} (base_url): is the simulator running?"
        )
        assert isinstance(info.value, ConnectTimeout)  # `except ConnectTimeout` still catches it
        server.refuse_connects = 0  # the simulator started: the next call connects
        await client.connect("private")
        await client.close()

    run(main())


def test_a_refused_reconnect_on_loopback_keeps_retrying(caplog: pytest.LogCaptureFixture) -> None:
    """A simulator restarting refuses for a moment: only a *first* connect fails at once."""

    async def main() -> None:
        server = ScriptedServer()
        client = make_client(server, caplog, base_url="ws://127.0.0.1:9")
        await client.connect("private")
        await server.next_link()  # the first link
        server.refuse_connects = 4
        server.links[0].close("simulator restarting")
        await server.next_link()
        await client.connect("private")
        assert server.connect_attempts == 6
        await client.close()

    run(main())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # closed: nothing listens there now


@pytest.mark.parametrize("transport", ["httpx-ws", "websockets"])
async def test_real_transports_report_refused_as_nothing_listens(transport: str) -> None:
    """httpx wraps the refusal three times; the cause is still found."""
    base_url = f"ws://127.0.0.1:{free_port()}"
    client = AsyncWebsocketClient(
        "k", "s", "p", base_url=base_url, transport=transport, attach_event_listeners=False
    )
    loop = asyncio.get_running_loop()
    start = loop.time()
    with pytest.raises(ConnectRefused, match=rf"nothing listens on {base_url} \(base_url\)"):
        await client.connect("private", timeout=30)
    assert loop.time() - start < 5
    await client.close()


async def test_connect_ws_api_names_base_url_not_the_instrument_list() -> None:
    """Its REST leg fails on the same dead port; the connections' error names the cause."""
    base_url = f"ws://127.0.0.1:{free_port()}"
    client = AsyncWebsocketClient(
        "k",
        "s",
        "p",
        base_url=base_url,
        attach_event_listeners=False,
        request_timeout=30,
        instrument_types=("SPOT",),
    )
    with pytest.raises(ConnectRefused, match=rf"nothing listens on {base_url} \(base_url\)"):
        await client.connect_ws_api()
    await client.close()


# -- HTTP 429 names the limit, and for the simulator how to turn it off ----------------------


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        (None, "OKX allows 3 connection requests per second per IP"),
        (
            "ws://127.0.0.1:8765",
            "HTTP 429 Too Many Requests at ws://127.0.0.1:8765 (base_url): the simulator"
            " enforces OKX's limit of 3 connection requests per second per IP; turn it off"
            " with okx_ws_sim.Simulator(rate_limits=False) or"
            " `python -m okx_ws_sim --no-rate-limits`",
        ),
    ],
)
def test_http_429_on_connect_names_the_limit(
    base_url: str | None, expected: str, caplog: pytest.LogCaptureFixture
) -> None:
    async def main() -> None:
        connector = TooManyConnects()
        client = make_client(connector, caplog, base_url=base_url)
        with pytest.raises(ConnectTimeout) as info:
            await client.connect("private")
        await client.close()
        assert expected in str(info.value)
        warning = [r for r in connect_records(caplog) if r.levelno == logging.WARNING]
        assert len(warning) == 1 and expected in warning[0].getMessage()
        assert connector.connect_attempts > 1  # a 429 clears: retried

    run(main())


async def test_the_simulators_429_body_says_what_it_is_and_how_to_turn_it_off() -> None:
    async with Simulator(rate_limits=RateLimits(connect=Limit(1, 60.0))) as sim:
        url = sim.base_url + "/ws/v5/public"
        async with connect(url):
            pass
        with pytest.raises(InvalidStatus) as info:
            async with connect(url):
                pass
    body = info.value.response.body.decode()
    assert info.value.response.status_code == 429
    assert "1 WebSocket connection requests per 60 s per IP" in body
    assert "Simulator(rate_limits=False)" in body and "--no-rate-limits" in body


# -- a base_url with a path ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("base_url", "extra"),
    [
        ("ws://127.0.0.1:8765/ws/v5/private", "a path ('/ws/v5/private')"),
        ("ws://h:1?x=1", "a query"),
    ],
)
def test_base_url_with_a_path_is_a_configuration_error(base_url: str, extra: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        AsyncWebsocketClient(base_url=base_url)
    assert f"base_url {base_url!r} has {extra}" in str(info.value)
    assert "give scheme://host:port only" in str(info.value)


def test_base_url_with_a_bare_slash_is_fine() -> None:
    client = AsyncWebsocketClient(base_url="ws://127.0.0.1:8765/")
    assert client.options.url("private") == "ws://127.0.0.1:8765/ws/v5/private"


def test_a_refused_rest_host_is_named_with_where_it_came_from() -> None:
    """The instrument list's REST URL and the setting it came from (issue #19 item 5)."""
    from okx_ws import AsyncWebsocketAPIClient, InstrumentResolutionError

    async def main() -> None:
        async with AsyncWebsocketAPIClient(
            api_key="k", api_secret="s", api_passphrase="p", base_url="ws://127.0.0.1:9"
        ) as client:
            await client.load_instruments(["SPOT"])

    with pytest.raises(InstrumentResolutionError) as caught:
        asyncio.run(main())
    message = str(caught.value)
    assert "nothing listens on http://127.0.0.1:9" in message
    assert "(derived from base_url 'ws://127.0.0.1:9'): is the simulator running?" in message
