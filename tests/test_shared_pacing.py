"""OKX counts connects (3 / s) and instrument-list calls per IP: clients of one process share them.

Twenty sub-accounts started together in one process must open their 40
connections no faster than 3 per window in all, and load each instrument list
once, not once per client.  The simulator enforces the connect limit per IP
independently (its own table, HTTP 429 on the upgrade) and counts REST calls.
The connect window is scaled down on both sides (0.1 s instead of 1 s) so 40
connects take about 8 s instead of 20 (the client's 0.5 s connect margin
does not scale); the rule under test is the same.
"""

from __future__ import annotations

import asyncio
import gc
import threading
import weakref
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from okx_ws_core import AsyncWebsocketClient, WebsocketClient
from okx_ws_core.errors import InstrumentResolutionError
from okx_ws_core.protocol.ratelimit import ConnectGate, ConnectionLimits, RateLimit
from okx_ws_core.rest.instruments import InstrumentRegistry
from okx_ws_sim import Simulator, SimulatorThread
from okx_ws_sim.limits import Limit, RateLimits
from tests.conftest import client_options

LIST = "/api/v5/public/instruments"
WINDOW_S = 0.1  # OKX: 1 s; scaled down on both sides to keep the test short
CLIENTS = 20
SCALED = ConnectionLimits(connect=RateLimit("connect", 3, WINDOW_S, "ip"))


def scaled_simulator_limits() -> RateLimits:
    return RateLimits(connect=Limit(3, WINDOW_S))


def options(base_url: str, **overrides: Any) -> dict[str, Any]:
    return client_options(
        base_url, request_timeout=30.0, instrument_types=("SPOT", "SWAP"), **overrides
    )


# -- against the simulator ---------------------------------------------------------------


async def test_twenty_async_clients_started_at_once_stay_within_the_ip_limits() -> None:
    async with Simulator(idle_timeout=30.0, rate_limits=scaled_simulator_limits()) as sim:
        clients = [
            AsyncWebsocketClient(connection_limits=SCALED, **options(sim.base_url))
            for _ in range(CLIENTS)
        ]
        try:
            await asyncio.gather(*(client.connect_ws_api() for client in clients))
        finally:
            await asyncio.gather(*(client.close() for client in clients))
        assert sim.stats.connections_throttled == 0
        assert sim.stats.connections_opened == 2 * CLIENTS  # no attempt was wasted
        assert (sim.rest_calls(LIST, "SPOT"), sim.rest_calls(LIST, "SWAP")) == (1, 1)


def test_blocking_clients_on_their_own_loops_share_the_limits_too() -> None:
    count = 8  # one loop thread each: enough to cross threads, cheap enough to start
    with SimulatorThread(idle_timeout=30.0, rate_limits=scaled_simulator_limits()) as sim:
        clients = [
            WebsocketClient(connection_limits=SCALED, **options(sim.base_url)) for _ in range(count)
        ]
        try:
            with ThreadPoolExecutor(count) as pool:
                list(pool.map(lambda client: client.connect_ws_api(), clients))
        finally:
            for client in clients:
                client.close()
        stats = sim.call(lambda: sim.simulator.stats)
        assert stats.connections_throttled == 0
        assert stats.connections_opened == 2 * count
        assert (sim.rest_calls(LIST, "SPOT"), sim.rest_calls(LIST, "SWAP")) == (1, 1)


async def test_share_limits_false_paces_and_loads_alone() -> None:
    async with Simulator(idle_timeout=30.0, rate_limits=False) as sim:
        clients = [
            AsyncWebsocketClient(
                connection_limits=SCALED, **options(sim.base_url, share_limits=False)
            )
            for _ in range(3)
        ]
        try:
            await asyncio.gather(*(client.connect_ws_api() for client in clients))
        finally:
            await asyncio.gather(*(client.close() for client in clients))
        assert (sim.rest_calls(LIST, "SPOT"), sim.rest_calls(LIST, "SWAP")) == (3, 3)


async def test_a_shared_registry_does_not_keep_its_clients_alive() -> None:
    async with Simulator(idle_timeout=30.0) as sim:
        client = AsyncWebsocketClient(**options(sim.base_url))
        await client.load_instruments(["SPOT"])
        await client.close()
        gone = weakref.ref(client)
        del client
        gc.collect()
        assert gone() is None


# -- the connect gate, sans-I/O ------------------------------------------------------------


def test_the_gate_gives_each_caller_its_own_turn() -> None:
    gate, limit = ConnectGate(), RateLimit("connect", 3, 1.0, "ip")
    assert [gate.reserve(limit, 10.0) for _ in range(7)] == [0, 0, 0, 1, 1, 1, 2]
    assert gate.reserve(limit, 13.5) == 0.0  # every earlier turn is over a window old


