"""SimulatorThread from blocking code, and the standalone entry point."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from okx_ws_core.client.loop_thread import LoopThread
from okx_ws_sim import SimulatorThread, login_args
from okx_ws_sim.testing import SAMPLE_ORDER
from tests.conftest import wait_until

ORDER: dict[str, Any] = dict(SAMPLE_ORDER)


def test_thread_blocking_roundtrip() -> None:
    with SimulatorThread(idle_timeout=5, seed=1) as sim, connect(sim.url("private")) as ws:
        assert sim.base_url.startswith("ws://127.0.0.1:")
        ws.send("ping")
        assert ws.recv(timeout=2) == "pong"
        ws.send(json.dumps({"op": "login", "args": [login_args()]}))
        assert json.loads(ws.recv(timeout=2))["code"] == "0"
        ws.send(json.dumps({"id": "t1", "op": "order", "args": [dict(ORDER, clOrdId="th1")]}))
        assert json.loads(ws.recv(timeout=2))["code"] == "0"
        assert [o["clOrdId"] for o in sim.orders()] == ["th1"]
        assert sim.find_order(cl_ord_id="th1") is not None
        assert sim.balances()["USDT"]["frozenBal"] == "400"
        assert sim.connection_count("private") == 1
        stats = sim.stats
        assert stats.requests_by_op["order"] == 1 and stats.logins_ok == 1


def test_thread_faults_and_restart() -> None:
    with SimulatorThread() as sim:
        with connect(sim.url("public")) as ws:
            sim.faults.swallow_pongs()
            assert sim.faults.active is True
            ws.send("ping")
            with pytest.raises(TimeoutError):
                ws.recv(timeout=0.2)
            sim.faults.reset()
            sim.faults.send_malformed(1)
            assert ws.recv(timeout=2) == "{not json"
            port = sim.port
            sim.restart()
            with pytest.raises(ConnectionClosed):
                ws.recv(timeout=2)
        assert sim.port == port
        with connect(sim.url("public")) as ws2:
            ws2.send("ping")
            assert ws2.recv(timeout=2) == "pong"
        assert sim.stats.faults_injected["restart"] == 1
        sim.reset()
        assert sim.stats.faults_injected["restart"] == 0


def test_thread_not_started() -> None:
    sim = SimulatorThread()
    with pytest.raises(RuntimeError):
        sim.orders()
    sim.stop()  # no-op


def test_main_prints_url_and_credentials() -> None:
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([".", "generated", os.environ.get("PYTHONPATH", "")])
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "okx_ws_sim", "--port", "0", "--legacy-inst-id", "--no-rate-limits"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("okx_ws_sim listening on ws://127.0.0.1:")
        url = first.split()[-1]
        lines = [proc.stdout.readline() for _ in range(8)]
        assert any("api key" in line for line in lines)
        rest = next(line for line in lines if "rest:" in line).split()[-1]
        assert rest.startswith("http://127.0.0.1:") and "instType=SPOT" in rest
        clock = next(line for line in lines if "time:" in line).split()[-1]
        assert clock == rest.partition("/api")[0] + "/api/v5/public/time"
        deadline = time.monotonic() + 5
        with connect(url + "/ws/v5/public") as ws:
            ws.send("ping")
            assert ws.recv(timeout=2) == "pong"
        with connect(url + "/ws/v5/private") as ws:  # --legacy-inst-id: instId alone is fine
            ws.send(json.dumps({"op": "login", "args": [login_args()]}))
            assert json.loads(ws.recv(timeout=2))["code"] == "0"
            legacy = {k: v for k, v in ORDER.items() if k != "instIdCode"}
            ws.send(
                json.dumps({"id": "L1", "op": "order", "args": [dict(legacy, instId="BTC-USDT")]})
            )
            assert json.loads(ws.recv(timeout=2))["code"] == "0"
        assert time.monotonic() < deadline
    finally:
        proc.terminate()
        proc.communicate(timeout=5)


def test_thread_run_times_out_and_cancels() -> None:
    with SimulatorThread() as sim:
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            sim.run(asyncio.sleep(10), timeout=0.1)
        assert time.monotonic() - started < 2
        # The task is cancelled on the loop, asynchronously: it ends a loop pass after the
        # cancel, which a call queued right behind it may precede (it then sees 2 tasks).
        wait_until(  # the sweeper alone
            lambda: sim.call(lambda: len(asyncio.all_tasks())) == 1,
            "the timed-out task was cancelled",
            2,
        )
        assert sim.faults.armed() == {}  # the proxy forwards the tallies too


def test_loop_thread_refuses_to_block_on_itself() -> None:
    thread = LoopThread("self-block")
    try:

        def nested() -> None:
            thread.run(asyncio.sleep(0))

        with pytest.raises(RuntimeError, match="own loop thread"):
            thread.call(nested)
    finally:
        thread.stop()
    thread.stop()  # idempotent
    with pytest.raises(RuntimeError, match="stopped"):
        thread.run(asyncio.sleep(0))


def test_loop_thread_cancels_tasks_before_closing_their_async_generators() -> None:
    """asyncio.run's order: a task suspended inside an async generator is cancelled
    first (its generator closes with it); finalizing generators first would call
    aclose() on one that is running and report an error."""
    thread = LoopThread("shutdown-order")
    problems: list[str] = []
    closed: list[bool] = []
    thread.loop.set_exception_handler(lambda loop, ctx: problems.append(str(ctx["message"])))

    async def ticks() -> Any:
        try:
            while True:
                await asyncio.sleep(3600)
                yield 1
        finally:
            closed.append(True)

    async def consume() -> None:
        async for _ in ticks():
            pass

    thread.call(lambda: thread.loop.create_task(consume()) and None)
    time.sleep(0.05)
    thread.stop()
    assert closed == [True] and problems == []
    assert thread.loop.is_closed() and not thread.thread.is_alive()
