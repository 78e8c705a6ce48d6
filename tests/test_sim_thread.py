"""SimulatorThread from blocking code, and the standalone entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from okx_ws_sim import SimulatorThread, login_args
from okx_ws_sim.testing import SAMPLE_ORDER

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
        [sys.executable, "-m", "okx_ws_sim", "--port", "0", "--legacy-inst-id"],
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
        lines = [proc.stdout.readline() for _ in range(7)]
        assert any("api key" in line for line in lines)
        rest = next(line for line in lines if "rest:" in line).split()[-1]
        assert rest.startswith("http://127.0.0.1:") and "instType=SPOT" in rest
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
