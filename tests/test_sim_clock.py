"""The simulator's clock: GET /api/v5/public/time, and a skew every time it shows follows."""

from __future__ import annotations

import time
from typing import Any

from okx_ws_sim import SimClock, Simulator, SimulatorThread
from okx_ws_sim.testing import SAMPLE_ORDER, RawClient, http_get

TIME = "/api/v5/public/time"
FIXED_NS = 1_700_000_000_123_456_789  # 2023-11-14T22:13:20.123456789Z


async def server_ms(sim: Simulator) -> int:
    reply = await http_get(sim.rest_url + TIME)
    assert reply.status == 200 and reply.headers["content-type"] == "application/json"
    body: dict[str, Any] = reply.json()
    assert body["code"] == "0" and body["msg"] == "" and list(body["data"][0]) == ["ts"]
    return int(body["data"][0]["ts"])


async def test_time_endpoint_answers_okx_envelope_from_the_sim_clock() -> None:
    clock = SimClock(wall_ns=lambda: FIXED_NS)
    async with Simulator(clock=clock) as sim:
        reply = await http_get(sim.rest_url + TIME)
        assert reply.json() == {"code": "0", "msg": "", "data": [{"ts": "1700000000123"}]}
        sim.clock_offset_s = 45.0
        assert await server_ms(sim) == 1700000045123
        assert sim.rest_calls(TIME) == 2


async def test_skewed_clock_refuses_local_timestamps_until_the_client_syncs() -> None:
    async with Simulator(clock_offset_s=45.0) as sim, await RawClient.open(sim.url()) as c:
        assert abs(await server_ms(sim) - (time.time() * 1000 + 45_000)) < 1000
        refused = await c.login()  # signed with this machine's clock: 45 s off
        assert (refused["event"], refused["code"]) == ("error", "60006")
        synced = await c.login(timestamp=(await server_ms(sim)) // 1000)
        assert (synced["event"], synced["code"]) == ("login", "0")
    assert sim.stats.login_failures_by_code["60006"] == 1


async def test_offset_within_the_window_is_tolerated_and_settable_at_runtime() -> None:
    async with Simulator(clock_offset_s=20.0) as sim:
        async with await RawClient.open(sim.url()) as c:
            assert (await c.login())["code"] == "0"  # 20 s < OKX's 30 s window
        sim.clock_offset_s = -45.0
        assert sim.clock_offset_s == -45.0
        async with await RawClient.open(sim.url()) as c:
            assert (await c.login())["code"] == "60006"
            assert (await c.login(timestamp=time.time() - 45))["code"] == "0"


async def test_exp_time_and_timestamps_follow_the_sim_clock() -> None:
    async with Simulator(clock_offset_s=45.0) as sim, await RawClient.open(sim.url()) as c:
        await c.login(timestamp=time.time() + 45)
        local_ms = int(time.time() * 1000)
        late = await c.request("order", dict(SAMPLE_ORDER), expTime=str(local_ms + 10_000))
        # 10 s ahead of us is 35 s behind the server
        assert late["code"] == "1" and late["data"][0]["sCode"] == "50036"
        reply = await c.request(
            "order", dict(SAMPLE_ORDER, clOrdId="skew1"), expTime=str(local_ms + 55_000)
        )
        assert reply["code"] == "0"
        for value in (int(reply["data"][0]["ts"]), int(reply["inTime"]) // 1000):
            assert abs(value - (local_ms + 45_000)) < 1000
        stored = sim.find_order(cl_ord_id="skew1")
        assert stored is not None and abs(int(stored["cTime"]) - (local_ms + 45_000)) < 1000


def test_thread_mirrors_the_offset() -> None:
    with SimulatorThread(clock_offset_s=-10.0) as sim:
        assert sim.clock_offset_s == -10.0
        sim.clock_offset_s = 31.0
        assert sim.simulator.clock.offset_s == 31.0
