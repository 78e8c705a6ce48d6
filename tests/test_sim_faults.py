"""Each fault of FaultPlan, and its count in stats.faults_injected."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from okx_ws_sim import Simulator
from okx_ws_sim.testing import SAMPLE_ORDER, RawClient, by_code, http_get

ORDER: dict[str, Any] = dict(SAMPLE_ORDER)


@pytest.fixture
async def fsim() -> AsyncIterator[Simulator]:
    async with Simulator(idle_timeout=5.0, seed=3) as s:
        yield s


async def logged_in(sim: Simulator, kind: str = "private") -> RawClient:
    c = await RawClient.open(sim.url(kind))
    assert (await c.login())["code"] == "0"
    return c


async def assert_dropped(c: RawClient) -> None:
    with pytest.raises(ConnectionClosed):
        await c.recv(timeout=2)


async def test_close_after_frames_once(fsim: Simulator) -> None:
    async with await logged_in(fsim) as a, await logged_in(fsim) as b:
        fsim.faults.close_after_frames(2)
        await a.send("ping")
        assert await a.recv_text() == "pong"
        await a.send("ping")  # 2nd frame: not answered, connection aborted
        await assert_dropped(a)
        assert a.ws.close_code == 1006
        for _ in range(3):  # disarmed after the first connection
            await b.send("ping")
            assert await b.recv_text() == "pong"
    assert fsim.stats.faults_injected["close_after_frames"] == 1
    assert not fsim.faults.active


async def test_close_after_frames_each(fsim: Simulator) -> None:
    fsim.faults.close_after_frames(2, each=True)
    for _ in range(2):
        async with await RawClient.open(fsim.url("public")) as c:
            await c.send("ping")
            assert await c.recv_text() == "pong"
            await c.send("ping")
            await assert_dropped(c)
    assert fsim.stats.faults_injected["close_after_frames"] == 2
    with pytest.raises(ValueError):
        fsim.faults.close_after_frames(0)


async def test_drop_next_request_in_flight(fsim: Simulator) -> None:
    async with await logged_in(fsim) as c:
        fsim.faults.drop_next_request("order")
        await c.request("cancel-order", by_code("BTC-USDT", clOrdId="zz1"))  # other op: untouched
        await c.send({"id": "lost1", "op": "order", "args": [dict(ORDER, clOrdId="lost1")]})
        await assert_dropped(c)
    assert fsim.find_order("lost1") is None  # never executed
    assert fsim.stats.faults_injected["drop_request"] == 1
    assert fsim.stats.request_ids["lost1"] == 1
    async with await logged_in(fsim) as c2:  # one-shot
        assert (await c2.request("order", ORDER))["code"] == "0"


async def test_drop_any_request(fsim: Simulator) -> None:
    fsim.faults.drop_next_request()
    async with await logged_in(fsim, "business") as c:
        await c.send({"id": "x1", "op": "sprd-mass-cancel", "args": [{}]})
        await assert_dropped(c)


async def test_drop_after_execute_loses_reply_only(fsim: Simulator) -> None:
    async with await logged_in(fsim) as c:
        fsim.faults.drop_after_execute("order")
        await c.send({"id": "done1", "op": "order", "args": [dict(ORDER, clOrdId="done1")]})
        await assert_dropped(c)
    found = fsim.find_order(cl_ord_id="done1")
    assert found is not None and found["state"] == "live"
    assert fsim.stats.faults_injected["drop_reply"] == 1


async def test_swallow_pongs(fsim: Simulator) -> None:
    async with await RawClient.open(fsim.url("public")) as c:
        fsim.faults.swallow_pongs()
        await c.send("ping")
        with pytest.raises(asyncio.TimeoutError):
            await c.recv_text(timeout=0.2)
        fsim.faults.swallow_pongs(False)
        await c.send("ping")
        assert await c.recv_text() == "pong"
    assert fsim.stats.faults_injected["swallow_pong"] == 1
    assert fsim.stats.pings == 2 and fsim.stats.pongs_sent == 1


async def test_delay_replies(fsim: Simulator) -> None:
    async with await logged_in(fsim) as c:
        fsim.faults.delay_replies(0.15)
        t0 = time.monotonic()
        r = await c.request("order", ORDER)
        assert r["code"] == "0" and time.monotonic() - t0 >= 0.14
        fsim.faults.delay_replies(0)
        t0 = time.monotonic()
        await c.request("order", ORDER)
        assert time.monotonic() - t0 < 0.1
    assert fsim.stats.faults_injected["delay_reply"] == 1


async def test_delay_with_jitter_reorders(fsim: Simulator) -> None:
    async with await logged_in(fsim) as c:
        fsim.faults.delay_replies(0.0, jitter=0.1)
        ids = [f"j{i}" for i in range(20)]
        for rid in ids:
            await c.send({"id": rid, "op": "order", "args": [ORDER]})
        got = [(await c.recv())["id"] for _ in ids]
        assert sorted(got) == sorted(ids)
        assert got != ids  # seed 3: at least one pair swapped
    assert fsim.stats.faults_injected["delay_reply"] == 20


async def test_send_notice_then_close(fsim: Simulator) -> None:
    async with (
        await logged_in(fsim) as p,
        await logged_in(fsim, "business") as b,
        await RawClient.open(fsim.url("public")) as pub,
    ):
        fsim.faults.send_notice(close_after=0.05)
        for c in (p, b):
            notice = await c.recv()
            assert notice["event"] == "notice" and notice["code"] == "64008" and notice["connId"]
            await assert_dropped(c)
            assert c.ws.close_code == 1012
        await pub.send("ping")  # public untouched by default
        assert await pub.recv_text() == "pong"
    assert fsim.stats.faults_injected["notice"] == 2


async def test_send_malformed(fsim: Simulator) -> None:
    async with await RawClient.open(fsim.url("public")) as c:
        fsim.faults.send_malformed(3)
        frames = [await c.recv_text() for _ in range(3)]
        assert frames == ["{not json", '{"unexpected": true}', "{not json"]
        await c.send("ping")
        assert await c.recv_text() == "pong"
    assert fsim.stats.faults_injected["malformed"] == 3


async def test_refuse_logins(fsim: Simulator) -> None:
    fsim.faults.refuse_logins(2, code="60009")
    async with await RawClient.open(fsim.url("private")) as c:
        for _ in range(2):
            r = await c.login()
            assert (r["event"], r["code"]) == ("error", "60009")
        assert (await c.login())["code"] == "0"
    assert fsim.stats.faults_injected["refuse_login"] == 2
    assert fsim.stats.logins_failed == 2 and fsim.stats.logins_ok == 1


async def test_restart_drops_connections_keeps_port_and_state(fsim: Simulator) -> None:
    port = fsim.port
    c = await logged_in(fsim)
    await c.request("order", dict(ORDER, clOrdId="keep1"))
    await fsim.restart(down_for=0.05)
    await assert_dropped(c)
    await c.close()
    assert fsim.port == port
    async with await logged_in(fsim) as c2:
        r = await c2.request("cancel-order", by_code("BTC-USDT", clOrdId="keep1"))
        assert r["code"] == "0"
    assert fsim.stats.faults_injected["restart"] == 1


async def test_reset(fsim: Simulator) -> None:
    async with await logged_in(fsim) as c:
        await c.request("order", ORDER)
        fsim.faults.swallow_pongs()
        fsim.faults.drop_next_request("order")
        fsim.reset()
        assert not fsim.faults.active and fsim.orders() == [] and fsim.stats.requests_total == 0
        # the logged-in connection keeps working against the fresh state
        assert (await c.request("order", ORDER))["code"] == "0"
        assert len(fsim.orders()) == 1
        fsim.faults.delay_replies(1.0)
        fsim.faults.reset()
        assert not fsim.faults.active


async def test_fault_plan_needs_running_simulator() -> None:
    from okx_ws_sim import FaultPlan

    with pytest.raises(RuntimeError):
        FaultPlan().send_notice()


ONE_SHOT = ("drop_request", "drop_reply", "refuse_login", "rest_fail", "close_after_frames")


async def test_armed_versus_fired(fsim: Simulator) -> None:
    """armed() / pending() / discarded() use stats.faults_injected's kind names, and for
    one-shot kinds armed == fired + pending + discarded."""
    f = fsim.faults
    f.drop_next_request("order", count=3)
    f.drop_after_execute("cancel-order")
    f.refuse_logins(2)
    f.fail_rest(count=2)
    f.close_after_frames(100)
    async with await RawClient.open(fsim.url("private")) as c:
        assert [(await c.login())["code"] for _ in range(3)] == ["60009", "60009", "0"]
        await c.send({"id": "d1", "op": "order", "args": [ORDER]})
        await assert_dropped(c)
    assert (await http_get(fsim.rest_url + "/api/v5/public/time")).status == 503
    fired = fsim.stats.faults_injected
    assert f.armed() == {
        "drop_request": 3,
        "drop_reply": 1,
        "refuse_login": 2,
        "rest_fail": 2,
        "close_after_frames": 1,
    }
    assert fired == {"refuse_login": 2, "drop_request": 1, "rest_fail": 1}
    assert f.pending() == {
        "drop_request": 2,
        "drop_reply": 1,
        "rest_fail": 1,
        "close_after_frames": 1,
    }
    f.reset()  # what was pending is discarded, not forgotten
    assert f.pending() == {} and f.discarded() == {
        "drop_request": 2,
        "drop_reply": 1,
        "rest_fail": 1,
        "close_after_frames": 1,
    }
    for kind in ONE_SHOT:
        assert f.armed()[kind] == fired[kind] + f.pending()[kind] + f.discarded()[kind], kind
    f.refuse_logins(1)
    f.refuse_logins(1)  # replaces the first: it is discarded
    assert f.discarded()["refuse_login"] == 1 and f.pending()["refuse_login"] == 1
    await fsim.restart()
    assert f.armed()["restart"] == fired["restart"] == 1
    fsim.reset()
    assert f.armed() == {} and f.discarded() == {} and fsim.stats.faults_injected == {}


async def test_modes_and_broadcasts_are_armed_once_and_fire_per_frame(fsim: Simulator) -> None:
    f = fsim.faults
    async with await logged_in(fsim) as c, await RawClient.open(fsim.url("public")) as pub:
        f.swallow_pongs()
        f.swallow_pongs()  # already on: armed once
        for _ in range(2):
            await c.send("ping")
        await asyncio.sleep(0.05)
        assert f.armed()["swallow_pong"] == 1 and f.pending() == {}  # a mode, not shots
        assert fsim.stats.faults_injected["swallow_pong"] == 2
        f.swallow_pongs(False)
        f.reset()
        assert f.discarded() == {}
        f.send_malformed(n=2, kinds=("private",))  # one connection reached, two frames
        assert [await c.recv_text() for _ in range(2)] == ["{not json", '{"unexpected": true}']
        assert f.armed()["malformed"] == fsim.stats.faults_injected["malformed"] == 2
        f.send_notice(close_after=5.0)  # private and business: only `c` is open
        assert (await c.recv())["code"] == "64008"
        assert f.armed()["notice"] == fsim.stats.faults_injected["notice"] == 1
        await pub.send("ping")
        assert await pub.recv_text() == "pong"
