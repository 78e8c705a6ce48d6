"""Hardening (issue #17): the clock read, a refused re-login, restored subscriptions,
and the blocking client's threads.

Socket-free where it can be (a :class:`ScriptedServer` on the virtual clock of
:func:`okx_ws_core.testing.run`); the blocking client's tests run its real loop
thread against the scripted server, with every interval configured short.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from okx_ws_core import (
    AsyncWebsocketClient,
    AuthenticationError,
    ClockSyncError,
    ConnectTimeout,
    Event,
)
from okx_ws_core.testing import ScriptedServer, run, until


def make_client(server: Any, **overrides: Any) -> AsyncWebsocketClient:
    options: dict[str, Any] = {"attach_event_listeners": False, "id_prefix": "h", **overrides}
    return AsyncWebsocketClient("key1", "secret1", "pass1", transport=server, **options)


def now() -> float:
    return asyncio.get_running_loop().time()


# -- 1. a failed clock read ---------------------------------------------------------------


def flaky_clock(failures: int, reads: list[float]) -> httpx.MockTransport:
    """OKX's GET /api/v5/public/time: HTTP 503 ``failures`` times, then the time."""

    def handle(request: httpx.Request) -> httpx.Response:
        reads.append(now())
        if len(reads) <= failures:
            return httpx.Response(503, json={"code": "50001", "msg": "Service unavailable"})
        ts = str(int(time.time() * 1000))
        return httpx.Response(200, json={"code": "0", "msg": "", "data": [{"ts": ts}]})

    return httpx.MockTransport(handle)


def test_a_failed_clock_read_is_retried_with_the_backoff_and_named_to_the_caller() -> None:
    async def main() -> None:
        reads: list[float] = []
        server = ScriptedServer()
        options = {"sync_time": True, "reconnect_delay": 1.0, "reconnect_max_delay": 8.0}
        async with make_client(server, rest_transport=flaky_clock(3, reads), **options) as c:
            with pytest.raises(ConnectTimeout, match="clock could not be read") as info:
                await c.connect("private", timeout=0.5)
            assert isinstance(info.value.__cause__, ClockSyncError)
            assert server.connect_attempts == 0  # no socket opened for a login it cannot sign
            await c.connect("private", timeout=60)
            assert len(reads) == 4 and server.logins == 1
            gaps = [b - a for a, b in zip(reads, reads[1:], strict=False)]
            assert gaps[0] >= 0.5 and gaps[1] >= 1.0 and gaps[2] >= 2.0  # the backoff, growing
            assert server.connect_attempts == 1

    run(main())


# -- 10. a login refused on a reconnect ------------------------------------------------------

ORDERS = {"channel": "orders", "instType": "ANY"}
TICKERS = {"channel": "tickers", "instId": "BTC-USDT"}


def test_a_login_refused_on_a_reconnect_is_retried_with_a_growing_capped_delay(
    caplog: pytest.LogCaptureFixture,
) -> None:
    refusals = 6

    async def main() -> None:
        server = ScriptedServer()
        options = {"reconnect_delay": 1.0, "reconnect_max_delay": 8.0}
        async with make_client(server, attach_event_listeners=True, **options) as client:
            refused: list[tuple[float, Event]] = []
            client.on(
                "exception",
                lambda e: (
                    refused.append((now(), e)) if isinstance(e.error, AuthenticationError) else None
                ),
            )
            pushed: list[Event] = []
            client.on("update", pushed.append)
            await client.subscribe(ORDERS, "private")
            server.login_errors = [("60009", "Login failed.")] * refusals
            server.links[0].close("dropped")
            await until(lambda: refused, "the first refusal")
            with pytest.raises(AuthenticationError):  # meanwhile a call fails fast...
                await client.send_ws_api_request("private", "order", [{"clOrdId": "x"}])
            assert server.logins == 2  # ...and forces no extra login
            await asyncio.sleep(120)
            assert server.logins == 1 + refusals + 1
            times = [t for t, _ in refused]
            assert len(times) == refusals
            gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
            for k, gap in enumerate(gaps):  # full jitter: between half the delay and the delay
                assert min(8.0, 2.0**k) / 2 <= gap <= min(8.0, 2.0**k) + 1e-6, gaps
            for _, event in refused:
                assert event.connection == "private" and event.error.code == "60009"
                assert event.detail.startswith("login refused on reconnect, retry in")
                assert "1 subscriptions wait" in event.detail
            link = server.open_links()[-1]
            assert link.ops("subscribe")[0]["args"] == [ORDERS]  # restored at last
            link.push({"arg": {**ORDERS, "uid": "1"}, "data": [{"ordId": "1"}]})
            await until(lambda: pushed, "a push after the restore")

    run(main())
    lines = [r for r in caplog.records if "login refused on reconnect" in r.getMessage()]
    assert len(lines) == refusals and all(r.levelname == "WARNING" for r in lines)


def test_a_first_login_refused_is_still_reported_once_not_retried() -> None:
    async def main() -> None:
        server = ScriptedServer()
        async with make_client(server, reconnect_delay=1.0, reconnect_max_delay=8.0) as client:
            server.login_errors = [("60009", "Login failed.")]
            with pytest.raises(AuthenticationError):
                await client.subscribe(ORDERS, "private")
            await asyncio.sleep(120)
            assert server.logins == 1

    run(main())


# -- 12. every subscription restored ----------------------------------------------------------

PRIVATE_SUBS = [ORDERS, {"channel": "account"}, {"channel": "positions", "instType": "ANY"}]
PUBLIC_SUBS = [TICKERS, {"channel": "tickers", "instId": "ETH-USDT"},
               {"channel": "trades", "instId": "BTC-USDT"}]  # fmt: skip


def test_three_subscriptions_on_two_connections_are_all_restored_after_each_reconnect() -> None:
    async def main() -> None:
        server = ScriptedServer()
        async with make_client(server) as client:
            restored: list[tuple[str, str]] = []
            client.on("reconnected", lambda e: restored.append((e.connection, e.detail)))
            for arg in PRIVATE_SUBS:  # one at a time: each remembered on its own
                await client.subscribe(arg, "private")
            await client.subscribe(PUBLIC_SUBS, "public")
            for round_ in range(2):
                for link in server.open_links():
                    link.close(f"dropped #{round_}")
                await asyncio.sleep(5)
                by_url = {link.url.rsplit("/", 1)[-1]: link for link in server.open_links()}
                assert set(by_url) == {"private", "public"}
                sent = {key: [a for f in link.ops("subscribe") for a in f["args"]]
                        for key, link in by_url.items()}  # fmt: skip
                assert sent == {"private": PRIVATE_SUBS, "public": PUBLIC_SUBS}
            assert (
                sorted(restored)
                == [("private", "3 subscriptions restored")] * 2
                + [("public", "3 subscriptions restored")] * 2
            )
            assert client.subscriptions("private") == PRIVATE_SUBS
            assert client.subscriptions("public") == PUBLIC_SUBS

    run(main())
