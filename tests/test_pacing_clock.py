"""OKX's limits and clock, client side, on virtual time over the in-memory peer.

Bursts are paced (``"wait"``) or refused before sending (``"raise"``),
reconnects stay within 3 per second, logins and subscriptions within 480 an
hour per connection, and a login refused for its timestamp syncs the clock
once and tries once more.  REST (OKX's time) is an httpx.MockTransport.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from okx_ws import (
    AsyncWebsocketAPIClient,
    AuthenticationError,
    ClockSyncError,
    OkxApiError,
    RateLimitExceeded,
    WebsocketAPIClient,
)

from okx_ws_core.net.pacing import SAFETY_MARGIN_S
from okx_ws_core.testing import ScriptedServer, ok_reply, run
from okx_ws_core.transports.registry import Transport

CODES = {"BTC-USDT": 1, "ETH-USDT": 2}
SPREAD = "BTC-USDT_BTC-USDT-SWAP"


def order(inst_id: str = "BTC-USDT", **extra: Any) -> dict[str, Any]:
    return {"instId": inst_id, "tdMode": "cash", "side": "buy", "ordType": "limit",
            "px": "100", "sz": "0.01", **extra}  # fmt: skip


def clock_rest(skew_s: float = 45.0, status: int = 200) -> httpx.MockTransport:
    """OKX's GET /api/v5/public/time, answering a clock ``skew_s`` ahead of ours."""

    def handle(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/api/v5/public/time"
        ts = str(int((time.time() + skew_s) * 1000))
        return httpx.Response(status, json={"code": "0", "msg": "", "data": [{"ts": ts}]})

    return httpx.MockTransport(handle)


def client(server: ScriptedServer, **options: Any) -> AsyncWebsocketAPIClient:
    return AsyncWebsocketAPIClient(
        api_key="k", api_secret="s", api_passphrase="p", transport=server,
        instruments=CODES, attach_event_listeners=False, **options,
    )  # fmt: skip


class Timed(ScriptedServer):
    """A ScriptedServer that stamps every request frame and connect with virtual time."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.request_times: list[tuple[float, dict[str, Any]]] = []
        self.connect_times: list[float] = []
        inner = self.answer

        def answer(frame: dict[str, Any]) -> dict[str, Any] | None:
            self.request_times.append((asyncio.get_running_loop().time(), frame))
            return inner(frame) if inner is not None else None

        self.answer = answer

    @contextlib.asynccontextmanager
    async def open(self, url: str, timeout: float) -> AsyncIterator[Transport]:
        self.connect_times.append(asyncio.get_running_loop().time())
        async with super().open(url, timeout) as transport:
            yield transport


def most_in_any_window(times: list[float], window: float) -> int:
    times = sorted(times)
    return max((sum(1 for t in times if start <= t < start + window) for start in times), default=0)


# -- bursts -------------------------------------------------------------------------


def test_wait_paces_a_burst_to_the_minimum_time_the_limits_allow() -> None:
    async def main() -> None:
        server = Timed()
        async with client(server, request_timeout=60.0) as c:
            await c.connect_ws_api()
            loop = asyncio.get_running_loop()
            start = loop.time()
            replies = await asyncio.gather(
                *(c.submit_new_order(order("BTC-USDT")) for _ in range(500)),
                *(c.submit_new_order(order("ETH-USDT")) for _ in range(100)),
            )
        assert all(reply.code == "0" for reply in replies)
        by_inst: dict[int, list[float]] = {1: [], 2: []}
        for at, frame in server.request_times:
            by_inst[frame["args"][0]["instIdCode"]].append(at - start)
        assert len(by_inst[1]) == 500 and len(by_inst[2]) == 100
        assert most_in_any_window(by_inst[1], 2.0) == 60  # never over OKX's 60 / 2 s
        assert most_in_any_window(by_inst[2], 2.0) == 60
        minimum = 2.0 * (500 // 60)  # 8 more windows after the first 60: 16 s
        assert minimum <= max(by_inst[1]) <= minimum * 1.1
        # The other instrument was never slowed by the first: one window (and the margin).
        assert max(by_inst[2]) == pytest.approx(2.0 + SAFETY_MARGIN_S)

    run(main())


def test_raise_sends_exactly_the_allowed_number_and_refuses_the_rest_unsent() -> None:
    async def main() -> None:
        server = Timed()
        async with client(server, rate_limit="raise") as c:
            results = await asyncio.gather(
                *(c.submit_new_order(order(clOrdId=f"r{i}")) for i in range(100)),
                return_exceptions=True,
            )
        refused = [r for r in results if isinstance(r, RateLimitExceeded)]
        assert len(refused) == 40 and len(server.request_times) == 60
        assert all(
            0.0 < r.retry_after <= 2.0 + SAFETY_MARGIN_S and r.limit == "order" for r in refused
        )
        assert all(r.key == "BTC-USDT" and "nothing was sent" in str(r) for r in refused)
        sent = {frame["args"][0]["clOrdId"] for _, frame in server.request_times}
        assert not sent & {cl for r in refused for cl in r.cl_ord_ids}

    run(main())


def test_a_wait_that_would_pass_the_timeout_fails_before_sending() -> None:
    async def main() -> None:
        server = Timed()
        async with client(server) as c:
            await asyncio.gather(*(c.submit_new_order(order()) for _ in range(60)))
            with pytest.raises(RateLimitExceeded) as info:
                await c.submit_new_order(order(clOrdId="late1"), timeout=1.0)
            assert info.value.retry_after > 1.0
            assert len(server.request_times) == 60
            await c.submit_new_order(order(clOrdId="late2"), timeout=3.0)  # waits, then goes
            assert len(server.request_times) == 61

    run(main())


def test_batches_count_per_item_and_a_batch_of_one_counts_as_an_order() -> None:
    async def main() -> None:
        server = Timed()
        async with client(server, rate_limit="raise") as c:
            for _ in range(15):  # 15 x 20 = 300 items: the batch limit
                await c.submit_multiple_orders([order()] * 20)
            with pytest.raises(RateLimitExceeded, match="batch-orders"):
                await c.submit_multiple_orders([order()] * 2)
            for _ in range(59):
                await c.submit_new_order(order())
            await c.submit_multiple_orders([order()])  # the 60th "order"
            with pytest.raises(RateLimitExceeded, match="'batch-orders' would exceed OKX's order"):
                await c.submit_multiple_orders([order()])

    run(main())


def test_mass_cancel_and_spread_operations_have_their_own_user_limits() -> None:
    async def main() -> None:
        server = Timed()
        async with client(server, rate_limit="raise") as c:
            for _ in range(5):
                await c.mass_cancel_orders({"instType": "OPTION", "instFamily": "BTC-USD"})
            with pytest.raises(RateLimitExceeded, match="mass-cancel"):
                await c.mass_cancel_orders({"instType": "OPTION", "instFamily": "ETH-USD"})
            spread = {"sprdId": SPREAD, "side": "buy", "ordType": "limit", "px": "1", "sz": "1"}
            for _ in range(20):
                await c.submit_spread_order(spread)
            with pytest.raises(RateLimitExceeded, match="sprd-order"):
                await c.submit_spread_order(spread)
            await c.cancel_spread_order({"ordId": "1"})  # its own bucket
            await asyncio.sleep(2.0 + SAFETY_MARGIN_S)
            await c.submit_spread_order(spread)

    run(main())


def test_an_okx_rate_limit_reply_holds_the_bucket_for_a_window() -> None:
    async def main() -> None:
        def answer(frame: dict[str, Any]) -> dict[str, Any]:
            if frame["args"][0].get("clOrdId") == "hit":
                return {"id": frame["id"], "op": frame["op"], "code": "50011",
                        "msg": "Rate limit reached", "data": []}  # fmt: skip
            return ok_reply(frame)

        server = Timed(answer=answer)
        async with client(server) as c:
            with pytest.raises(OkxApiError):
                await c.submit_new_order(order(clOrdId="hit"))
            loop = asyncio.get_running_loop()
            before = loop.time()
            await c.submit_new_order(order(clOrdId="after"))
            held = 2.0 + SAFETY_MARGIN_S
            assert loop.time() - before == pytest.approx(held, abs=0.01)
            await c.submit_new_order(order("ETH-USDT"))  # another instrument: no wait
            assert loop.time() - before == pytest.approx(held, abs=0.01)

    run(main())


def test_off_sends_everything_at_once() -> None:
    async def main() -> None:
        server = Timed()
        async with client(server, rate_limit="off") as c:
            await asyncio.gather(*(c.submit_new_order(order()) for _ in range(100)))
        assert len({at for at, _ in server.request_times}) == 1

    run(main())


def test_blocking_client_raise_mode() -> None:
    server = ScriptedServer()
    with WebsocketAPIClient(
        api_key="k", api_secret="s", api_passphrase="p", transport=server,
        instruments=CODES, rate_limit="raise", attach_event_listeners=False,
    ) as c:  # fmt: skip
        for _ in range(5):
            c.mass_cancel_orders({"instType": "OPTION", "instFamily": "BTC-USD"})
        with pytest.raises(RateLimitExceeded) as info:
            c.mass_cancel_orders({"instType": "OPTION", "instFamily": "BTC-USD"})
    assert 0.0 < info.value.retry_after <= 2.0 + SAFETY_MARGIN_S
    assert sum(len(link.ops("mass-cancel")) for link in server.links) == 5


# -- connections ----------------------------------------------------------------------


def test_a_burst_of_reconnects_stays_within_three_per_second() -> None:
    async def main() -> None:
        server = Timed()
        async with client(server, reconnect_delay=0.001, reconnect_max_delay=0.001) as c:
            await c.get_ws_client().connect("private")
            link = await server.next_link()
            for _ in range(20):  # drop every link as soon as it is up
                link.close("dropped")
                link = await server.next_link()
            await c.submit_new_order(order())
        assert len(server.connect_times) == 21
        assert most_in_any_window(server.connect_times, 1.0) == 3
        assert server.connect_times[-1] - server.connect_times[0] >= 20 / 3 - 1

    run(main())


def test_logins_and_subscriptions_stay_within_480_an_hour_per_connection() -> None:
    async def main() -> None:
        server = ScriptedServer()
        async with client(server) as c:
            ws = c.get_ws_client()
            for i in range(479):  # the login was the first of 480
                await ws.subscribe({"channel": "tickers", "instId": f"X{i}-USDT"}, "private")
            with pytest.raises(RateLimitExceeded, match="session_ops") as info:
                await ws.subscribe({"channel": "tickers", "instId": "Y-USDT"}, "private")
            assert info.value.retry_after > 3000
            assert len(server.links[0].ops("subscribe")) == 479
            await ws.subscribe({"channel": "tickers", "instId": "Z-USDT"}, "public")  # no login

    run(main())


# -- the clock ------------------------------------------------------------------------


def test_a_login_refused_for_its_timestamp_syncs_once_and_succeeds() -> None:
    async def main() -> None:
        server = ScriptedServer()
        server.login_errors = [("60004", "Invalid timestamp")]
        async with client(server, rest_transport=clock_rest(45.0)) as c:
            ws = c.get_ws_client()
            seen: list[str] = []
            ws.on("exception", lambda event: seen.append(event.detail))
            reply = await c.submit_new_order(order(clOrdId="clk1"))
            assert reply.code == "0"
            assert ws.get_time_offset_ms() == pytest.approx(45_000, abs=200)
            assert server.logins == 2
            assert any("clock was off by" in detail for detail in seen)
            login = [link.ops("login")[0]["args"][0] for link in server.links]
            assert int(login[1]["timestamp"]) - int(login[0]["timestamp"]) in range(44, 47)

    run(main())


def test_a_login_refused_again_after_the_sync_is_reported_not_retried() -> None:
    async def main() -> None:
        server = ScriptedServer()
        server.login_errors = [("60006", "Timestamp request expired")] * 4
        async with client(server, rest_transport=clock_rest(45.0)) as c:
            with pytest.raises(AuthenticationError, match="clock off by") as info:
                await c.connect_ws_api()
            assert info.value.code == "60006"
            await asyncio.sleep(300)
            assert server.logins == 4  # private and business: one refusal and one retry each

    run(main())


def test_a_failed_clock_read_is_reported_with_the_refusal() -> None:
    async def main() -> None:
        server = ScriptedServer()
        server.login_errors = [("60004", "Invalid timestamp")]
        async with client(server, rest_transport=clock_rest(status=503)) as c:
            with pytest.raises(AuthenticationError, match="Reading OKX's clock failed"):
                await c.get_ws_client().connect("private")
            with pytest.raises(ClockSyncError, match="503"):
                await c.sync_time()

    run(main())


def test_sync_time_at_connect_reads_the_clock_once_before_the_first_logins() -> None:
    async def main() -> None:
        reads: list[str] = []
        inner = clock_rest(-20.0)

        def handle(request: httpx.Request) -> httpx.Response:
            reads.append(request.url.path)
            return inner.handle_request(request)

        server = ScriptedServer()
        options = {"rest_transport": httpx.MockTransport(handle), "sync_time": True}
        async with client(server, **options) as c:
            await c.connect_ws_api()
            assert reads == ["/api/v5/public/time"]
            assert c.get_ws_client().get_time_offset_ms() == pytest.approx(-20_000, abs=200)
            logins = [link.ops("login")[0]["args"][0]["timestamp"] for link in server.links]
            assert all(abs(int(ts) - (time.time() - 20)) < 2 for ts in logins)

    run(main())


def test_blocking_sync_time() -> None:
    with WebsocketAPIClient(
        api_key="k", api_secret="s", api_passphrase="p", transport=ScriptedServer(),
        rest_transport=clock_rest(-3.0), attach_event_listeners=False,
    ) as c:  # fmt: skip
        offset = c.sync_time()
    assert offset == pytest.approx(-3_000, abs=200)
