"""Client-side rate limits against the simulator's own, independent ones (OKX's numbers).

The simulator answers 50011 / 50061 past a limit and refuses a fourth upgrade
within a second; these tests prove the client never makes it.  Real windows
(2 s) are used, so bursts are sized to take a few seconds; the 500 + 100 burst
of the issue runs on virtual time in test_pacing_clock.py.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from okx_ws import AsyncWebsocketAPIClient, RateLimitExceeded, WebsocketAPIClient

from okx_ws_sim import Simulator, SimulatorThread
from tests.conftest import client_options

SPREAD = "BTC-USDT_BTC-USDT-SWAP"


def order(inst_id: str = "BTC-USDT", **extra: Any) -> dict[str, Any]:
    return {"instId": inst_id, "tdMode": "cash", "side": "buy", "ordType": "limit",
            "px": "100", "sz": "0.001", **extra}  # fmt: skip


async def test_wait_paces_a_burst_so_the_simulator_rejects_nothing(sim: Simulator) -> None:
    options = client_options(sim.base_url, request_timeout=10.0, instrument_types=("SPOT",))
    async with AsyncWebsocketAPIClient(**options) as client:
        await client.connect_ws_api()
        loop = asyncio.get_running_loop()
        start = loop.time()
        done: dict[str, float] = {}

        async def place(inst_id: str) -> None:
            await client.submit_new_order(order(inst_id))
            done[inst_id] = loop.time() - start

        await asyncio.gather(
            *(place("BTC-USDT") for _ in range(130)), *(place("ETH-USDT") for _ in range(30))
        )
    assert sim.stats.rate_limited == 0
    assert len(sim.orders()) == 160
    window = 2.0  # OKX's: 60 orders per instrument per 2 s
    minimum = window * (130 // 60)  # two more windows after the first 60: 4 s
    # Wall-clock completion, so the upper bounds are in windows, not in a share of the
    # minimum: a loaded machine delays the last replies by tenths of a second, while a
    # client that wasted a window (or held ETH behind BTC's bucket) is a window late.
    # The exact schedule (within 10% of the minimum) is checked on virtual time in
    # test_pacing_clock.py.
    assert minimum <= done["BTC-USDT"] < minimum + window  # no window wasted
    assert done["ETH-USDT"] < window  # the other instrument was never held back


async def test_raise_sends_exactly_the_allowed_number(sim: Simulator) -> None:
    options = client_options(sim.base_url, rate_limit="raise", instrument_types=("SPOT",))
    async with AsyncWebsocketAPIClient(**options) as client:
        await client.connect_ws_api()
        results = await asyncio.gather(
            *(client.submit_new_order(order(clOrdId=f"x{i}")) for i in range(90)),
            return_exceptions=True,
        )
    refused = [r for r in results if isinstance(r, RateLimitExceeded)]
    assert len(refused) == 30 and all(r.retry_after > 0 for r in refused)
    assert len(sim.orders()) == 60 and sim.stats.rate_limited == 0
    assert not {o["clOrdId"] for o in sim.orders()} & {c for r in refused for c in r.cl_ord_ids}


async def test_batches_mass_cancels_and_spreads_stop_at_their_limits(sim: Simulator) -> None:
    options = client_options(sim.base_url, rate_limit="raise", instrument_types=("SPOT",))
    async with AsyncWebsocketAPIClient(**options) as client:
        await client.connect_ws_api()
        for _ in range(15):
            await client.submit_multiple_orders([order("ETH-USDT")] * 20)
        with pytest.raises(RateLimitExceeded, match="batch-orders"):
            await client.submit_multiple_orders([order("ETH-USDT")] * 2)
        for _ in range(5):
            await client.mass_cancel_orders({"instType": "OPTION", "instFamily": "BTC-USD"})
        with pytest.raises(RateLimitExceeded, match="mass-cancel"):
            await client.mass_cancel_orders({"instType": "OPTION", "instFamily": "BTC-USD"})
        spread = {"sprdId": SPREAD, "side": "buy", "ordType": "limit", "px": "1", "sz": "1"}
        for _ in range(20):
            await client.submit_spread_order(spread)
        with pytest.raises(RateLimitExceeded, match="sprd-order"):
            await client.submit_spread_order(spread)
    assert sim.stats.rate_limited == 0


async def test_reconnects_under_a_close_storm_stay_within_three_per_second(sim: Simulator) -> None:
    async with AsyncWebsocketAPIClient(**client_options(sim.base_url)) as client:
        await client.connect_ws_api()
        before = sim.stats.connections_opened
        sim.faults.close_after_frames(1, each=True)  # every link dies on its next frame
        await asyncio.sleep(3.0)  # both connections keep reconnecting, backoff 10-100 ms
        sim.faults.reset()
        attempts = sim.stats.connections_opened - before
        await client.submit_new_order(order())
    # Unpaced, two connections at a 10-100 ms backoff would open dozens; paced, at most
    # 3 in any second (a few more may straddle the window edges of the 3 s span).  The
    # client keeps 3 per 1.5 s (its 0.5 s margin), so a loaded machine sees as few as 4:
    # the lower bound only says the storm kept reconnecting.
    assert 3 <= attempts <= 3 * 3 + 3
    assert sim.stats.connections_throttled == 0


def test_blocking_client_raise_mode_against_the_simulator(sim_thread: SimulatorThread) -> None:
    options = client_options(sim_thread.base_url, rate_limit="raise")
    with WebsocketAPIClient(**options) as client:
        for _ in range(5):
            client.mass_cancel_orders({"instType": "OPTION", "instFamily": "BTC-USD"})
        with pytest.raises(RateLimitExceeded) as info:
            client.mass_cancel_orders({"instType": "OPTION", "instFamily": "BTC-USD"})
    assert info.value.limit == "mass-cancel" and info.value.retry_after > 0
    assert sim_thread.stats.rate_limited == 0