def test_the_gate_keeps_every_window_within_the_limit_across_threads() -> None:
    gate, limit = ConnectGate(margin=0.05), RateLimit("connect", 3, 1.0, "ip")
    turns: list[float] = []
    start = threading.Barrier(8)

    def take(now: float) -> None:
        start.wait()
        for _ in range(25):
            turns.append(now + gate.reserve(limit, now))

    threads = [threading.Thread(target=take, args=(100.0 + i * 0.001,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    turns.sort()
    assert len(turns) == 200
    assert all(turns[i + 3] - turns[i] >= 1.05 - 1e-9 for i in range(len(turns) - 3))


def test_callers_that_wake_late_after_a_stall_do_not_connect_in_a_burst() -> None:
    """A loop stalled past a turn must not fire its due turns together with the next
    ones: a caller that wakes late is queued again from when it woke.  Nine callers at
    once (turns 0, 1.5 and 3 s, three each), the three sleeping until 1.5 s stalled
    until 2.9 s: OKX (3 per 1 s per IP) must never see four connects within one second."""
    gate, limit = ConnectGate(margin=0.5), RateLimit("connect", 3, 1.0, "ip")
    stalled_until = {3: 2.9, 4: 2.9, 5: 2.9}
    starts: list[float] = []
    for caller in range(9):
        now = 0.0
        turn = gate.turn(limit, now)
        while turn > now:
            now = max(turn, stalled_until.get(caller, 0.0))
            turn = gate.claim(limit, turn, now)
        starts.append(now)
    starts.sort()
    assert all(starts[i + 3] - starts[i] >= 1.0 for i in range(len(starts) - 3)), starts
    on_time = ConnectGate(margin=0.5)
    assert on_time.claim(limit, on_time.turn(limit, 5.0), 5.2) == 5.2  # late within margin/2: go


# -- the shared instrument lists, socket-free ----------------------------------------------


class CountingVenue:
    """OKX's instrument list behind an httpx.MockTransport, counting calls; may hang."""

    def __init__(self) -> None:
        self.calls = 0
        self.release = threading.Event()
        self.release.set()

    async def handler(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        while not self.release.is_set():  # a thread-safe gate, polled on whichever loop asks
            await asyncio.sleep(0.005)
        data = [{"instId": "BTC-USDT", "instIdCode": 11}, {"instId": "ETH-USDT", "instIdCode": 12}]
        return httpx.Response(200, json={"code": "0", "msg": "", "data": data})


@pytest.fixture
def venue() -> Iterator[CountingVenue]:
    venue = CountingVenue()
    yield venue
    venue.release.set()


def test_registries_on_different_loops_share_one_load(venue: CountingVenue) -> None:
    transport = httpx.MockTransport(venue.handler)
    found: list[int] = []
    all_made = threading.Barrier(6)

    def resolve_on_its_own_loop() -> None:
        async def main() -> None:
            registry = InstrumentRegistry(URL, transport=transport, shared=True)
            all_made.wait()  # every registry exists before any resolves
            found.append(await registry.resolve("ETH-USDT", timeout=5.0))
            await registry.aclose()

        asyncio.run(main())

    threads = [threading.Thread(target=resolve_on_its_own_loop) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert found == [12] * 6
    assert venue.calls == 1


async def test_registries_not_shared_load_alone(venue: CountingVenue) -> None:
    transport = httpx.MockTransport(venue.handler)
    registries = [InstrumentRegistry(URL, transport=transport) for _ in range(2)]
    assert [await registry.resolve("BTC-USDT") for registry in registries] == [11, 11]
    assert venue.calls == 2
    for registry in registries:
        await registry.aclose()


async def test_a_load_abandoned_by_its_closing_leader_is_taken_over(venue: CountingVenue) -> None:
    transport = httpx.MockTransport(venue.handler)
    leader = InstrumentRegistry(URL, transport=transport, shared=True)
    follower = InstrumentRegistry(URL, transport=transport, shared=True)
    venue.release.clear()
    first = asyncio.ensure_future(leader.resolve("BTC-USDT"))
    await asyncio.sleep(0.05)  # the leader's load is in flight (and hangs)
    second = asyncio.ensure_future(follower.resolve("ETH-USDT"))
    await asyncio.sleep(0)
    venue.release.set()
    await leader.aclose()
    with pytest.raises(InstrumentResolutionError, match="closed"):
        await first
    assert await asyncio.wait_for(second, 5.0) == 12
    assert venue.calls == 2  # the follower loaded it again itself
    await follower.aclose()


async def test_a_preset_stays_one_clients_word(venue: CountingVenue) -> None:
    transport = httpx.MockTransport(venue.handler)
    preset = InstrumentRegistry(URL, transport=transport, shared=True, preset={"BTC-USDT": 99})
    plain = InstrumentRegistry(URL, transport=transport, shared=True)
    await plain.load(["SPOT"])
    assert (preset.code("BTC-USDT"), preset.code("ETH-USDT")) == (99, 12)  # loaded once, shared
    assert (plain.code("BTC-USDT"), venue.calls) == (11, 1)
    plain.invalidate("BTC-USDT")  # OKX rejected the shared code: gone for every client
    assert (plain.code("BTC-USDT"), preset.code("BTC-USDT")) == (None, 99)
    for registry in (preset, plain):
        await registry.aclose()


URL = "https://shared.example"
